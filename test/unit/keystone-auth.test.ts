// The keystone authenticator's own decisions (keystonemiddleware auth_token + CinderKeystoneContext),
// with the identity server replaced by a recorded-answer double and a settable clock: header
// stripping, the 401/503 answers byte for byte, expiry, service tokens, the cache (TTL, -1, 0, size
// bound, concurrent requests) — and the IdentityClient's own token handling over a scripted
// transport. The same paths run against a real Keystone in test/process/keystone.test.ts.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import type { AuthOutcome, AuthRequest } from '../../src/api/auth.js';
import {
  KeystoneAuthenticator,
  STRIPPED_HEADERS,
  UNAUTHORIZED_BODY,
  parseToken,
  serviceUnavailable,
  type TokenValidator,
} from '../../src/api/keystone-auth.js';
import {
  IdentityClient,
  InvalidToken,
  KeystoneUnavailable,
  MIN_TOKEN_LIFE_MS,
  v3Base,
} from '../../src/common/keystone-client.js';
import type { HttpRequest, HttpResponse } from '../../src/common/http.js';
import { parseConfig } from '../../src/common/config.js';
import type { VolumeApiSurface } from '../../src/volume-api/api.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

function tokenBody(o: {
  user?: string;
  project?: string | null;
  roles?: string[];
  expiresAt?: number;
  extra?: Record<string, unknown>;
}): unknown {
  const token: Record<string, unknown> = {
    methods: ['password'],
    user: { domain: { id: 'default', name: 'Default' }, id: o.user ?? 'u1', name: `${o.user ?? 'u1'}-name`, password_expires_at: null },
    audit_ids: ['x'],
    expires_at: iso(o.expiresAt ?? T0 + 3600_000),
    issued_at: iso(T0),
    is_domain: false,
    roles: (o.roles ?? ['member', 'reader']).map((name, i) => ({ id: `r${i}`, name })),
    ...o.extra,
  };
  if (o.project !== null) token.project = { domain: { id: 'default', name: 'Default' }, id: o.project ?? 'aaaa', name: 'proj' };
  return { token };
}

/** Keystone's answers by token; 'down' makes it unreachable. Records every call. */
class FakeValidator implements TokenValidator {
  calls: { token: string; allowExpired: boolean }[] = [];
  tokens = new Map<string, unknown>();
  down = false;
  gate: Promise<void> | null = null;
  async validateToken(token: string, allowExpired: boolean): Promise<unknown> {
    this.calls.push({ token, allowExpired });
    if (this.gate) await this.gate;
    if (this.down) throw new KeystoneUnavailable('Unable to establish connection');
    const b = this.tokens.get(token);
    if (b === undefined) throw new InvalidToken();
    return b;
  }
}

function setup(opts: Partial<ConstructorParameters<typeof KeystoneAuthenticator>[1]> = {}) {
  const v = new FakeValidator();
  const clock = { now: T0 };
  const auth = new KeystoneAuthenticator(
    v,
    { wwwAuthenticateUri: 'http://ks:5000', serviceTokenRoles: ['service'], serviceTokenRolesRequired: false, tokenCacheTime: 300, ...opts },
    { now: () => clock.now },
  );
  v.tokens.set('user', tokenBody({}));
  v.tokens.set('admin', tokenBody({ user: 'adm', roles: ['admin', 'member', 'reader'] }));
  v.tokens.set('svc', tokenBody({ user: 'nova', project: 'ssss', roles: ['service'] }));
  v.tokens.set('other', tokenBody({ user: 'u2', roles: ['member'] }));
  return { v, clock, auth };
}

function req(headers: Record<string, string>, method = 'GET'): AuthRequest {
  return {
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    url: 'http://localhost/v3/aaaa/volumes',
    remoteAddress: '10.0.0.1',
    requestId: 'req-00000000-0000-0000-0000-000000000001',
    globalRequestId: null,
    method,
  };
}

function ctxOf(out: AuthOutcome) {
  if (!out.ok) throw new Error(`expected a context, got ${out.status} ${out.body.toString()}`);
  return out.ctx;
}

function expect401(out: AuthOutcome) {
  expect(out.ok).toBe(false);
  if (out.ok) return;
  expect(out.status).toBe(401);
  expect(out.body.toString()).toBe(UNAUTHORIZED_BODY);
  expect(out.headers).toEqual({ 'Content-Type': 'application/json', 'WWW-Authenticate': 'Keystone uri="http://ks:5000"' });
}

