// Who is calling. Cinder builds the RequestContext in paste middleware chosen by
// `[DEFAULT] auth_strategy`: NoAuthMiddleware (cinder/api/middleware/auth.py) for `noauth`,
// keystonemiddleware + CinderKeystoneContext for `keystone`. Both end in
// RequestContext.from_environ, which also reads X-Roles, X-Service-Roles, ... from the headers.
import type { IncomingHttpHeaders } from 'node:http';
import type { CinderConfig } from '../common/config.js';
import { filterCatalog, makeContext, type RequestContext } from '../common/context.js';
import type { Logger } from '../common/log.js';
import { HttpFault } from './faults.js';
import { keystoneAuthenticatorFromConfig } from './keystone-auth.js';

export interface AuthRequest {
  headers: IncomingHttpHeaders;
  /** The full request URL as webob's `req.url` (scheme://host/path?query). */
  url: string;
  remoteAddress: string | null;
  requestId: string;
  globalRequestId: string | null;
  /** The HTTP method (a HEAD answer has no body). */
  method?: string;
}

/** Either a context, or a complete answer that ends the request before routing. */
export type AuthOutcome =
  | { ok: true; ctx: RequestContext }
  /** A Buffer body is sent as is (Fastify adds `; charset=utf-8` to a string's JSON Content-Type). */
  | { ok: false; status: number; headers: Record<string, string>; body: string | Buffer };

export interface Authenticator {
  readonly strategy: 'noauth' | 'keystone';
  /** noauth answers at once; keystone may ask Keystone first. */
  authenticate(req: AuthRequest): AuthOutcome | Promise<AuthOutcome>;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function splitRoles(v: string | undefined): string[] {
  return v ? v.split(',').map((r) => r.trim()) : [];
}

/**
 * RequestContext.from_environ(environ, **kwargs) for the fields this port carries: kwargs win,
 * then the keystonemiddleware-style headers.
 */
export function contextFromHeaders(
  req: AuthRequest,
  kw: { user_id: string | null; project_id: string | null; is_admin?: boolean; serviceCatalog?: boolean },
): RequestContext {
  const h = req.headers;
  // CinderKeystoneContext reads X-Service-Catalog (set by auth_token); NoAuth never does.
  let serviceCatalog: unknown = [];
  const catalogHeader = kw.serviceCatalog ? header(h, 'x-service-catalog') : undefined;
  if (catalogHeader !== undefined) {
    try {
      serviceCatalog = JSON.parse(catalogHeader);
    } catch {
      throw new HttpFault(500, 'Invalid service catalog json.');
    }
  }
  const roles = splitRoles(header(h, 'x-roles') ?? header(h, 'x-role'));
  // cinder.context.RequestContext: an explicit is_admin=True adds the 'admin' role.
  if (kw.is_admin && !roles.includes('admin')) roles.push('admin');
  return makeContext({
    user_id: kw.user_id,
    project_id: kw.project_id,
    project_name: header(h, 'x-project-name') ?? header(h, 'x-tenant-name') ?? null,
    roles,
    ...(kw.is_admin !== undefined ? { is_admin: kw.is_admin } : {}),
    is_admin_project: (header(h, 'x-is-admin-project') ?? 'true').toLowerCase() === 'true',
    service_roles: splitRoles(header(h, 'x-service-roles')),
    request_id: req.requestId,
    global_request_id: req.globalRequestId,
    auth_token: header(h, 'x-auth-token') ?? header(h, 'x-storage-token') ?? null,
    remote_address: req.remoteAddress,
    user_domain: header(h, 'x-user-domain-id') ?? null,
    project_domain: header(h, 'x-project-domain-id') ?? null,
    service_catalog: filterCatalog(serviceCatalog),
  });
}

/**
 * `auth_strategy = noauth` (NoAuthMiddleware). `X-Auth-Token: <user>:<project>` (project defaults
 * to user) gives an admin context. Without the header Cinder answers 204 with a fake token built
 * from X-Auth-User / X-Auth-Project-Id (default "admin") and X-Server-Management-Url, before any
 * routing.
 */
export class NoAuthAuthenticator implements Authenticator {
  readonly strategy = 'noauth' as const;

  authenticate(req: AuthRequest): AuthOutcome {
    const token = header(req.headers, 'x-auth-token');
    if (token === undefined) {
      const user = header(req.headers, 'x-auth-user') ?? 'admin';
      const project = header(req.headers, 'x-auth-project-id') ?? 'admin';
      return {
        ok: false,
        status: 204,
        headers: {
          'X-Auth-Token': `${user}:${project}`,
          'X-Server-Management-Url': req.url.replace(/\/+$/, ''),
          'Content-Type': 'text/plain; charset=UTF-8',
        },
        body: '',
      };
    }
    const sep = token.indexOf(':');
    const userId = sep < 0 ? token : token.slice(0, sep);
    const projectId = (sep < 0 ? '' : token.slice(sep + 1)) || userId;
    return { ok: true, ctx: contextFromHeaders(req, { user_id: userId, project_id: projectId, is_admin: true }) };
  }
}

/**
 * The authenticator for `[DEFAULT] auth_strategy`. `keystone` (KeystoneAuthenticator in
 * keystone-auth.ts) needs the config's [keystone_authtoken] section and throws ConfigError naming the
 * first missing option.
 */
export function authenticatorFor(
  strategy: 'noauth' | 'keystone',
  opts: { config?: CinderConfig; logger?: Logger } = {},
): Authenticator {
  if (strategy === 'noauth') return new NoAuthAuthenticator();
  if (!opts.config) throw new Error('auth_strategy = keystone needs the [keystone_authtoken] configuration');
  return keystoneAuthenticatorFromConfig(opts.config, opts.logger);
}

/** oslo.middleware RequestId: an inbound X-Openstack-Request-Id of this form becomes global_request_id. */
const GLOBAL_REQ_ID = /^req-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$/;

export function globalRequestId(h: IncomingHttpHeaders): string | null {
  const v = header(h, 'x-openstack-request-id');
  return v !== undefined && GLOBAL_REQ_ID.test(v) ? v : null;
}
