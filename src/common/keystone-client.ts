// The identity-server side of keystonemiddleware's auth_token, for `auth_strategy = keystone`:
// the service user's own token (keystoneauth's v3 password plugin, POST /v3/auth/tokens, renewed
// when it has less than 120 s left) and token validation (GET /v3/auth/tokens with
// X-Subject-Token), with keystoneauth's connect retries and keystonemiddleware's error mapping:
// 404 → the token is invalid (401 to the caller); 401 → our own token is stale: re-authenticate and
// retry once; anything else, or Keystone unreachable → the service is unavailable (503).
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpRequest, HttpRequester, HttpResponse } from './http.js';
import type { Logger } from './log.js';

/** keystonemiddleware's InvalidToken: the caller gets 401. */
export class InvalidToken extends Error {
  constructor(message = 'Token authorization failed') {
    super(message);
    this.name = 'InvalidToken';
  }
}

/** keystonemiddleware's ServiceError / keystoneauth's ConnectFailure: the caller gets 503. */
export class KeystoneUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeystoneUnavailable';
  }
}

export interface IdentityClientOptions {
  /** [keystone_authtoken] auth_url; `/v3` is appended unless it already ends with it. */
  authUrl: string;
  username: string;
  password: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName: string;
  projectDomainName?: string;
  projectDomainId?: string;
  /** http_request_max_retries: retries after a connection failure (0.5 s, 1 s, 2 s, ... apart). */
  connectRetries?: number;
  /** http_connect_timeout in ms; undefined means none. */
  timeoutMs?: number;
  /** include_service_catalog (default true): validate with the token's catalog, else `?nocatalog`. */
  includeCatalog?: boolean;
}

export interface IdentityClientDeps {
  requester: HttpRequester;
  logger?: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** keystoneauth re-authenticates when its token has less than this left (MIN_TOKEN_LIFE_SECONDS). */
export const MIN_TOKEN_LIFE_MS = 120_000;
const MAX_RETRY_DELAY_MS = 60_000;
const USER_AGENT = 'cinder-ts keystonemiddleware.auth_token';

/** `http://k:5000`, `http://k:5000/`, `http://k:5000/v3/` → `http://k:5000/v3`. */
export function v3Base(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(u) ? u : `${u}/v3`;
}

function headerValue(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** keystoneclient's tokens.validate query: `nocatalog` unless the catalog is wanted, `allow_expired=1`. */
function validateQuery(includeCatalog: boolean, allowExpired: boolean): string {
  const q = [...(includeCatalog ? [] : ['nocatalog']), ...(allowExpired ? ['allow_expired=1'] : [])];
  return q.length ? `?${q.join('&')}` : '';
}

export class IdentityClient {
  readonly base: string;
  private readonly requester: HttpRequester;
  private readonly log?: Logger;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private token: { id: string; expiresAt: number } | null = null;
  private pendingAuth: Promise<string> | null = null;
  /** How many times the service user authenticated (for tests and logs). */
  authCount = 0;

  constructor(
    private readonly opts: IdentityClientOptions,
    deps: IdentityClientDeps,
  ) {
    this.base = v3Base(opts.authUrl);
    this.requester = deps.requester;
    this.log = deps.logger;
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** One request with keystoneauth's connect retries; KeystoneUnavailable when it never got an answer. */
  private async send(req: HttpRequest): Promise<HttpResponse> {
    let retries = this.opts.connectRetries ?? 3;
    let delay = 500;
    for (;;) {
      try {
        return await this.requester({ ...req, timeoutMs: this.opts.timeoutMs });
      } catch (e) {
        const msg = `Unable to establish connection to ${req.url}: ${(e as Error).message}`;
        if (retries <= 0) throw new KeystoneUnavailable(msg);
        this.log?.info(`Failure: ${msg}. Retrying in ${(delay / 1000).toFixed(1)}s.`);
        await this.sleep(delay);
        retries -= 1;
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
    }
  }

  /** Forget our token: the next call authenticates again. */
  invalidate(): void {
    this.token = null;
  }

  /** The service user's token, fetched once for concurrent callers and renewed before it expires. */
  serviceToken(): Promise<string> {
    if (this.token && this.token.expiresAt - this.now() > MIN_TOKEN_LIFE_MS) return Promise.resolve(this.token.id);
    this.pendingAuth ??= this.authenticate().finally(() => {
      this.pendingAuth = null;
    });
    return this.pendingAuth;
  }

  private async authenticate(): Promise<string> {
    const o = this.opts;
    const domain = (name?: string, id?: string) => (id !== undefined ? { id } : { name });
    const body = {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: o.username, password: o.password, domain: domain(o.userDomainName, o.userDomainId) } },
        },
        scope: { project: { name: o.projectName, domain: domain(o.projectDomainName, o.projectDomainId) } },
      },
    };
    const res = await this.send({
      method: 'POST',
      url: `${this.base}/auth/tokens?nocatalog`,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': USER_AGENT },
      body: JSON.stringify(body),
    });
    if (res.status !== 201 && res.status !== 200) {
      this.log?.error({ status: res.status, body: res.body.slice(0, 500) }, 'Service user authentication failed');
      throw new KeystoneUnavailable(
        res.status === 401
          ? 'Identity server rejected authorization necessary to fetch token data'
          : `Bad response code while authenticating the service user: ${res.status}`,
      );
    }
    const id = headerValue(res.headers, 'x-subject-token');
    let expiresAt = NaN;
    try {
      expiresAt = Date.parse((JSON.parse(res.body) as { token: { expires_at: string } }).token.expires_at);
    } catch {
      /* handled below */
    }
    if (!id || Number.isNaN(expiresAt)) throw new KeystoneUnavailable('Invalid response to the service user authentication');
    this.authCount += 1;
    this.token = { id, expiresAt };
    this.log?.debug({ expires_at: new Date(expiresAt).toISOString() }, 'Service user token obtained');
    return id;
  }

  /**
   * GET /v3/auth/tokens for `token`: the token body ({"token": {...}}) when Keystone knows it,
   * InvalidToken when Keystone says 404, KeystoneUnavailable for anything else.
   */
  async validateToken(token: string, allowExpired = false): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const svc = await this.serviceToken();
      const res = await this.send({
        method: 'GET',
        url: `${this.base}/auth/tokens${validateQuery(this.opts.includeCatalog ?? true, allowExpired)}`,
        headers: {
          'X-Auth-Token': svc,
          'X-Subject-Token': token,
          'OpenStack-Identity-Access-Rules': '1',
          Accept: 'application/json',
          'User-Agent': USER_AGENT,
        },
      });
      if (res.status === 200) {
        try {
          return JSON.parse(res.body) as unknown;
        } catch {
          throw new KeystoneUnavailable('Failed to fetch token data from identity server');
        }
      }
      if (res.status === 404) {
        this.log?.info('Authorization failed for token');
        throw new InvalidToken();
      }
      if (res.status === 401 && attempt === 0) {
        // Our own token was revoked or expired early: authenticate again and retry once.
        this.log?.info('Identity server rejected authorization; retrying validation');
        if (this.token?.id === svc) this.invalidate();
        continue;
      }
      this.log?.error({ status: res.status, body: res.body.slice(0, 500) }, 'Bad response code while validating token');
      throw new KeystoneUnavailable(
        res.status === 401
          ? 'Identity server rejected authorization necessary to fetch token data'
          : 'Failed to fetch token data from identity server',
      );
    }
  }
}
