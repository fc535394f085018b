// `auth_strategy = keystone`: keystonemiddleware's auth_token (AuthProtocol.process_request) followed
// by Cinder's CinderKeystoneContext (RequestContext.from_environ), in one step:
//   1. every identity header the client sent (X-Roles, X-Service-Roles, X-User-Id, X-Project-Id,
//      X-Identity-Status, ...) is removed, so nobody can claim a role or a project;
//   2. X-Service-Token, when present, is validated first: invalid → 401; valid and holding one of
//      service_token_roles → the user token may be expired (allow_expired); with
//      service_token_roles_required a valid token without those roles counts as invalid;
//   3. X-Auth-Token (or X-Storage-Token) is validated; missing or invalid → 401 with
//      keystonemiddleware's JSON body and `WWW-Authenticate: Keystone uri="<www_authenticate_uri>"`;
//      Keystone unreachable or refusing us → webob's 503 "The Keystone service is temporarily
//      unavailable.";
//   4. the headers keystonemiddleware sets are written back (X-Identity-Status, X-User-Id, X-Roles,
//      X-Service-Roles, ...) and the RequestContext is built from them exactly as for noauth.
// A token without a project scope passes (as with keystonemiddleware for v3 tokens): the context
// has no project_id, so any /v3/{project_id}/... URL answers 400 "Malformed request url".
// Validated token bodies are cached in-process for token_cache_time seconds (bounded, LRU); the
// expiry is checked on every use, cached or not.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { type CinderConfig, ConfigError, keystoneAuthSettings } from '../common/config.js';
import type { CatalogService } from '../common/context.js';
import type { Logger } from '../common/log.js';
import { contextFromHeaders, type AuthOutcome, type AuthRequest, type Authenticator } from './auth.js';
import { nodeRequester } from '../common/http.js';
import { IdentityClient, InvalidToken, KeystoneUnavailable } from '../common/keystone-client.js';
import { acceptableOffers } from './webob.js';

/** What the authenticator needs from the identity server (IdentityClient, or a test double). */
export interface TokenValidator {
  validateToken(token: string, allowExpired: boolean): Promise<unknown>;
}

export interface KeystoneAuthOptions {
  /** Sent back in WWW-Authenticate with every 401. */
  wwwAuthenticateUri: string;
  serviceTokenRoles: string[];
  serviceTokenRolesRequired: boolean;
  /** Seconds; 0 = until the token expires, < 0 = no cache. */
  tokenCacheTime: number;
  /** Most tokens kept at once (least recently used ones are dropped first). */
  cacheMaxEntries?: number;
  /** include_service_catalog: set X-Service-Catalog from the token (default true). */
  includeServiceCatalog?: boolean;
}

export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;

/** keystoneauth's AccessInfoV3, for what auth_token and Cinder use. */
export interface TokenInfo {
  userId: string;
  userName: string | null;
  userDomainId: string | null;
  userDomainName: string | null;
  projectId: string | null;
  projectName: string | null;
  projectDomainId: string | null;
  projectDomainName: string | null;
  domainId: string | null;
  domainName: string | null;
  roles: string[];
  expiresAt: number;
  isAdminProject: boolean;
  /** The token's bind (kerberos, ...), if any. */
  bind: Record<string, unknown> | null;
  /** An application credential restricted by access rules. */
  hasAccessRules: boolean;
  /** The token's v3 catalog; null when validated without one (`?nocatalog`). */
  catalog: unknown[] | null;
}

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** access.create(body): InvalidToken when the body is not a v3 token. */
export function parseToken(body: unknown): TokenInfo {
  const t = isObj(body) ? body.token : undefined;
  if (!isObj(t) || !isObj(t.user) || typeof t.user.id !== 'string' || typeof t.expires_at !== 'string') {
    throw new InvalidToken();
  }
  const expiresAt = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t.expires_at) ? t.expires_at : `${t.expires_at}Z`);
  if (Number.isNaN(expiresAt)) throw new InvalidToken();
  const project = isObj(t.project) ? t.project : null;
  const domain = isObj(t.domain) ? t.domain : null;
  const appCred = isObj(t.application_credential) ? t.application_credential : null;
  return {
    userId: t.user.id,
    userName: str(t.user.name),
    userDomainId: isObj(t.user.domain) ? str(t.user.domain.id) : null,
    userDomainName: isObj(t.user.domain) ? str(t.user.domain.name) : null,
    projectId: project ? str(project.id) : null,
    projectName: project ? str(project.name) : null,
    projectDomainId: project && isObj(project.domain) ? str(project.domain.id) : null,
    projectDomainName: project && isObj(project.domain) ? str(project.domain.name) : null,
    domainId: domain ? str(domain.id) : null,
    domainName: domain ? str(domain.name) : null,
    roles: Array.isArray(t.roles) ? t.roles.map((r: unknown) => (isObj(r) ? str(r.name) : null)).filter((r): r is string => r !== null) : [],
    expiresAt,
    isAdminProject: typeof t.is_admin_project === 'boolean' ? t.is_admin_project : true,
    bind: isObj(t.bind) ? t.bind : null,
    hasAccessRules: appCred !== null && appCred.access_rules !== undefined && appCred.access_rules !== null,
    catalog: Array.isArray(t.catalog) ? t.catalog : null,
  };
}

