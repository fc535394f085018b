// cinder.context.RequestContext: who is calling, carried from the API through RPC to the manager.
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  user_id: string | null;
  project_id: string | null;
  project_name: string | null;
  roles: string[];
  /** Derived from policy `context_is_admin` (role:admin), or forced true (noauth, elevated). */
  is_admin: boolean;
  is_admin_project: boolean;
  /** Roles of a validated X-Service-Token (keystonemiddleware's X-Service-Roles). */
  service_roles: string[];
  request_id: string;
  global_request_id: string | null;
  auth_token: string | null;
  read_deleted: 'no' | 'yes' | 'only';
  remote_address: string | null;
  /** Naive UTC ISO with microseconds, as Cinder's to_dict sends it. */
  timestamp: string;
  user_domain: string | null;
  project_domain: string | null;
}

export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

export function naiveIsoNow(d: Date = new Date()): string {
  return d.toISOString().replace('Z', '000');
}

export function makeContext(p: Partial<RequestContext> & Pick<RequestContext, 'user_id' | 'project_id'>): RequestContext {
  const roles = p.roles ?? [];
  return {
    project_name: null,
    is_admin: roles.some((r) => r.toLowerCase() === 'admin'),
    is_admin_project: true,
    service_roles: [],
    request_id: newRequestId(),
    global_request_id: null,
    auth_token: null,
    read_deleted: 'no',
    remote_address: null,
    timestamp: naiveIsoNow(),
    user_domain: null,
    project_domain: null,
    ...p,
    roles,
  };
}

/** context.elevated(): admin, and the 'admin' role added, as Cinder does for manager internals. */
export function elevated(ctx: RequestContext): RequestContext {
  return {
    ...ctx,
    is_admin: true,
    roles: ctx.roles.includes('admin') ? ctx.roles : [...ctx.roles, 'admin'],
  };
}

export function adminContext(): RequestContext {
  return makeContext({ user_id: null, project_id: null, roles: ['admin'], is_admin: true });
}
