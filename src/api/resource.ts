// cinder/api/openstack/wsgi.py Resource for one matched route, in Cinder's order (Resource.__call__,
// _process_stack, get_method, dispatch): API version header → Content-Type → action dispatch
// (/action: action_peek_json) or method → body deserialisation (deserializer.ts) → URL project_id
// check → controller (schema, lookup, policy, call) → serialisation with the OpenStack-API-Version,
// Vary and x-compute-request-id headers. A Cinder exception from any step leaves as its fault
// (ResourceExceptionHandler / FaultWrapper: pipeline.ts sendFault).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../common/context.js';
import type { Logger } from '../common/log.js';
import { parseJsonBody, peekAction, type ParsedBody } from './deserializer.js';
import { HttpFault, PyTypeError } from './faults.js';
import { parseVersionHeader } from './microversion.js';
import { EMPTY, commonHeaders, headerOf, sendFault, sendNotFound } from './pipeline.js';
import { SUPPORTED_CONTENT_TYPES, bestMatchContentType } from './webob.js';

function noSuchAction(name: string): HttpFault {
  return new HttpFault(400, `There is no such action: ${name}. Verify the request body and Content-Type header and try again.`);
}

/** What a controller returns. */
export type ResourceResult =
  /** A dict (or None) serialised with the negotiated Content-Type (ResponseObject). */
  | { kind: 'object'; status: number; body: unknown }
  /** A bare webob.Response (DELETE /volumes): text/html, no x-compute-request-id; optionally a body and headers (an Etag). */
  | { kind: 'raw'; status: number; body?: string; headers?: Record<string, string> };

export interface ResourceCall {
  req: FastifyRequest;
  ctx: RequestContext;
  version: number;
  log: Logger;
  /** Deserialised body (the whole `{"<action>": ...}` for actions); undefined when none. */
  body: unknown;
  /** The body text, for the Python view of a failed validation. */
  bodyText: string | null;
  params: Record<string, string>;
}

export type Controller = (call: ResourceCall) => Promise<ResourceResult>;

/** An action, optionally gated by `@api_version(min)` (a lower version is a 404 fault). */
export type ActionEntry = Controller | { controller: Controller; minVersion: number };

export type ResourceMethod =
  | { kind: 'action'; actions: ReadonlyMap<string, ActionEntry> }
  /**
   * takesBody: 'none' (show/index/delete: a body is a TypeError) or 'required' (create).
   * minVersion: `@api_version(min)`, checked at dispatch, i.e. after the URL project check and
   * before the body is bound (a lower version is a 404 fault).
   */
  | { kind: 'method'; takesBody: 'none' | 'required'; controller: Controller; minVersion?: number }
  /** A route whose controller method does not exist (e.g. attachments `summary`): 404 fault. */
  | { kind: 'absent' };

/** project_id in URLs must match [DEFAULT] project_id_regex (default [0-9a-f\-]+) or no route matches. */
const PROJECT_ID_RE = /^[0-9a-f-]+$/;

type RouteParams = Record<string, string | undefined>;

/**
 * The routes of one resource, each under `/v3/{project_id}/<base>` and `/v3/<base>` (Cinder's
 * APIRouter maps both) and run through runResource; `params` picks the controller's arguments from
 * the path (default: `id` when the path has one).
 */
export function resourceRoutes(
  app: FastifyInstance,
  base: string,
  params: (p: RouteParams) => Record<string, string> = (p): Record<string, string> => (p.id !== undefined ? { id: p.id } : {}),
): (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, rm: ResourceMethod) => void {
  return (method, path, rm) => {
    for (const prefix of ['/v3/:project_id', '/v3']) {
      app.route<{ Params: RouteParams }>({
        method,
        url: `${prefix}${base}${path}`,
        handler: (req, reply) => runResource(req, reply, rm, params(req.params), prefix === '/v3' ? undefined : req.params.project_id),
      });
    }
  };
}