/**
 * auth_token's _normalize_catalog: a v3 catalog in the v2 layout of X-Service-Catalog (type, name,
 * and per region one endpoint object with `<interface>URL` keys).
 */
export function normalizeCatalog(catalog: unknown[]): CatalogService[] {
  return catalog.filter(isObj).map((svc) => {
    const out: CatalogService = { type: String(svc.type), endpoints: [] };
    if (svc.name !== undefined) out.name = svc.name;
    const regions = new Map<string | null, Record<string, string>>();
    for (const ep of Array.isArray(svc.endpoints) ? svc.endpoints.filter(isObj) : []) {
      const region = str(ep.region);
      let slot = regions.get(region);
      if (!slot) {
        slot = region ? { region } : {};
        regions.set(region, slot);
      }
      slot[`${String(ep.interface).toLowerCase()}URL`] = String(ep.url);
    }
    out.endpoints = [...regions.values()];
    return out;
  });
}

/** _AuthTokenRequest._all_auth_headers(): what is removed from every incoming request. */
export const STRIPPED_HEADERS: readonly string[] = (() => {
  const names = [
    'X-Service-Catalog',
    'X-Identity-Status',
    'X-Service-Identity-Status',
    'X-Is-Admin-Project',
    'X-Role',
    'X-User',
    'X-Tenant-Id',
    'X-Tenant-Name',
    'X-Tenant',
    // Not removed by auth_token, but always rewritten by it for an accepted request.
    'OpenStack-System-Scope',
  ];
  const tmpl = ['Domain-Id', 'Domain-Name', 'Project-Id', 'Project-Name', 'Project-Domain-Id', 'Project-Domain-Name', 'User-Id', 'User-Name', 'User-Domain-Id', 'User-Domain-Name'];
  for (const prefix of ['X-', 'X-Service-']) {
    for (const t of tmpl) names.push(prefix + t);
    names.push(`${prefix}Roles`);
  }
  return names.map((n) => n.toLowerCase());
})();

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** _set_auth_headers: the identity of one token as X{prefix}-... headers (absent values omitted). */
function setAuthHeaders(h: IncomingHttpHeaders, t: TokenInfo, prefix: 'X-' | 'X-Service-'): void {
  const set = (name: string, v: string | null) => {
    if (v !== null) h[(prefix + name).toLowerCase()] = v;
  };
  h[`${prefix}Roles`.toLowerCase()] = t.roles.join(',');
  set('Domain-Id', t.domainId);
  set('Domain-Name', t.domainName);
  set('Project-Id', t.projectId);
  set('Project-Name', t.projectName);
  set('Project-Domain-Id', t.projectDomainId);
  set('Project-Domain-Name', t.projectDomainName);
  set('User-Id', t.userId);
  set('User-Name', t.userName);
  set('User-Domain-Id', t.userDomainId);
  set('User-Domain-Name', t.userDomainName);
}

/** set_user_headers: the user's headers, X-Is-Admin-Project and the deprecated aliases. */
function setUserHeaders(h: IncomingHttpHeaders, t: TokenInfo): void {
  setAuthHeaders(h, t, 'X-');
  h['x-is-admin-project'] = t.isAdminProject ? 'True' : 'False';
  const alias: Record<string, string> = {
    'x-role': 'x-roles',
    'x-user': 'x-user-name',
    'x-tenant-id': 'x-project-id',
    'x-tenant-name': 'x-project-name',
    'x-tenant': 'x-project-name',
  };
  for (const [k, v] of Object.entries(alias)) if (h[v] !== undefined) h[k] = h[v];
}

export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';
/** keystonemiddleware's 401 body, as jsonutils.dumps writes it. */
export const UNAUTHORIZED_BODY = `{"error": {"code": 401, "title": "Unauthorized", "message": "${UNAUTHORIZED_MESSAGE}"}}`;
export const KEYSTONE_UNAVAILABLE = 'The Keystone service is temporarily unavailable.';
const UNAVAILABLE_EXPLANATION = 'The server is currently unavailable. Please try again at a later time.';

