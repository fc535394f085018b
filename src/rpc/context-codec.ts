// RequestContext <-> the flattened `_context_*` keys of an oslo message.
// Encoding mirrors cinder.context.RequestContext.to_dict() (oslo.context's keys first, then
// Cinder's), which oslo prefixes with `_context_`. Fixture 01 shows the 28 keys Cinder 21 sends.
// Our RequestContext has no slot for the fields Cinder always sends as defaults here (system_scope,
// domain, read_only, show_deleted, resource_uuid, quota_class, message_*), so they
// go out with those defaults and are not kept on receipt (Python's from_dict drops most too).
// Decoding mirrors RequestContext.from_dict: read_deleted is required (Python raises ValueError).
import { filterCatalog, makeContext, naiveIsoNow, newRequestId, type RequestContext } from '../common/context.js';
import { PyValueError } from './errors.js';

export const CONTEXT_PREFIX = '_context_';

/** The keys of Cinder 21's to_dict(), in its order. */
export const CONTEXT_KEYS = [
  'user', 'project_id', 'system_scope', 'project', 'domain', 'user_domain', 'project_domain', 'is_admin',
  'read_only', 'show_deleted', 'auth_token', 'request_id', 'global_request_id', 'resource_uuid', 'roles',
  'user_identity', 'is_admin_project', 'user_id', 'project_name', 'domain_id', 'read_deleted', 'remote_address',
  'timestamp', 'quota_class', 'service_catalog', 'message_resource_id', 'message_resource_type', 'message_action',
] as const;

/** oslo.context user_identity: "user project domain user_domain project_domain", '-' for empty. */
function userIdentity(ctx: RequestContext): string {
  return [ctx.user_id, ctx.project_id, null, ctx.user_domain, ctx.project_domain].map((v) => v || '-').join(' ');
}

/** Cinder's RequestContext.to_dict(), unprefixed. */
export function contextToDict(ctx: RequestContext): Record<string, unknown> {
  return {
    user: ctx.user_id,
    project_id: ctx.project_id,
    system_scope: null,
    project: ctx.project_id,
    domain: null,
    user_domain: ctx.user_domain,
    project_domain: ctx.project_domain,
    is_admin: ctx.is_admin,
    read_only: false,
    show_deleted: false,
    auth_token: ctx.auth_token,
    request_id: ctx.request_id,
    global_request_id: ctx.global_request_id,
    resource_uuid: null,
    roles: [...ctx.roles],
    user_identity: userIdentity(ctx),
    is_admin_project: ctx.is_admin_project,
    user_id: ctx.user_id,
    project_name: ctx.project_name,
    domain_id: null,
    read_deleted: ctx.read_deleted,
    remote_address: ctx.remote_address,
    timestamp: ctx.timestamp,
    quota_class: null,
    service_catalog: ctx.service_catalog,
    message_resource_id: null,
    message_resource_type: null,
    message_action: null,
  };
}

/** The `_context_*` keys to merge into an outgoing message. */
export function contextToWire(ctx: RequestContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(contextToDict(ctx))) out[CONTEXT_PREFIX + k] = v;
  return out;
}

/** Split a received message into its context dict (prefix stripped) and the rest. */
export function splitContext(msg: Record<string, unknown>): { ctx: Record<string, unknown>; rest: Record<string, unknown> } {
  const ctx: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg)) {
    if (k.startsWith(CONTEXT_PREFIX)) ctx[k.slice(CONTEXT_PREFIX.length)] = v;
    else rest[k] = v;
  }
  return { ctx, rest };
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : v === null || v === undefined ? null : String(v);
}

/** Python repr of the offending value, for the ValueError text Cinder produces. */
function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return `'${v}'`;
  return JSON.stringify(v);
}

/** cinder.context.RequestContext.from_dict (unprefixed keys). Throws PyValueError like Cinder. */
export function contextFromDict(d: Record<string, unknown>): RequestContext {
  const readDeleted = d.read_deleted;
  if (readDeleted !== 'no' && readDeleted !== 'yes' && readDeleted !== 'only') {
    throw new PyValueError(`read_deleted can only be one of 'no', 'yes' or 'only', not ${pyRepr(readDeleted)}`);
  }
  const roles = Array.isArray(d.roles) ? d.roles.map(String) : [];
  const base: Partial<RequestContext> & Pick<RequestContext, 'user_id' | 'project_id'> = {
    user_id: str(d.user_id ?? d.user),
    project_id: str(d.project_id ?? d.project),
    project_name: str(d.project_name),
    roles,
    request_id: str(d.request_id) ?? newRequestId(),
    global_request_id: str(d.global_request_id),
    auth_token: str(d.auth_token),
    read_deleted: readDeleted,
    remote_address: str(d.remote_address),
    timestamp: str(d.timestamp) ?? naiveIsoNow(),
    user_domain: str(d.user_domain ?? d.user_domain_id),
    project_domain: str(d.project_domain ?? d.project_domain_id),
    service_catalog: filterCatalog(d.service_catalog),
    // Not sent by Cinder; a TS peer may send it.
    service_roles: Array.isArray(d.service_roles) ? d.service_roles.map(String) : [],
  };
  // With is_admin missing, Cinder derives it from policy (context_is_admin = role:admin).
  if (typeof d.is_admin === 'boolean') base.is_admin = d.is_admin;
  if (typeof d.is_admin_project === 'boolean') base.is_admin_project = d.is_admin_project;
  return makeContext(base);
}

/** The context carried by a received message. */
export function contextFromWire(msg: Record<string, unknown>): RequestContext {
  return contextFromDict(splitContext(msg).ctx);
}
