// The request pipeline of Cinder's v3 API, in Cinder's order:
//   oslo RequestId (x-openstack-request-id on every answer) → FaultWrapper → sizelimit (413)
//   → auth (noauth 204 / context) → router (unknown path or method: webob 404)
//   → wsgi.Resource: API version header → Content-Type → action dispatch (/action) or method
//     → body deserialisation → URL project_id check → controller (schema, lookup, policy, call)
//   → serialisation with OpenStack-API-Version/Vary/x-compute-request-id headers.
// Fastify's own body parsing and error bodies are bypassed: the body is read raw in preParsing,
// so no Fastify 400/415/413 JSON can leak, and every error leaves through sendFault().
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../common/context.js';
import type { Logger } from '../common/log.js';
import type { Authenticator } from './auth.js';
import { globalRequestId } from './auth.js';
import { GENERIC_500, HttpFault, PyTypeError, faultBody, faultFromError } from './faults.js';
import { parseVersionHeader, versionHeaders } from './microversion.js';
import { pyLen, pyParse, toPlain } from '../common/python.js';
import type { ViewRequest } from './views.js';
import { SUPPORTED_CONTENT_TYPES, bestMatchContentType, webobErrorResponse } from './webob.js';

/** oslo.middleware sizelimit: [oslo_middleware] max_request_body_size default. */
export const MAX_REQUEST_BODY_SIZE = 114688;

export interface CinderState {
  ctx: RequestContext | null;
  globalRequestId: string | null;
  /** Version label for the response headers; null until (or unless) the header parsed. */
  versionLabel: string | null;
  /** Parsed version as major*1000+minor. */
  version: number;
  rawBody: Buffer;
  /** The Content-Type header as sent (Fastify never sees it). */
  contentType: string | undefined;
  /**
   * Outside /v3: the `apiversions` paste pipeline (cors, faultwrap, the Versions router), which has
   * no request-id middleware, no size limit and no auth, so no context and no request-id headers.
   */
  root: boolean;
  /** The volume action a request named, once it is known to exist (a metrics label). */
  action?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    cinder: CinderState;
  }
}

const EMPTY = Buffer.alloc(0);

/** A webob exception answered by webob (not a Cinder fault): 404 from the router, 413 size limit. */
export class WebobAnswer extends Error {
  constructor(
    readonly status: number,
    readonly explanation: string,
  ) {
    super(explanation);
    this.name = 'WebobAnswer';
  }
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** paste.urlmap: `/v3` owns `/v3` and everything below `/v3/`; every other path is the root app's. */
export function isV3Path(url: string): boolean {
  const q = url.indexOf('?');
  const p = q < 0 ? url : url.slice(0, q);
  return p === '/v3' || p.startsWith('/v3/');
}

/** webob host_url: scheme://Host, default port dropped. */
export function hostUrl(req: FastifyRequest): string {
  const scheme = req.protocol;
  let host = headerOf(req, 'host') ?? `${req.socket.localAddress ?? 'localhost'}:${req.socket.localPort ?? ''}`;
  const m = /^(.*):(\d+)$/.exec(host);
  if (m && !host.endsWith(']') && ((scheme === 'http' && m[2] === '80') || (scheme === 'https' && m[2] === '443'))) {
    host = m[1];
  }
  return `${scheme}://${host}`;
}

/** webob `req.url`: host_url + path + query. */
export function requestUrl(req: FastifyRequest): string {
  return hostUrl(req) + req.url;
}

/** What the views need: application_url (with X-Forwarded-Host as common.get_request_url does). */
export function viewRequest(req: FastifyRequest, ctx: RequestContext, version: number): ViewRequest {
  let base = hostUrl(req);
  const fwd = headerOf(req, 'x-forwarded-host');
  if (fwd) base = `${req.protocol}://${fwd.split(/,\s?/).pop()}`;
  const q = req.url.indexOf('?');
  const query = q < 0 ? [] : [...new URLSearchParams(req.url.slice(q + 1))];
  return { ctx, version, applicationUrl: `${base}/v3`, url: requestUrl(req), query };
}

function sendWebob(req: FastifyRequest, reply: FastifyReply, status: number, explanation: string): FastifyReply {
  const r = webobErrorResponse(status, explanation, headerOf(req, 'accept'), req.method === 'HEAD');
  reply.code(r.status).header('Content-Type', r.contentType);
  if (!req.cinder?.root) reply.header('x-openstack-request-id', req.id);
  return reply.send(Buffer.from(r.body));
}

/** The router found nothing: webob's plain 404 (no JSON fault, no version headers). */
export function sendNotFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendWebob(req, reply, 404, 'The resource could not be found.');
}