/** webob.exc.HTTPServiceUnavailable(detail) as webob renders it for the request's Accept. */
export function serviceUnavailable(accept: string | undefined, isHead: boolean): { contentType: string; body: string } {
  const statusLine = '503 Service Unavailable';
  if (isHead) return { contentType: 'text/html; charset=UTF-8', body: '' };
  const match = acceptableOffers(accept ?? '', ['text/html', 'application/json'])[0];
  if (match === 'text/html') {
    return {
      contentType: 'text/html; charset=UTF-8',
      body:
        `<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n` +
        `  ${UNAVAILABLE_EXPLANATION}<br /><br />\n${KEYSTONE_UNAVAILABLE}\n\n\n </body>\n</html>`,
    };
  }
  if (match === 'application/json') {
    return {
      contentType: 'application/json',
      body:
        `{"message": ${JSON.stringify(`${UNAVAILABLE_EXPLANATION}<br /><br />\n${KEYSTONE_UNAVAILABLE}\n\n`)}, ` +
        `"code": "${statusLine}", "title": "Service Unavailable"}`,
    };
  }
  return { contentType: 'text/plain; charset=UTF-8', body: `${statusLine}\n\n${UNAVAILABLE_EXPLANATION}\n\n ${KEYSTONE_UNAVAILABLE}  ` };
}

interface CacheEntry {
  info: TokenInfo;
  /** When the cache entry itself lapses (ms), Infinity for token_cache_time = 0. */
  until: number;
}

export interface KeystoneAuthDeps {
  logger?: Logger;
  now?: () => number;
}

export class KeystoneAuthenticator implements Authenticator {
  readonly strategy = 'keystone' as const;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<TokenInfo>>();
  private readonly serviceRoles: Set<string>;
  private readonly maxEntries: number;
  private readonly log?: Logger;
  private readonly now: () => number;
  private readonly unauthorizedHeaders: Record<string, string>;
  private serviceTokenWarned = false;

  constructor(
    private readonly validator: TokenValidator,
    private readonly opts: KeystoneAuthOptions,
    deps: KeystoneAuthDeps = {},
  ) {
    this.serviceRoles = new Set(opts.serviceTokenRoles);
    this.maxEntries = Math.max(1, opts.cacheMaxEntries ?? DEFAULT_CACHE_MAX_ENTRIES);
    this.log = deps.logger;
    this.now = deps.now ?? Date.now;
    this.unauthorizedHeaders = {
      'Content-Type': 'application/json',
      'WWW-Authenticate': `Keystone uri="${opts.wwwAuthenticateUri}"`,
    };
  }

