// The request pipeline of Cinder's v3 API, in Cinder's order:
//   oslo RequestId (x-openstack-request-id on every answer) → FaultWrapper → sizelimit (413)
//   → auth (noauth 204 / context) → router (unknown path or method: webob 404)
//   → wsgi.Resource (resource.ts): API version header → Content-Type → action dispatch (/action)
//     or method → body deserialisation (deserializer.ts) → URL project_id check → controller
//   → serialisation with OpenStack-API-Version/Vary/x-compute-request-id headers.
// This file registers the hooks in front of the Resource (request id, sizelimit, auth, the
// FaultWrapper error handler) and the answers every step shares (sendFault, webob's 404/413).
// Fastify's own body parsing and error bodies are bypassed: the body is read raw in preParsing,
// so no Fastify 400/415/413 JSON can leak, and every error leaves through sendFault().
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../common/context.js';
import type { Authenticator } from './auth.js';
import { globalRequestId } from './auth.js';
import { GENERIC_500, HttpFault, faultBody, faultFromError } from './faults.js';
import { versionHeaders } from './microversion.js';
import type { ViewRequest } from './views.js';
import { webobErrorResponse } from './webob.js';

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

export const EMPTY = Buffer.alloc(0);

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

export function headerOf(req: FastifyRequest, name: string): string | undefined {
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

export function commonHeaders(req: FastifyRequest, reply: FastifyReply, withComputeId: boolean): void {
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