function commonHeaders(req: FastifyRequest, reply: FastifyReply, withComputeId: boolean): void {
  const vh = versionHeaders(req.cinder?.versionLabel ?? null);
  if (vh) reply.headers(vh);
  // The root app has neither a context (x-compute-request-id) nor the RequestId middleware.
  if (req.cinder?.root) return;
  if (withComputeId) reply.header('x-compute-request-id', req.id);
  reply.header('x-openstack-request-id', req.id);
}

/** Render an exception as Cinder's fault (wsgi.Fault) and log it as Cinder does. */
export function sendFault(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { status, message } = faultFromError(err);
  if (status >= 500) req.log.error({ err }, 'Caught error: %s', (err as Error)?.message ?? String(err));
  else req.log.info('HTTP exception thrown: %s', message);
  reply.code(status).header('Content-Type', 'application/json');
  // FaultWrapper copies an exception's `headers` (QuotaError's Retry-After: 0) onto the answer.
  // A webob HTTPException built with headers= (an HttpFault here) carries its own.
  const headers = err instanceof HttpFault ? err.headers : (err as { constructor?: { headers?: Record<string, string> } })?.constructor?.headers;
  if (err instanceof Error && headers) for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  commonHeaders(req, reply, true);
  return reply.send(Buffer.from(faultBody(status, message)));
}

// ---- the Resource --------------------------------------------------------------------------------

export const MALFORMED_BODY = 'Malformed request body';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface ParsedBody {
  value: unknown;
  text: string;
}

/**
 * Python's json decoder recurses once per nested array/object, within sys.getrecursionlimit()
 * (1000) minus the frames already on the stack, and its RecursionError is no ValueError: it escapes
 * action_peek_json / JSONDeserializer._from_json and the Resource, and FaultWrapper answers 500.
 * Measured on Cinder 21.3.1's own v3 APIRouter behind NoAuthMiddleware and FaultWrapper: 962
 * nested containers parse, 963 are a 500 (a deployed eventlet stack has a few more frames, so its
 * limit is a little lower; over ~1000 levels every Cinder answers 500).
 */
export const PY_JSON_MAX_NESTING = 962;

/** True when the JSON text opens more than `max` arrays/objects at once (strings skipped). */
export function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** jsonutils.loads: strict UTF-8, Python's json (NaN/Infinity allowed); anything else is malformed. */
export function parseJsonBody(raw: Buffer): ParsedBody {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new HttpFault(400, MALFORMED_BODY);
  }
  // Only a text this long can nest that deep; a RecursionError is a 500 (FaultWrapper).
  if (text.length > PY_JSON_MAX_NESTING && nestingExceeds(text, PY_JSON_MAX_NESTING)) {
    throw new Error('RecursionError: maximum recursion depth exceeded while decoding a JSON array from a unicode string');
  }
  try {
    return { value: JSON.parse(text), text };
  } catch {
    try {
      return { value: toPlain(pyParse(text)), text };
    } catch {
      throw new HttpFault(400, MALFORMED_BODY);
    }
  }
}

/**
 * action_peek_json + get_method: the body must be an object with exactly one key. Python's len()
 * on anything else: a 1-element list or 1-character string has no .keys() (AttributeError) and a
 * number/bool/null has no len() (TypeError); both end as a bare 404.
 */
function peekAction(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length !== 1) throw new HttpFault(400, MALFORMED_BODY);
    return keys[0];
  }
  if (Array.isArray(v)) {
    if (v.length !== 1) throw new HttpFault(400, MALFORMED_BODY);
    throw new HttpFault(404);
  }
  if (typeof v === 'string') {
    if (pyLen(v) !== 1) throw new HttpFault(400, MALFORMED_BODY);
    throw new HttpFault(404);
  }
  throw new HttpFault(404);
}

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