  /** Tokens held in the cache right now. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** fetch_token + access.create: the cached token, or Keystone's answer (cached when token_cache_time >= 0). */
  private async fetchToken(token: string, allowExpired: boolean): Promise<TokenInfo> {
    const key = createHash('sha256').update(token).digest('hex');
    const ttl = this.opts.tokenCacheTime;
    if (ttl >= 0) {
      const hit = this.cache.get(key);
      if (hit) {
        this.cache.delete(key);
        if (hit.until > this.now()) {
          this.cache.set(key, hit); // most recently used goes last
          return hit.info;
        }
      }
    }
    // Concurrent requests with the same token share one validation.
    const flightKey = `${allowExpired ? 1 : 0}${key}`;
    let p = this.inflight.get(flightKey);
    if (!p) {
      p = this.validator
        .validateToken(token, allowExpired)
        .then(parseToken)
        .finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, p);
    }
    const info = await p;
    if (ttl >= 0) {
      this.cache.delete(key);
      this.cache.set(key, { info, until: ttl === 0 ? Infinity : this.now() + ttl * 1000 });
      while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    }
    return info;
  }

  /** _do_fetch_token + _validate_token (+ _confirm_token_bind in permissive mode). */
  private async checkToken(token: string, allowExpired: boolean, checkBind: boolean): Promise<TokenInfo> {
    const info = await this.fetchToken(token.trim(), allowExpired);
    if (!allowExpired && info.expiresAt <= this.now()) throw new InvalidToken();
    // A kerberos-bound token needs kerberos (Negotiate) authentication, which never happens here.
    if (checkBind && info.bind && 'kerberos' in info.bind) throw new InvalidToken();
    return info;
  }

  private reject(req: AuthRequest, why: string): AuthOutcome {
    this.log?.info({ request_id: req.requestId, reason: why }, 'Rejecting request');
    return { ok: false, status: 401, headers: { ...this.unauthorizedHeaders }, body: Buffer.from(req.method === 'HEAD' ? '' : UNAUTHORIZED_BODY) };
  }

  private unavailable(req: AuthRequest, err: Error): AuthOutcome {
    this.log?.error({ request_id: req.requestId, err: err.message }, `Unable to validate token: ${err.message}`);
    const r = serviceUnavailable(header(req.headers, 'accept'), req.method === 'HEAD');
    return { ok: false, status: 503, headers: { 'Content-Type': r.contentType }, body: Buffer.from(r.body) };
  }

  async authenticate(req: AuthRequest): Promise<AuthOutcome> {
    const h = req.headers;
    for (const name of STRIPPED_HEADERS) delete h[name];
    // webob's headers.get('X-Auth-Token', headers.get('X-Storage-Token')).
    const userToken = h['x-auth-token'] !== undefined ? header(h, 'x-auth-token') : header(h, 'x-storage-token');
    const serviceToken = header(h, 'x-service-token');
    try {
      let service: TokenInfo | null = null;
      let serviceValid = true;
      let allowExpired = false;
      if (serviceToken) {
        try {
          service = await this.checkToken(serviceToken, false, true);
          const roleCheck = service.roles.some((r) => this.serviceRoles.has(r));
          if (this.opts.serviceTokenRolesRequired) {
            serviceValid = roleCheck;
          } else if (!roleCheck && !this.serviceTokenWarned) {
            this.serviceTokenWarned = true;
            this.log?.warn(
              'A valid token was submitted as a service token, but it was not a valid service token. This is incorrect but backwards compatible behaviour.',
            );
          }
          // Only a token holding a service role may vouch for an expired user token.
          allowExpired = roleCheck;
        } catch (e) {
          if (!(e instanceof InvalidToken)) throw e;
          this.log?.info({ request_id: req.requestId }, 'Invalid service token');
          serviceValid = false;
        }
      }
      let user: TokenInfo | null = null;
      if (userToken) {
        try {
          user = await this.checkToken(userToken, allowExpired, !serviceToken);
          if (user.hasAccessRules) {
            // Access rules are checked against [keystone_authtoken] service_type, which this port
            // does not have: keystonemiddleware rejects such tokens then.
            this.log?.warn('Cannot validate request with restricted access rules: no service_type configured.');
            throw new InvalidToken();
          }
        } catch (e) {
          if (!(e instanceof InvalidToken)) throw e;
          this.log?.info({ request_id: req.requestId }, 'Invalid user token');
          user = null;
        }
      }
      if (!user || !serviceValid) {
        return this.reject(req, !userToken ? 'no user token' : !user ? 'invalid user token' : 'invalid service token');
      }

      h['x-identity-status'] = 'Confirmed';
      setUserHeaders(h, user);
      if (service && serviceValid) {
        h['x-service-identity-status'] = 'Confirmed';
        setAuthHeaders(h, service, 'X-Service-');
      }
      // CinderKeystoneContext → RequestContext.from_environ over the headers just written.
      if (this.opts.includeServiceCatalog !== false && user.catalog !== null) {
        h['x-service-catalog'] = JSON.stringify(normalizeCatalog(user.catalog));
      }
      const ctx = contextFromHeaders(req, { user_id: user.userId, project_id: user.projectId, serviceCatalog: true });
      return { ok: true, ctx };
    } catch (e) {
      if (e instanceof KeystoneUnavailable) return this.unavailable(req, e);
      throw e;
    }
  }
}

/** The authenticator `[DEFAULT] auth_strategy = keystone` asks for; ConfigError for a bad section. */
export function keystoneAuthenticatorFromConfig(cfg: CinderConfig, logger?: Logger): KeystoneAuthenticator {
  const k = keystoneAuthSettings(cfg);
  let ca: Buffer | undefined;
  if (k.cafile !== undefined) {
    try {
      ca = fs.readFileSync(k.cafile);
    } catch (e) {
      throw new ConfigError(`config error: [keystone_authtoken] cafile: cannot read ${k.cafile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (!k.service_token_roles_required) {
    logger?.warn(
      'AuthToken middleware is set with keystone_authtoken.service_token_roles_required set to False. This is backwards compatible but deprecated behaviour. Please set this to True.',
    );
  }
  const client = new IdentityClient(
    {
      authUrl: k.auth_url,
      username: k.username,
      password: k.password,
      userDomainName: k.user_domain_name,
      userDomainId: k.user_domain_id,
      projectName: k.project_name,
      projectDomainName: k.project_domain_name,
      projectDomainId: k.project_domain_id,
      connectRetries: k.http_request_max_retries,
      timeoutMs: k.http_connect_timeout !== undefined ? k.http_connect_timeout * 1000 : undefined,
      includeCatalog: k.include_service_catalog,
    },
    { requester: nodeRequester({ insecure: k.insecure, ca }), logger },
  );
  return new KeystoneAuthenticator(
    client,
    {
      wwwAuthenticateUri: k.www_authenticate_uri,
      serviceTokenRoles: k.service_token_roles,
      serviceTokenRolesRequired: k.service_token_roles_required,
      tokenCacheTime: k.token_cache_time,
      includeServiceCatalog: k.include_service_catalog,
    },
    { logger },
  );
}
