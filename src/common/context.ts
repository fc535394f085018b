// cinder.context.RequestContext: who is calling, carried from the API through RPC to the manager.
import { randomUUID } from 'node:crypto';
import { fileContextIsAdmin } from './policy-file.js';

/**
 * One service of a keystonemiddleware X-Service-Catalog (the v2 layout: endpoints grouped by region,
 * each with `publicURL` / `internalURL` / `adminURL`).
 */
export interface CatalogService {
  type: string;
  name?: string;
  endpoints: Array<Record<string, string>>;
}

/** RequestContext keeps only these services of the catalog (cinder/context.py). */
export const CONTEXT_CATALOG_TYPES = ['identity', 'compute', 'object-store', 'image', 'key-manager'];

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
  /** From X-Service-Catalog (keystone only), filtered to CONTEXT_CATALOG_TYPES. */
  service_catalog: CatalogService[];
}

/** RequestContext.__init__: only the services Cinder talks to are kept; anything else is dropped. */
export function filterCatalog(catalog: unknown): CatalogService[] {
  if (!Array.isArray(catalog)) return [];
  return catalog.filter(
    (s): s is CatalogService =>
      s !== null && typeof s === 'object' && CONTEXT_CATALOG_TYPES.includes((s as { type?: unknown }).type as string),
  );
}

export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

export function naiveIsoNow(d: Date = new Date()): string {
  return d.toISOString().replace('Z', '000');
}

export function makeContext(p: Partial<RequestContext> & Pick<RequestContext, 'user_id' | 'project_id'>): RequestContext {
  const roles = p.roles ?? [];
  const ctx: RequestContext = {
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
    service_catalog: [],
    ...p,
    roles,
  };
  // is_admin not given: policy.check_is_admin, i.e. context_is_admin of policy.yaml when it has one.
  if (p.is_admin === undefined) ctx.is_admin = fileContextIsAdmin(ctx) ?? ctx.is_admin;
  return ctx;
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