describe('KeystoneAuthenticator', () => {
  it('builds the context from the token only, and rewrites the identity headers as keystonemiddleware', async () => {
    const { auth } = setup();
    const r = req({
      'X-Auth-Token': 'user',
      'X-Roles': 'admin',
      'X-Service-Roles': 'service',
      'X-Project-Id': 'bbbb',
      'X-Tenant-Id': 'bbbb',
      'X-User-Id': 'root',
      'X-Is-Admin-Project': 'True',
      'X-Identity-Status': 'Confirmed',
      'X-Service-Identity-Status': 'Confirmed',
      'X-Project-Name': 'evil',
      'X-Service-Catalog': '[]',
    });
    const ctx = ctxOf(await auth.authenticate(r));
    expect(ctx).toMatchObject({
      user_id: 'u1',
      project_id: 'aaaa',
      project_name: 'proj',
      roles: ['member', 'reader'],
      is_admin: false,
      is_admin_project: true,
      service_roles: [],
      auth_token: 'user',
      user_domain: 'default',
      project_domain: 'default',
      request_id: 'req-00000000-0000-0000-0000-000000000001',
      remote_address: '10.0.0.1',
    });
    expect(r.headers).toMatchObject({
      'x-identity-status': 'Confirmed',
      'x-user-id': 'u1',
      'x-user': 'u1-name',
      'x-project-id': 'aaaa',
      'x-tenant-id': 'aaaa',
      'x-roles': 'member,reader',
      'x-role': 'member,reader',
      'x-is-admin-project': 'True',
    });
    for (const h of ['x-service-roles', 'x-service-identity-status', 'x-service-catalog']) expect(r.headers).not.toHaveProperty(h);
  });

  it('strips every header auth_token strips', () => {
    for (const h of ['x-roles', 'x-service-roles', 'x-user-id', 'x-project-id', 'x-tenant', 'x-user', 'x-identity-status', 'x-service-user-domain-name', 'x-domain-id']) {
      expect(STRIPPED_HEADERS).toContain(h);
    }
    expect(STRIPPED_HEADERS).not.toContain('x-auth-token');
    expect(STRIPPED_HEADERS).not.toContain('x-service-token');
  });

  it('is_admin comes from the admin role', async () => {
    const { auth } = setup();
    expect(ctxOf(await auth.authenticate(req({ 'X-Auth-Token': 'admin' }))).is_admin).toBe(true);
  });

  it('no token, an empty token, an unknown token: 401 with keystonemiddleware body and header', async () => {
    const { auth, v } = setup();
    expect401(await auth.authenticate(req({})));
    expect401(await auth.authenticate(req({ 'X-Auth-Token': '' })));
    expect401(await auth.authenticate(req({ 'X-Auth-Token': 'nope' })));
    expect(v.calls.map((c) => c.token)).toEqual(['nope']);
    const head = await auth.authenticate(req({}, 'HEAD'));
    expect(!head.ok && head.body.length).toBe(0);
  });

  it('X-Storage-Token is the user token when X-Auth-Token is absent; whitespace is stripped', async () => {
    const { auth } = setup();
    expect(ctxOf(await auth.authenticate(req({ 'X-Storage-Token': 'user' }))).user_id).toBe('u1');
    expect(ctxOf(await auth.authenticate(req({ 'X-Auth-Token': ' user ' }))).user_id).toBe('u1');
  });

  it('an expired token is a 401, also from the cache', async () => {
    const { auth, v, clock } = setup();
    v.tokens.set('short', tokenBody({ expiresAt: T0 + 60_000 }));
    expect(ctxOf(await auth.authenticate(req({ 'X-Auth-Token': 'short' }))).user_id).toBe('u1');
    clock.now = T0 + 60_000;
    expect401(await auth.authenticate(req({ 'X-Auth-Token': 'short' })));
    expect(v.calls).toHaveLength(1);
  });

  it('a service token with a service role vouches for an expired user token (allow_expired)', async () => {
    const { auth, v } = setup({ tokenCacheTime: -1 });
    v.tokens.set('old', tokenBody({ expiresAt: T0 - 1000 }));
    expect401(await auth.authenticate(req({ 'X-Auth-Token': 'old' })));
    const ctx = ctxOf(await auth.authenticate(req({ 'X-Auth-Token': 'old', 'X-Service-Token': 'svc' })));
    expect(ctx.service_roles).toEqual(['service']);
    expect(v.calls.slice(-2)).toEqual([
      { token: 'svc', allowExpired: false },
      { token: 'old', allowExpired: true },
    ]);
    // A service token without the role does not.
    expect401(await auth.authenticate(req({ 'X-Auth-Token': 'old', 'X-Service-Token': 'other' })));
  });

  it('service tokens: invalid → 401; roleless → accepted unless service_token_roles_required', async () => {
    const lax = setup();
    expect401(await lax.auth.authenticate(req({ 'X-Auth-Token': 'user', 'X-Service-Token': 'bogus' })));
    const roleless = ctxOf(await lax.auth.authenticate(req({ 'X-Auth-Token': 'user', 'X-Service-Token': 'other' })));
    expect(roleless.service_roles).toEqual(['member']);
    const strict = setup({ serviceTokenRolesRequired: true });
    expect401(await strict.auth.authenticate(req({ 'X-Auth-Token': 'user', 'X-Service-Token': 'other' })));
    expect(ctxOf(await strict.auth.authenticate(req({ 'X-Auth-Token': 'user', 'X-Service-Token': 'svc' }))).service_roles).toEqual(['service']);
    // The configured roles decide, not the name 'service'.
    const custom = setup({ serviceTokenRoles: ['nova-svc'], serviceTokenRolesRequired: true });
    expect401(await custom.auth.authenticate(req({ 'X-Auth-Token': 'user', 'X-Service-Token': 'svc' })));
  });

  it('an unscoped or domain-scoped token passes without a project', async () => {
    const { auth, v } = setup();
    v.tokens.set('unscoped', tokenBody({ project: null, roles: [] }));
    v.tokens.set('domain', tokenBody({ project: null, extra: { domain: { id: 'default', name: 'Default' } } }));
    const a = ctxOf(await auth.authenticate(req({ 'X-Auth-Token': 'unscoped' })));
    expect(a).toMatchObject({ project_id: null, project_name: null, project_domain: null, roles: [] });
    const d = ctxOf(await auth.authenticate(req({ 'X-Auth-Token': 'domain' })));
    expect(d.project_id).toBeNull();
  });

  it('kerberos-bound tokens and access-rule application credentials are refused', async () => {
    const { auth, v } = setup();
    v.tokens.set('krb', tokenBody({ extra: { bind: { kerberos: 'user@REALM' } } }));
    v.tokens.set('x509', tokenBody({ extra: { bind: { x509: 'abc' } } }));
    v.tokens.set('rules', tokenBody({ extra: { application_credential: { id: 'ac', access_rules: [] } } }));
    v.tokens.set('appcred', tokenBody({ extra: { application_credential: { id: 'ac', restricted: true } } }));
    expect401(await auth.authenticate(req({ 'X-Auth-Token': 'krb' })));
    expect(ctxOf(await auth.authenticate(req({ 'X-Auth-Token': 'x509' }))).user_id).toBe('u1');
    expect401(await auth.authenticate(req({ 'X-Auth-Token': 'rules' })));
    expect(ctxOf(await auth.authenticate(req({ 'X-Auth-Token': 'appcred' }))).user_id).toBe('u1');
  });

  it('a body that is not a v3 token is an invalid token', () => {
    expect(() => parseToken({})).toThrow(InvalidToken);
    expect(() => parseToken({ token: { user: { id: 'u' } } })).toThrow(InvalidToken);
    expect(() => parseToken({ token: { user: { id: 'u' }, expires_at: 'soon' } })).toThrow(InvalidToken);
    expect(parseToken(tokenBody({})).expiresAt).toBe(T0 + 3600_000);
  });

  it('Keystone unreachable: 503 with webob text for each Accept', async () => {
    const { auth, v } = setup();
    v.down = true;
    const json = await auth.authenticate(req({ 'X-Auth-Token': 'user', Accept: 'application/json' }));
    expect(json).toMatchObject({ ok: false, status: 503, headers: { 'Content-Type': 'application/json' } });
    // Bytes as webob 1.8 renders HTTPServiceUnavailable('The Keystone service is temporarily unavailable.').
    expect(!json.ok && json.body.toString()).toBe(
      '{"message": "The server is currently unavailable. Please try again at a later time.<br /><br />\\nThe Keystone service is temporarily unavailable.\\n\\n", "code": "503 Service Unavailable", "title": "Service Unavailable"}',
    );
    expect(serviceUnavailable(undefined, false)).toEqual({
      contentType: 'text/plain; charset=UTF-8',
      body: '503 Service Unavailable\n\nThe server is currently unavailable. Please try again at a later time.\n\n The Keystone service is temporarily unavailable.  ',
    });
    expect(serviceUnavailable('text/html', false)).toEqual({
      contentType: 'text/html; charset=UTF-8',
      body: '<html>\n <head>\n  <title>503 Service Unavailable</title>\n </head>\n <body>\n  <h1>503 Service Unavailable</h1>\n  The server is currently unavailable. Please try again at a later time.<br /><br />\nThe Keystone service is temporarily unavailable.\n\n\n </body>\n</html>',
    });
    expect(serviceUnavailable('*/*', false).contentType).toBe('text/html; charset=UTF-8');
    expect(serviceUnavailable('application/json', true)).toEqual({ contentType: 'text/html; charset=UTF-8', body: '' });
    // An unreachable Keystone while checking the service token is a 503 too.
    expect(await auth.authenticate(req({ 'X-Auth-Token': 'user', 'X-Service-Token': 'svc' }))).toMatchObject({ status: 503 });
  });

  describe('token cache', () => {
    it('keeps a token token_cache_time seconds', async () => {
      const { auth, v, clock } = setup({ tokenCacheTime: 300 });
      await auth.authenticate(req({ 'X-Auth-Token': 'user' }));
      clock.now += 299_000;
      await auth.authenticate(req({ 'X-Auth-Token': 'user' }));
      expect(v.calls).toHaveLength(1);
      clock.now += 1000;
      await auth.authenticate(req({ 'X-Auth-Token': 'user' }));
      expect(v.calls).toHaveLength(2);
    });

    it('-1 disables it; 0 keeps a token until it expires', async () => {
      const off = setup({ tokenCacheTime: -1 });
      await off.auth.authenticate(req({ 'X-Auth-Token': 'user' }));
      await off.auth.authenticate(req({ 'X-Auth-Token': 'user' }));
      expect(off.v.calls).toHaveLength(2);
      expect(off.auth.cacheSize).toBe(0);
      const forever = setup({ tokenCacheTime: 0 });
      await forever.auth.authenticate(req({ 'X-Auth-Token': 'user' }));
      forever.clock.now += 3000_000;
      expect(ctxOf(await forever.auth.authenticate(req({ 'X-Auth-Token': 'user' }))).user_id).toBe('u1');
      expect(forever.v.calls).toHaveLength(1);
    });

    it('never caches a refused token', async () => {
      const { auth, v } = setup();
      await auth.authenticate(req({ 'X-Auth-Token': 'nope' }));
      await auth.authenticate(req({ 'X-Auth-Token': 'nope' }));
      expect(v.calls).toHaveLength(2);
    });

    it('is bounded: the least recently used token goes first', async () => {
      const { auth, v } = setup({ cacheMaxEntries: 2 });
      for (const t of ['t1', 't2', 't3']) v.tokens.set(t, tokenBody({}));
      await auth.authenticate(req({ 'X-Auth-Token': 't1' }));
      await auth.authenticate(req({ 'X-Auth-Token': 't2' }));
      await auth.authenticate(req({ 'X-Auth-Token': 't1' })); // t1 used again: t2 is now the oldest
      await auth.authenticate(req({ 'X-Auth-Token': 't3' }));
      expect(auth.cacheSize).toBe(2);
      v.calls = [];
      await auth.authenticate(req({ 'X-Auth-Token': 't1' }));
      await auth.authenticate(req({ 'X-Auth-Token': 't3' }));
      expect(v.calls).toHaveLength(0);
      await auth.authenticate(req({ 'X-Auth-Token': 't2' }));
      expect(v.calls.map((c) => c.token)).toEqual(['t2']);
    });

    it('concurrent requests with the same new token share one validation', async () => {
      const { auth, v } = setup();
      let open!: () => void;
      v.gate = new Promise((r) => (open = r));
      const all = Promise.all(Array.from({ length: 20 }, () => auth.authenticate(req({ 'X-Auth-Token': 'user' }))));
      await new Promise((r) => setImmediate(r));
      open();
      const outs = await all;
      expect(outs.every((o) => o.ok)).toBe(true);
      expect(v.calls).toHaveLength(1);
    });
  });
});

