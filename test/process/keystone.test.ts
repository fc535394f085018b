// auth_strategy = keystone against a REAL Keystone (Debian's `keystone` package, started by
// scripts/keystone/start.sh on 127.0.0.1 with SQLite): the cinder-api process (src/cmd/api.ts)
// validates every token with Keystone through a small counting proxy, so the tests can see which
// validations reached Keystone. Also the authenticator itself, to look at the RequestContext it
// builds. Skipped, with the reason printed, only when the keystone package cannot be installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CINDER_TS, REPO, freePort, sleep } from '../support/cluster.js';
import {
  NO_RETRIES,
  authtokenSection as authtoken,
  keystoneSkipReason,
  passwordToken as ksToken,
  startKeystone,
  stopKeystone,
  type KeystoneInfo,
  type KsUser,
} from '../support/keystone.js';
import { createVhost, deleteVhost, transportUrl } from '../support/rabbit.js';
import { createTestDb } from '../support/db.js';
import { parseConfig } from '../../src/common/config.js';
import { keystoneAuthenticatorFromConfig, UNAUTHORIZED_BODY } from '../../src/api/keystone-auth.js';
import type { AuthRequest } from '../../src/api/auth.js';

// Install (if needed) before collecting: the only reason to skip is a keystone package that
// cannot be installed on this machine.
const SKIP = keystoneSkipReason();
if (SKIP) console.warn(`keystone tier skipped: ${SKIP}`);

