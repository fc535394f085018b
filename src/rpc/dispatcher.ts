// oslo.messaging's RPCDispatcher for a single endpoint (Cinder's VolumeManager, target version
// 3.18, namespace None), applied to a decoded request:
//   1. version (default '1.0') must be compatible and namespace must match, else UnsupportedVersion;
//   2. the method must exist and be public (no leading '_'), else NoSuchMethod;
//   3. only then the context is rebuilt (from_dict; may raise ValueError) and the args hydrated
//      (OVO errors surface here), and the method is called.
import type { RequestContext } from '../common/context.js';
import { contextFromDict, splitContext } from './context-codec.js';
import type { WireMessage } from './envelope.js';
import { NoSuchMethod, PyValueError, UnsupportedVersion } from './errors.js';
import { deserializeEntity } from './ovo.js';
import { versionIsCompatible } from './version.js';

export type RpcHandler = (ctx: RequestContext, args: Record<string, unknown>) => unknown;

export interface Endpoint {
  /** The implemented RPC API version, e.g. '3.18'. */
  version: string;
  /** oslo Target namespace; Cinder uses none (null). */
  namespace?: string | null;
  methods: Record<string, RpcHandler>;
}

/** The parts of a request the server uses, popped as oslo's AMQP listener does. */
export interface IncomingRequest {
  method: unknown;
  version: unknown;
  namespace: unknown;
  args: unknown;
  ctx: Record<string, unknown>;
  msgId: string | null;
  replyQ: string | null;
  /** `_timeout`: the call-monitor timeout in seconds, if the caller asked for heartbeats. */
  timeout: unknown;
  uniqueId: string | null;
}

const strOrNull = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

export function parseRequest(msg: WireMessage): IncomingRequest {
  const { ctx, rest } = splitContext(msg);
  return {
    method: rest.method,
    version: rest.version ?? '1.0',
    namespace: rest.namespace ?? null,
    args: rest.args ?? {},
    ctx,
    msgId: strOrNull(rest._msg_id),
    replyQ: strOrNull(rest._reply_q),
    timeout: rest._timeout ?? null,
    uniqueId: strOrNull(rest._unique_id),
  };
}

/** Steps 1-2: the handler to run, or the dispatcher error oslo would raise. */
export function resolveHandler(endpoint: Endpoint, req: Pick<IncomingRequest, 'method' | 'version' | 'namespace'>): RpcHandler {
  const method = String(req.method);
  const version = typeof req.version === 'string' ? req.version : String(req.version);
  if ((endpoint.namespace ?? null) !== req.namespace || !versionIsCompatible(endpoint.version, req.version)) {
    throw new UnsupportedVersion(version, method);
  }
  if (typeof req.method !== 'string' || method.startsWith('_') || !Object.hasOwn(endpoint.methods, method)) {
    throw new NoSuchMethod(method);
  }
  return endpoint.methods[method];
}

/** Steps 1-3; resolves to the handler's (unserialized) result and the rebuilt context. */
export async function dispatch(endpoint: Endpoint, req: IncomingRequest): Promise<{ result: unknown; ctx: RequestContext }> {
  const handler = resolveHandler(endpoint, req);
  const ctx = contextFromDict(req.ctx);
  if (typeof req.args !== 'object' || req.args === null || Array.isArray(req.args)) throw new PyValueError('args must be a dict');
  const args = deserializeEntity(req.args) as Record<string, unknown>;
  const result = await handler(ctx, args);
  return { result, ctx };
}