// ---- hooks ---------------------------------------------------------------------------------------

/** Collect a request body (events, not async iteration: this is on every request's path). */
function readBody(stream: NodeJS.ReadableStream, max: number, cb: (err: Error | null, body?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err: Error | null, body?: Buffer) => {
    if (finished) return;
    finished = true;
    stream.removeListener('data', onData);
    stream.removeListener('end', onEnd);
    stream.removeListener('error', onError);
    cb(err, body);
  };
  const onData = (chunk: Buffer | string) => {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    if (size > max) {
      finish(new WebobAnswer(413, `Request is too large. Larger than max_request_body_size (${max}).`));
      return;
    }
    chunks.push(b);
  };
  const onEnd = () => finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  const onError = (err: Error) => finish(err);
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
}

export interface PipelineOptions {
  authenticator: Authenticator;
  maxRequestBodySize?: number;
}

/** Hooks that run for every request, matched or not (the 404 handler runs them too). */
export function registerPipeline(app: FastifyInstance, opts: PipelineOptions): void {
  const max = opts.maxRequestBodySize ?? MAX_REQUEST_BODY_SIZE;
  app.decorateRequest('cinder', null as unknown as CinderState);

  app.addHook('onRequest', async (req, reply) => {
    req.cinder = {
      ctx: null,
      globalRequestId: globalRequestId(req.headers),
      versionLabel: null,
      version: 0,
      rawBody: EMPTY,
      contentType: undefined,
      root: !isV3Path(req.url),
    };
    // The root app (GET / version list) runs without RequestId, sizelimit and auth middleware.
    if (req.cinder.root) return;
    reply.header('x-openstack-request-id', req.id);

    const cl = headerOf(req, 'content-length');
    if (cl !== undefined && Number(cl) > max) {
      return sendWebob(req, reply, 413, `Request is too large. Larger than max_request_body_size (${max}).`);
    }

    const out = await opts.authenticator.authenticate({
      headers: req.headers,
      url: requestUrl(req),
      remoteAddress: req.socket?.remoteAddress ?? null,
      requestId: req.id,
      globalRequestId: req.cinder.globalRequestId,
      method: req.method,
    });
    if (!out.ok) {
      reply.code(out.status).headers(out.headers);
      return reply.send(out.body);
    }
    req.cinder.ctx = out.ctx;
  });

  // Read the body ourselves, for every method (Cinder reads GET/DELETE bodies too), and hide it
  // from Fastify so that its content-type parsers and their error bodies never run.
  app.addHook('preParsing', (req, _reply, payload, done) => {
    const h = req.raw.headers;
    req.cinder.contentType = headerOf(req, 'content-type');
    const te = h['transfer-encoding'];
    const cl = h['content-length'];
    delete h['content-type'];
    delete h['content-length'];
    delete h['transfer-encoding'];
    if (te === undefined && (cl === undefined || cl === '0')) {
      done(null, payload);
      return;
    }
    readBody(payload, max, (err, body) => {
      if (err) return done(err);
      req.cinder.rawBody = body!;
      done(null, payload);
    });
  });

  app.setNotFoundHandler((req, reply) => sendNotFound(req, reply));

  // Anything that escaped a controller or hook: a Cinder fault, never Fastify's JSON.
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof WebobAnswer) return sendWebob(req, reply, err.status, err.explanation);
    if (!req.cinder) {
      reply.code(500).header('Content-Type', 'application/json');
      if (!isV3Path(req.url)) return reply.send(Buffer.from(faultBody(500, GENERIC_500)));
      reply.header('x-openstack-request-id', req.id);
      return reply.send(Buffer.from(faultBody(500, GENERIC_500)));
    }
    return sendFault(req, reply, err);
  });

  app.addHook('onResponse', (req, reply, done) => {
    req.log.info('%s %s returned with HTTP %d', req.method, req.url, reply.statusCode);
    done();
  });
}