describe('buildApp with auth_strategy = keystone', () => {
  function unreachableApi(): VolumeApiSurface {
    const fail = () => {
      throw new Error('must not be reached');
    };
    return {
      get: fail, getAll: fail, create: fail, getVolumeType: fail, delete: fail, reserveVolume: fail, unreserveVolume: fail,
      beginDetaching: fail, rollDetaching: fail, attach: fail, detach: fail, initializeConnection: fail,
      terminateConnection: fail,
    };
  }
  const conf = `[DEFAULT]\nauth_strategy = keystone\n[keystone_authtoken]\nauth_type = password\nauth_url = http://127.0.0.1:9/v3\nwww_authenticate_uri = https://keystone.example:5000\nusername = cinder\npassword = pw\nuser_domain_name = Default\nproject_name = service\nproject_domain_name = Default\nhttp_request_max_retries = 0\n`;

  it('answers 401 before routing, with the exact bytes and headers', async () => {
    const app: FastifyInstance = buildApp({ volumeApi: unreachableApi(), config: parseConfig(conf), logger: pino({ level: 'silent' }) });
    const res = await app.inject({ method: 'GET', url: '/v3/abc/volumes/x', headers: { host: 'localhost', 'x-roles': 'admin' } });
    expect(res.statusCode).toBe(401);
    expect(res.body).toBe(UNAUTHORIZED_BODY);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['www-authenticate']).toBe('Keystone uri="https://keystone.example:5000"');
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
    // Unknown /v3 paths too: auth runs before the v3 router, as in Cinder's paste pipeline.
    const nf = await app.inject({ method: 'GET', url: '/v3/nothing', headers: { host: 'localhost' } });
    expect(nf.statusCode).toBe(401);
    await app.close();
  });

  it('answers 503 when Keystone cannot be reached (nothing listens on port 9)', async () => {
    const app: FastifyInstance = buildApp({ volumeApi: unreachableApi(), config: parseConfig(conf), logger: pino({ level: 'silent' }) });
    const res = await app.inject({ method: 'GET', url: '/v3/abc/volumes/x', headers: { host: 'localhost', 'x-auth-token': 'tok' } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(res.body).toBe(serviceUnavailable(undefined, false).body);
    await app.close();
  });
});

/** A scripted identity server at the HTTP level, for the IdentityClient's own token logic. */
function scripted(handler: (r: HttpRequest, n: number) => HttpResponse | Error) {
  const seen: HttpRequest[] = [];
  const requester = async (r: HttpRequest) => {
    seen.push(r);
    const out = handler(r, seen.length);
    if (out instanceof Error) throw out;
    return out;
  };
  return { seen, requester };
}
const authOk = (id: string, expiresAt: number): HttpResponse => ({
  status: 201,
  headers: { 'x-subject-token': id },
  body: JSON.stringify({ token: { expires_at: iso(expiresAt), user: { id: 'svc' } } }),
});
const validateOk = (): HttpResponse => ({ status: 200, headers: {}, body: JSON.stringify(tokenBody({})) });
const OPTS = { authUrl: 'http://ks:5000', username: 'cinder', password: 'pw', userDomainName: 'Default', projectName: 'service', projectDomainId: 'default', connectRetries: 0 };

describe('IdentityClient', () => {
  it('v3 base URL from auth_url', () => {
    expect(v3Base('http://ks:5000')).toBe('http://ks:5000/v3');
    expect(v3Base('http://ks:5000/')).toBe('http://ks:5000/v3');
    expect(v3Base('http://ks/identity/v3/')).toBe('http://ks/identity/v3');
  });

  it('authenticates the service user with the password method, then validates with X-Subject-Token', async () => {
    const s = scripted((r) => (r.method === 'POST' ? authOk('S1', T0 + 3600_000) : validateOk()));
    const c = new IdentityClient(OPTS, { requester: s.requester, now: () => T0 });
    await c.validateToken('user-tok');
    expect(s.seen[0]).toMatchObject({ method: 'POST', url: 'http://ks:5000/v3/auth/tokens?nocatalog' });
    expect(JSON.parse(s.seen[0].body!)).toEqual({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'cinder', password: 'pw', domain: { name: 'Default' } } } },
        scope: { project: { name: 'service', domain: { id: 'default' } } },
      },
    });
    expect(s.seen[1]).toMatchObject({
      method: 'GET',
      url: 'http://ks:5000/v3/auth/tokens',
      headers: { 'X-Auth-Token': 'S1', 'X-Subject-Token': 'user-tok', 'OpenStack-Identity-Access-Rules': '1' },
    });
    await c.validateToken('user-tok', true);
    expect(s.seen[2].url).toBe('http://ks:5000/v3/auth/tokens?allow_expired=1');
    expect(c.authCount).toBe(1);
  });

  it('include_service_catalog = False validates with ?nocatalog', async () => {
    const s = scripted((r) => (r.method === 'POST' ? authOk('S1', T0 + 3600_000) : validateOk()));
    const c = new IdentityClient({ ...OPTS, includeCatalog: false }, { requester: s.requester, now: () => T0 });
    await c.validateToken('user-tok');
    await c.validateToken('user-tok', true);
    expect(s.seen.slice(1).map((r) => r.url)).toEqual([
      'http://ks:5000/v3/auth/tokens?nocatalog',
      'http://ks:5000/v3/auth/tokens?nocatalog&allow_expired=1',
    ]);
  });

  it('renews its own token when less than 120 s are left, once for concurrent callers', async () => {
    const clock = { now: T0 };
    let n = 0;
    const s = scripted((r) => (r.method === 'POST' ? authOk(`S${++n}`, clock.now + 3600_000) : validateOk()));
    const c = new IdentityClient(OPTS, { requester: s.requester, now: () => clock.now });
    await Promise.all([c.validateToken('a'), c.validateToken('b'), c.validateToken('c')]);
    expect(c.authCount).toBe(1);
    clock.now = T0 + 3600_000 - MIN_TOKEN_LIFE_MS - 1;
    await c.validateToken('a');
    expect(c.authCount).toBe(1);
    clock.now += 2;
    await c.validateToken('a');
    expect(c.authCount).toBe(2);
    expect(s.seen.at(-1)!.headers['X-Auth-Token']).toBe('S2');
  });

  it('404 → InvalidToken; 401 → authenticate again and retry once, then unavailable; 5xx/403 → unavailable', async () => {
    let validations = 0;
    let mode: 404 | 401 | 'stale-once' | 403 | 500 = 404;
    const s = scripted((r, i) => {
      if (r.method === 'POST') return authOk(`S${i}`, T0 + 3600_000);
      validations++;
      if (mode === 'stale-once') return validations === 1 ? { status: 401, headers: {}, body: '' } : validateOk();
      return { status: mode, headers: {}, body: '{}' };
    });
    const c = new IdentityClient(OPTS, { requester: s.requester, now: () => T0 });
    await expect(c.validateToken('t')).rejects.toBeInstanceOf(InvalidToken);
    mode = 'stale-once';
    validations = 0;
    await expect(c.validateToken('t')).resolves.toBeTruthy();
    expect(c.authCount).toBe(2);
    mode = 401;
    await expect(c.validateToken('t')).rejects.toBeInstanceOf(KeystoneUnavailable);
    mode = 403;
    await expect(c.validateToken('t')).rejects.toBeInstanceOf(KeystoneUnavailable);
    mode = 500;
    await expect(c.validateToken('t')).rejects.toBeInstanceOf(KeystoneUnavailable);
  });

  it('a refused service password is unavailable (503), not a user error', async () => {
    const s = scripted(() => ({ status: 401, headers: {}, body: '{"error": {}}' }));
    const c = new IdentityClient(OPTS, { requester: s.requester, now: () => T0 });
    await expect(c.validateToken('t')).rejects.toThrow(/rejected authorization/);
  });

  it('connection failures are retried http_request_max_retries times, 0.5 s then doubling', async () => {
    const delays: number[] = [];
    const s = scripted(() => new Error('connect ECONNREFUSED'));
    const c = new IdentityClient({ ...OPTS, connectRetries: 3 }, { requester: s.requester, now: () => T0, sleep: async (ms) => void delays.push(ms) });
    await expect(c.validateToken('t')).rejects.toThrow(/Unable to establish connection.*ECONNREFUSED/);
    expect(s.seen).toHaveLength(4);
    expect(delays).toEqual([500, 1000, 2000]);
  });
});