/** Forwards to Keystone and records what reached it (method, path, X-Subject-Token). */
class CountingProxy {
  readonly seen: { method: string; path: string; subject: string | null }[] = [];
  private server?: http.Server;
  port = 0;
  constructor(private readonly target: URL) {}

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => {
      const subject = req.headers['x-subject-token'];
      this.seen.push({ method: req.method ?? '', path: req.url ?? '', subject: typeof subject === 'string' ? subject : null });
      const up = http.request(
        { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(up);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  validations(token: string) {
    return this.seen.filter((r) => r.method === 'GET' && r.path.startsWith('/v3/auth/tokens') && r.subject === token).length;
  }
}

let ks: KeystoneInfo;
let proxy: CountingProxy;

const passwordToken = (u: KsUser, scoped = true) => ksToken(ks, u, { scoped });

const authtokenSection = (opts: { authUrl: string; extra?: string }) => authtoken(ks, { authUrl: opts.authUrl, lines: [NO_RETRIES, opts.extra ?? ''] });

/** cinder-api as its own process, auth_strategy = keystone, validating through the proxy. */
class KeystoneApi {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-ks-api-'));
  readonly vhost = createVhost('cinder-ts-ks');
  readonly logs: string[] = [];
  port = 0;
  child?: ChildProcess;
  /** Its SQLite file, or its MariaDB database with CINDER_TS_DB_ENGINE=mysql (support/db.ts). */
  readonly db = createTestDb(path.join(this.dir, 'cinder.sqlite'));
  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(authUrl: string): Promise<void> {
    this.port = await freePort();
    const conf = path.join(this.dir, 'cinder.conf');
    fs.writeFileSync(
      conf,
      [
        '[DEFAULT]',
        `transport_url = ${transportUrl(this.vhost)}`,
        'host = kshost',
        'auth_strategy = keystone',
        `state_path = ${path.join(this.dir, 'state')}`,
        'rpc_response_timeout = 5',
        'osapi_volume_listen = 127.0.0.1',
        `osapi_volume_listen_port = ${this.port}`,
        // One API process: the token cache and the service user's token asserted below live in
        // each worker (keystonemiddleware's in-process cache, without memcached, is the same).
        'osapi_volume_workers = 1',
        'log_level = info',
        '',
        '[database]',
        `connection = ${this.db.connection}`,
        '',
        '[oslo_concurrency]',
        `lock_path = ${path.join(this.dir, 'lock')}`,
        '',
        authtokenSection({ authUrl }),
        '',
      ].join('\n'),
    );
    this.child = spawn(CINDER_TS, ['api', '--config-file', conf], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sink = (b: Buffer) => this.logs.push(...b.toString().split('\n').filter(Boolean));
    this.child.stdout!.on('data', sink);
    this.child.stderr!.on('data', sink);
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      if (this.child.exitCode !== null) throw new Error(`cinder-api exited: ${this.logs.slice(-20).join('\n')}`);
      try {
        // No token: keystonemiddleware's 401 proves both the listener and the auth step.
        const r = await fetch(`${this.baseUrl}/v3/`);
        if (r.status === 401) return;
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    throw new Error(`cinder-api did not start: ${this.logs.slice(-20).join('\n')}`);
  }

  async request(method: string, p: string, headers: Record<string, string>, body?: unknown) {
    const h: Record<string, string> = { Accept: 'application/json', ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${p}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  write(statement: string, ...params: unknown[]) {
    this.db.write(statement, ...params);
  }

  setVolume(id: string, cols: Record<string, unknown>) {
    const keys = Object.keys(cols);
    this.write(`UPDATE volumes SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`, ...keys.map((k) => cols[k]), id);
  }

  async stop(): Promise<void> {
    this.db.close();
    const c = this.child;
    if (c && c.exitCode === null) {
      const done = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    }
    if (!process.env.CINDER_TS_KEEP_TMP) this.db.drop();
    deleteVhost(this.vhost);
    if (!process.env.CINDER_TS_KEEP_TMP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.skipIf(SKIP !== null)('auth_strategy = keystone with a real Keystone', () => {
  let api: KeystoneApi;
  let memberA: string; // member-a's token, scoped to project A
  let memberB: string;
  let adminTok: string;
  let serviceTok: string;
  let volA: string;
  let volB: string;
  const A = () => ks.projects.a;
  const B = () => ks.projects.b;

  beforeAll(async () => {
    const t0 = Date.now();
    ks = await startKeystone({ tmpPrefix: 'cinder-ts-keystone-' });
    console.info(`keystone started in ${((Date.now() - t0) / 1000).toFixed(1)} s (${JSON.stringify(ks.seconds)})`);

    proxy = new CountingProxy(new URL(ks.url));
    await proxy.start();
    api = new KeystoneApi();
    await api.start(`${proxy.url}/v3`);

    [memberA, memberB, adminTok, serviceTok] = await Promise.all([
      passwordToken(ks.users.member),
      passwordToken(ks.users.member_b),
      passwordToken(ks.users.admin),
      passwordToken(ks.users.service),
    ]);
    // No volume service runs here: a registered but silent one makes zone 'nova' valid, and the
    // volumes then go to error for want of a live backend (this file is about auth only).
    api.write(
      "INSERT INTO services (host, `binary`, topic, availability_zone, report_count, disabled, deleted) VALUES ('ks-nowhere@lvm', 'cinder-volume', 'cinder-volume', 'nova', 0, 0, 0)",
    );
    const ca = await api.request('POST', `/v3/${A()}/volumes`, { 'X-Auth-Token': memberA }, { volume: { size: 1, name: 'va' } });
    expect(ca.status, ca.text).toBe(202);
    volA = ca.json.volume.id;
    const cb = await api.request('POST', `/v3/${B()}/volumes`, { 'X-Auth-Token': memberB }, { volume: { size: 1, name: 'vb' } });
    expect(cb.status, cb.text).toBe(202);
    volB = cb.json.volume.id;
  }, 600_000);

  afterAll(async () => {
    await api?.stop();
    await proxy?.stop();
    if (ks) stopKeystone(ks);
  });

  it('no token: 401 with keystonemiddleware body and WWW-Authenticate', async () => {
    const r = await api.request('GET', `/v3/${A()}/volumes/${volA}`, {});
    expect(r.status).toBe(401);
    expect(r.text).toBe(UNAUTHORIZED_BODY);
    expect(JSON.parse(r.text)).toEqual({
      error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
    });
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('www-authenticate')).toBe(`Keystone uri="${ks.url}"`);
    expect(r.headers.get('x-openstack-request-id')).toMatch(/^req-/);
  });

  it('a token Keystone does not know: 401 (Keystone was asked)', async () => {
    const bad = 'gAAAAABnot-a-real-token';
    const r = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': bad });
    expect(r.status).toBe(401);
    expect(r.text).toBe(UNAUTHORIZED_BODY);
    expect(r.headers.get('www-authenticate')).toBe(`Keystone uri="${ks.url}"`);
    expect(proxy.validations(bad)).toBe(1);
  });

  it('a revoked token: 401', async () => {
    const tok = await passwordToken(ks.users.member);
    const del = await fetch(`${ks.auth_url}/auth/tokens`, { method: 'DELETE', headers: { 'X-Auth-Token': adminTok, 'X-Subject-Token': tok } });
    expect(del.status).toBe(204);
    const r = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': tok });
    expect(r.status).toBe(401);
  });

  it("a member of A reads A's volume, gets 404 for B's volume and 400 for B's URL", async () => {
    const own = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': memberA });
    expect(own.status, own.text).toBe(200);
    expect(own.json.volume.id).toBe(volA);
    expect(own.json.volume).not.toHaveProperty('os-vol-host-attr:host');
    expect(own.json.volume['os-vol-tenant-attr:tenant_id']).toBe(A());

    const other = await api.request('GET', `/v3/${A()}/volumes/${volB}`, { 'X-Auth-Token': memberA });
    expect(other.status).toBe(404);
    expect(other.json).toEqual({ itemNotFound: { code: 404, message: `Volume ${volB} could not be found.` } });

    const url = await api.request('GET', `/v3/${B()}/volumes/${volB}`, { 'X-Auth-Token': memberA });
    expect(url.status).toBe(400);
    expect(url.json).toEqual({ badRequest: { code: 400, message: 'Malformed request url' } });
  });

  it('identity headers sent by the client are ignored (X-Roles, X-Project-Id, X-Identity-Status, ...)', async () => {
    const forged = {
      'X-Auth-Token': memberA,
      'X-Roles': 'admin',
      'X-Role': 'admin',
      'X-Project-Id': B(),
      'X-Tenant-Id': B(),
      'X-User-Id': ks.users.admin.id,
      'X-Identity-Status': 'Confirmed',
      'X-Is-Admin-Project': 'True',
    };
    const other = await api.request('GET', `/v3/${A()}/volumes/${volB}`, forged);
    expect(other.status).toBe(404);
    const url = await api.request('GET', `/v3/${B()}/volumes/${volB}`, forged);
    expect(url.status).toBe(400);
    const own = await api.request('GET', `/v3/${A()}/volumes/${volA}`, forged);
    expect(own.status).toBe(200);
    expect(own.json.volume).not.toHaveProperty('os-vol-host-attr:host');
    // A forged identity without any token is still a 401.
    const none = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Roles': 'admin', 'X-User-Id': 'u', 'X-Project-Id': A(), 'X-Identity-Status': 'Confirmed' });
    expect(none.status).toBe(401);
  });

  it("all_tenants: dropped unparsed for a member (own volumes only, even 'maybe'); an admin's bad value is a 400", async () => {
    const member = await api.request('GET', `/v3/${A()}/volumes?all_tenants=maybe`, { 'X-Auth-Token': memberA });
    expect(member.status, member.text).toBe(200);
    expect(member.json.volumes.map((v: { id: string }) => v.id)).toEqual([volA]);
    const admin = await api.request('GET', `/v3/${ks.projects.admin}/volumes?all_tenants=maybe`, { 'X-Auth-Token': adminTok });
    expect(admin.status, admin.text).toBe(400);
    expect(admin.json.badRequest.message).toMatch(/all_tenants/);
  });

  it("the admin role makes an admin context: A's volume through the admin's own project, with admin-only fields", async () => {
    const r = await api.request('GET', `/v3/${ks.projects.admin}/volumes/${volA}`, { 'X-Auth-Token': adminTok });
    expect(r.status, r.text).toBe(200);
    expect(r.json.volume.id).toBe(volA);
    expect(r.json.volume).toHaveProperty('os-vol-host-attr:host');
  });

  it('a token without a project scope is accepted by Keystone but has no project: 400 Malformed request url', async () => {
    const unscoped = await passwordToken(ks.users.member, false);
    const r = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': unscoped });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ badRequest: { code: 400, message: 'Malformed request url' } });
    // Nor through the project-less URLs: no project owns nothing, so no volume is its own.
    const show = await api.request('GET', `/v3/volumes/${volA}`, { 'X-Auth-Token': unscoped });
    expect(show.status).toBe(404);
    const list = await api.request('GET', '/v3/volumes', { 'X-Auth-Token': unscoped });
    expect(list.status).toBe(403);
  });

  describe('service token (X-Service-Token) and the OSSA-2023-003 detach guard', () => {
    const unknownAttachment = '8a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
    const detach = (headers: Record<string, string>) =>
      api.request('POST', `/v3/${A()}/volumes/${volA}/action`, headers, { 'os-detach': { attachment_id: unknownAttachment } });
    const MAINTENANCE = { badRequest: { code: 400, message: 'Invalid volume: The volume cannot be detached in maintenance mode.' } };

    beforeAll(() => {
      // Past the guard the detach stops on maintenance (400): no volume service needed.
      api.setVolume(volA, { status: 'maintenance' });
    });
    afterAll(() => {
      api.setVolume(volA, { status: 'error' });
    });

    it('a user call without a service token is refused with 409', async () => {
      const r = await detach({ 'X-Auth-Token': memberA });
      expect(r.status, r.text).toBe(409);
      expect(Object.keys(r.json)).toEqual(['conflictingRequest']);
    });

    it('X-Service-Roles: service sent by the client is ignored: 409', async () => {
      const r = await detach({ 'X-Auth-Token': memberA, 'X-Service-Roles': 'service', 'X-Service-Identity-Status': 'Confirmed' });
      expect(r.status, r.text).toBe(409);
    });

    it("a valid service token with the service role passes the guard (service_roles ['service'])", async () => {
      const r = await detach({ 'X-Auth-Token': memberA, 'X-Service-Token': serviceTok });
      expect(r.status, r.text).toBe(400);
      expect(r.json).toEqual(MAINTENANCE);
    });

    it('a valid token without the service role as X-Service-Token is accepted but is no service: 409', async () => {
      const r = await detach({ 'X-Auth-Token': memberA, 'X-Service-Token': memberB });
      expect(r.status, r.text).toBe(409);
    });

    it('an invalid service token: 401, even with a valid user token', async () => {
      const r = await detach({ 'X-Auth-Token': memberA, 'X-Service-Token': 'gAAAAABbogus-service-token' });
      expect(r.status).toBe(401);
      expect(r.text).toBe(UNAUTHORIZED_BODY);
      expect(r.headers.get('www-authenticate')).toBe(`Keystone uri="${ks.url}"`);
    });
  });

  it('a validated token is cached: the second request does not reach Keystone', async () => {
    const tok = await passwordToken(ks.users.member);
    const svc = await passwordToken(ks.users.service);
    expect(proxy.validations(tok)).toBe(0);
    const first = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': tok, 'X-Service-Token': svc });
    expect(first.status).toBe(200);
    expect(proxy.validations(tok)).toBe(1);
    expect(proxy.validations(svc)).toBe(1);
    const before = proxy.seen.length;
    const second = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': tok, 'X-Service-Token': svc });
    expect(second.status).toBe(200);
    const third = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': tok });
    expect(third.status).toBe(200);
    expect(proxy.validations(tok)).toBe(1);
    expect(proxy.validations(svc)).toBe(1);
    expect(proxy.seen.length).toBe(before);
  });

  it('the service user authenticated once for all of the above', () => {
    const auths = proxy.seen.filter((r) => r.method === 'POST' && r.path.startsWith('/v3/auth/tokens'));
    expect(auths).toHaveLength(1);
  });

  it('Keystone unreachable: cached tokens still work, new ones get 503 as keystonemiddleware answers', async () => {
    const fresh = await passwordToken(ks.users.member);
    await proxy.stop();
    try {
      const cached = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': memberA });
      expect(cached.status).toBe(200);
      const r = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': fresh });
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(r.json).toEqual({
        message:
          'The server is currently unavailable. Please try again at a later time.<br /><br />\nThe Keystone service is temporarily unavailable.\n\n',
        code: '503 Service Unavailable',
        title: 'Service Unavailable',
      });
      const plain = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': fresh, Accept: '' });
      expect(plain.status).toBe(503);
    } finally {
      await proxy.start(proxy.port);
    }
    const back = await api.request('GET', `/v3/${A()}/volumes/${volA}`, { 'X-Auth-Token': fresh });
    expect(back.status).toBe(200);
  });

  describe('the RequestContext built from Keystone (authenticator called directly)', () => {
    const newAuth = (extra = '') =>
      keystoneAuthenticatorFromConfig(
        parseConfig(`[DEFAULT]\nauth_strategy = keystone\n${authtokenSection({ authUrl: ks.auth_url, extra })}\n`),
      );
    const req = (headers: Record<string, string>): AuthRequest => ({
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
      url: 'http://127.0.0.1:8776/v3/x/volumes',
      remoteAddress: '127.0.0.1',
      requestId: 'req-11111111-2222-3333-4444-555555555555',
      globalRequestId: null,
      method: 'GET',
    });
    const ctxOf = async (a: ReturnType<typeof newAuth>, headers: Record<string, string>) => {
      const out = await a.authenticate(req(headers));
      if (!out.ok) throw new Error(`${out.status} ${out.body}`);
      return out.ctx;
    };

    it('a member: ids, names, domains, roles, no admin, the token and the request id', async () => {
      const ctx = await ctxOf(newAuth(), { 'X-Auth-Token': memberA, 'X-Roles': 'admin', 'X-Service-Roles': 'service' });
      expect(ctx).toMatchObject({
        user_id: ks.users.member.id,
        project_id: A(),
        project_name: 'project-a',
        is_admin: false,
        is_admin_project: true,
        service_roles: [],
        user_domain: 'default',
        project_domain: 'default',
        auth_token: memberA,
        request_id: 'req-11111111-2222-3333-4444-555555555555',
        remote_address: '127.0.0.1',
      });
      expect([...ctx.roles].sort()).toEqual(['member', 'reader']);
    });

    it('the admin role: is_admin', async () => {
      const ctx = await ctxOf(newAuth(), { 'X-Auth-Token': adminTok });
      expect(ctx.is_admin).toBe(true);
      expect(ctx.roles).toContain('admin');
      expect(ctx.project_id).toBe(ks.projects.admin);
    });

    it("a service token: service_roles are the service token's roles", async () => {
      const ctx = await ctxOf(newAuth(), { 'X-Auth-Token': memberA, 'X-Service-Token': serviceTok });
      expect(ctx.service_roles).toEqual(['service']);
      expect(ctx.user_id).toBe(ks.users.member.id);
    });

    it('service_token_roles_required = true: a service token without the role is a 401', async () => {
      const a = newAuth('service_token_roles_required = true');
      const out = await a.authenticate(req({ 'X-Auth-Token': memberA, 'X-Service-Token': memberB }));
      expect(out.ok).toBe(false);
      expect(!out.ok && out.status).toBe(401);
      const ok = await ctxOf(a, { 'X-Auth-Token': memberA, 'X-Service-Token': serviceTok });
      expect(ok.service_roles).toEqual(['service']);
    });

    it('an unscoped token: no project', async () => {
      const ctx = await ctxOf(newAuth(), { 'X-Auth-Token': await passwordToken(ks.users.member, false) });
      expect(ctx.project_id).toBeNull();
      expect(ctx.project_name).toBeNull();
      expect(ctx.user_id).toBe(ks.users.member.id);
    });

    it('a wrong service password: 503 (keystonemiddleware cannot fetch token data)', async () => {
      const a = keystoneAuthenticatorFromConfig(
        parseConfig(
          `[DEFAULT]\nauth_strategy = keystone\n${authtokenSection({ authUrl: ks.auth_url }).replace(/^password = .*$/m, 'password = wrong')}\n`,
        ),
      );
      const out = await a.authenticate(req({ 'X-Auth-Token': memberA }));
      expect(!out.ok && out.status).toBe(503);
    });
  });
});