/** Run wsgi.Resource for a matched route. `projectId` is the URL segment, if the route has one. */
export async function runResource(
  req: FastifyRequest,
  reply: FastifyReply,
  method: ResourceMethod,
  params: Record<string, string>,
  projectId: string | undefined,
): Promise<FastifyReply> {
  // routes.Mapper: project_id must match the regex, and no path segment may be empty.
  if (projectId !== undefined && !PROJECT_ID_RE.test(projectId)) return sendNotFound(req, reply);
  for (const k in params) if (params[k] === '') return sendNotFound(req, reply);
  const st = req.cinder;
  // null only for the root app's resources (the version documents), which never read it.
  const ctx = st.ctx as RequestContext;

  // 1. API version.
  const vo = parseVersionHeader(headerOf(req, 'openstack-api-version'));
  st.versionLabel = vo.label;
  if (vo.error) return sendFault(req, reply, vo.error);
  st.version = vo.version;

  try {
    // 2. Content type, only looked at when there is a body.
    let contentType: string | null = null;
    if (st.rawBody.length > 0 && st.contentType !== undefined) {
      const media = st.contentType.split(';', 1)[0]; // webob: no stripping
      if (!(SUPPORTED_CONTENT_TYPES as readonly string[]).includes(media)) {
        throw new HttpFault(415, 'Unsupported Content-Type');
      }
      contentType = media;
    }
    const accept = bestMatchContentType(headerOf(req, 'accept'));

    // 3. Method / action lookup, 4. deserialisation.
    let controller: Controller;
    let minVersion = 0;
    let parsed: ParsedBody | null = null;
    if (method.kind === 'absent') throw new HttpFault(404);
    if (method.kind === 'action') {
      if (contentType === null) throw noSuchAction('None');
      parsed = parseJsonBody(st.rawBody);
      const name = peekAction(parsed.value);
      const c = method.actions.get(name);
      if (!c) throw noSuchAction(name);
      st.action = name;
      if (typeof c === 'function') controller = c;
      else ({ controller, minVersion } = c);
    } else {
      controller = method.controller;
      minVersion = method.minVersion ?? 0;
      if (contentType !== null) parsed = parseJsonBody(st.rawBody);
    }

    // 5. The URL's project must be the token's (admins included).
    if (projectId && projectId !== ctx.project_id) throw new HttpFault(400, 'Malformed request url');

    // 5b. Dispatch: a microversion-gated method below its version "does not exist".
    if (st.version < minVersion) throw new HttpFault(404);

    // 6. Controller. A body given to a method without one is a Python TypeError (400); a
    // missing body for one that needs it is a KeyError (500).
    if (method.kind === 'method') {
      if (method.takesBody === 'none' && parsed !== null) throw new PyTypeError('unexpected body');
      if (method.takesBody === 'required' && parsed === null) throw new Error("KeyError: 'body'");
    }
    const result = await controller({
      req,
      ctx,
      version: st.version,
      log: req.log as unknown as Logger,
      body: parsed?.value,
      bodyText: parsed?.text ?? null,
      params,
    });

    // 7. Serialisation.
    if (result.kind === 'raw') {
      reply.code(result.status).header('Content-Type', 'text/html; charset=UTF-8');
      commonHeaders(req, reply, false);
      if (result.headers) reply.headers(result.headers);
      return reply.send(result.body !== undefined ? Buffer.from(result.body) : EMPTY);
    }
    reply.code(result.status).header('Content-Type', accept);
    commonHeaders(req, reply, true);
    // A 204 (os-complete) keeps webob's Content-Type; Fastify drops it when a payload is given.
    if (result.status === 204) return reply.send();
    // Buffers, so Fastify leaves Cinder's bare `application/json` (no charset) alone.
    return reply.send(result.body === null || result.body === undefined ? EMPTY : Buffer.from(JSON.stringify(result.body)));
  } catch (err) {
    return sendFault(req, reply, err);
  }
}
