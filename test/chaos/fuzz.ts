// A seeded HTTP fuzzer over every route and action of cinder-api (issue 8). It starts the real API
// and volume-manager (test/support/cluster.ts), makes a handful of volumes in assorted states, then
// sends `cases` requests one at a time: methods, paths (malformed volume/attachment/project ids),
// headers (microversions, request ids, Content-Type, Accept, huge and duplicate headers) and bodies
// (valid, mutated, wrong types, nulls, huge numbers, unicode, deep nesting, invalid JSON, empty).
//
// For every request it records the status; for every 5xx the fault body and the API/manager error
// log line of that request id, grouped by cause, with a curl reproducer; for every rejected request
// (4xx/5xx) whether the database (volumes, volume_attachment, volume_admin_metadata, workers) or the
// stand-in's LIO/LVM state changed. Requests are sequential, and the asynchronous work an accepted
// request started (create/delete casts) is waited for before the next request, so a diff belongs to
// the request that made it. Process exits are counted (there must be none).
//
//   npx tsx test/chaos/fuzz.ts --seed 1 --cases 10000
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { Tally, alive, arg, audit, report, type AuditResult } from './lib/audit.js';
import { allowed5xx, allowedChange } from './fuzz-allow.js';

// ---- options and figures ---------------------------------------------------------------------------

export interface FuzzOptions {
  seed?: number;
  cases?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Re-make fixture volumes whose state drifted every this many cases (default 150). */
  refreshEvery?: number;
}

export interface FiveXXCause {
  /** status and the normalised fault + error-log texts (the cause; routes are listed apart). */
  key: string;
  status: number;
  /** Routes that hit this cause, with counts. */
  routes: Record<string, number>;
  /** The route of the first request seen (the reproducer's). */
  route: string;
  fault: string;
  /** The API's error log line for the request (msg + err type/message), normalised. */
  apiLog: string;
  /** The manager's error log line with the same request id, if any. */
  managerLog: string;
  count: number;
  reproducer: string;
  /** What the request was aimed at when it was first seen (role and volume status). */
  target: string;
}

export interface StateChange {
  status: number | string;
  route: string;
  db: string[];
  lio: string[];
  reproducer: string;
}

export interface FuzzResult {
  seed: number;
  cases: number;
  requests: Tally;
  byStatus: Record<string, number>;
  fiveXX: FiveXXCause[];
  rejected: number;
  /** Rejected requests after which the DB changed. */
  rejectedDbChanged: number;
  /** Rejected requests after which the stand-in's LIO/LVM state changed. */
  rejectedLioChanged: number;
  stateChanges: StateChange[];
  /** 5xx causes and state changes that no entry of fuzz-allow.ts explains. */
  unlisted5xx: FiveXXCause[];
  unexplainedChanges: StateChange[];
  /** Requests the client could not read an answer for (e.g. a body on a HEAD answer), grouped. */
  clientErrors: { error: string; count: number; reproducer: string }[];
  /** Routes (method + template [+ action]) hit, with counts. */
  routes: Record<string, number>;
  timeouts: number;
  processExits: { api: string | null; volume: string | null };
  processExitCount: number;
  fixtureRefreshes: number;
  audit: AuditResult;
  alive: { api: boolean; volume: boolean };
  elapsedMs: number;
  report: string;
}

// ---- seeded randomness -----------------------------------------------------------------------------

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    // mulberry32
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  /** [weight, value] pairs. */
  weighted<T>(a: readonly (readonly [number, T])[]): T {
    const total = a.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of a) {
      if ((r -= w) < 0) return v;
    }
    return a[a.length - 1][1];
  }
  uuid(): string {
    const h = () => this.int(16).toString(16);
    const s = (n: number) => Array.from({ length: n }, h).join('');
    return `${s(8)}-${s(4)}-4${s(3)}-${this.pick(['8', '9', 'a', 'b'])}${s(3)}-${s(12)}`;
  }
}

// ---- JSON with raw tokens and duplicate keys -------------------------------------------------------

/** Text put into the JSON as is (NaN, 1e400, 1.0, a lone surrogate escape, deep nesting). */
class Raw {
  constructor(readonly text: string) {}
}
/** An object written with repeated keys. */
class Dup {
  constructor(readonly pairs: [string, unknown][]) {}
}

function ser(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Dup) return `{${v.pairs.map(([k, x]) => `${JSON.stringify(k)}: ${ser(x)}`).join(', ')}}`;
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(ser).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${ser(x)}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

// ---- the cluster's fixtures ------------------------------------------------------------------------

const PROJECT = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const OTHER = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const CONNECTOR = { initiator: 'iqn.1994-05.com.redhat:fuzz1', host: 'fuzz1', ip: '192.0.2.41', multipath: false, platform: 'x86_64' };
const CONNECTOR2 = { initiator: 'iqn.1994-05.com.redhat:fuzz2', host: 'fuzz2', ip: '192.0.2.42', multipath: false };

type Role = 'available' | 'inuse' | 'reserved' | 'detaching' | 'attachments' | 'multiattach' | 'maintenance' | 'other';
const ROLES: Role[] = ['available', 'inuse', 'reserved', 'detaching', 'attachments', 'multiattach', 'maintenance', 'other'];
/** The status a role's volume must have to still play it. */
const ROLE_STATUS: Record<Role, string> = {
  available: 'available',
  inuse: 'in-use',
  reserved: 'reserved',
  detaching: 'detaching',
  attachments: 'in-use',
  multiattach: 'in-use',
  maintenance: 'maintenance',
  other: 'available',
};

class Fixtures {
  readonly ids = new Map<Role, string>();
  readonly missing = randomUUID();
  refreshes = 0;
  constructor(
    private readonly cluster: Cluster,
    private readonly api: CinderClient,
    private readonly other: CinderClient,
  ) {}

  private async make(role: Role): Promise<string> {
    const c = this.cluster;
    const v344 = { 'OpenStack-API-Version': 'volume 3.44' };
    switch (role) {
      case 'available':
        return c.newVolume(this.api);
      case 'other':
        return c.newVolume(this.other);
      case 'maintenance': {
        const id = await c.newVolume(this.api);
        c.setVolume(id, { status: 'maintenance' });
        return id;
      }
      case 'inuse':
        return (await c.attachedVolume(this.api, CONNECTOR)).id;
      case 'detaching': {
        const { id } = await c.attachedVolume(this.api, CONNECTOR);
        const r = await this.api.action(id, { 'os-begin_detaching': null });
        if (r.status !== 202) throw new Error(`begin_detaching: ${r.status} ${r.text}`);
        return id;
      }
      case 'reserved': {
        const id = await c.newVolume(this.api);
        const r = await this.api.request('POST', `/v3/${PROJECT}/attachments`, { attachment: { volume_uuid: id, instance_uuid: randomUUID() } }, v344);
        if (r.status !== 200) throw new Error(`attachment create: ${r.status} ${r.text}`);
        return id;
      }
      case 'attachments': {
        const id = await c.newVolume(this.api);
        const r = await this.api.request(
          'POST',
          `/v3/${PROJECT}/attachments`,
          { attachment: { volume_uuid: id, instance_uuid: randomUUID(), connector: CONNECTOR2 } },
          v344,
        );
        if (r.status !== 200) throw new Error(`attachment create: ${r.status} ${r.text}`);
        const done = await this.api.request('POST', `/v3/${PROJECT}/attachments/${r.json.attachment.id}/action`, { 'os-complete': null }, v344);
        if (done.status !== 204) throw new Error(`os-complete: ${done.status} ${done.text}`);
        return id;
      }
      case 'multiattach': {
        const id = await c.newVolume(this.api);
        c.setVolume(id, { multiattach: 1 });
        for (const [body, code] of [
          [{ 'os-reserve': null }, 202],
          [{ 'os-initialize_connection': { connector: CONNECTOR } }, 200],
          [{ 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc', mode: 'rw' } }, 202],
        ] as const) {
          const r = await this.api.action(id, body);
          if (r.status !== code) throw new Error(`multiattach ${Object.keys(body)[0]}: ${r.status} ${r.text}`);
        }
        return id;
      }
    }
  }

  async setUp(): Promise<void> {
    for (const role of ROLES) this.ids.set(role, await this.make(role));
  }

  /** Re-make the volumes whose state no longer fits their role (bounded: a failed re-make keeps the old id). */
  async refresh(): Promise<number> {
    let n = 0;
    for (const role of ROLES) {
      const row = this.cluster.volumeRow(this.ids.get(role)!);
      if (row && !row.deleted && row.status === ROLE_STATUS[role]) continue;
      try {
        this.ids.set(role, await this.make(role));
        n++;
      } catch {
        /* the cluster may be in a state that refuses it; keep fuzzing the old one */
      }
    }
    this.refreshes += n;
    return n;
  }
}

// ---- state snapshots -------------------------------------------------------------------------------

const TABLES = ['volumes', 'volume_attachment', 'volume_admin_metadata', 'workers'] as const;

class StateReader {
  private readonly db: Database.Database;
  private readonly stmts: Database.Statement[];
  constructor(private readonly cluster: Cluster) {
    this.db = new Database(cluster.dbFile, { readonly: true, fileMustExist: true });
    this.stmts = TABLES.map((t) => this.db.prepare(`SELECT * FROM ${t} ORDER BY id`));
  }
  close() {
    this.db.close();
  }
  dbRows(): Map<string, string>[] {
    return this.stmts.map((s) => {
      const m = new Map<string, string>();
      for (const r of s.all() as Record<string, unknown>[]) m.set(String(r.id), JSON.stringify(r));
      return m;
    });
  }
  /** targets/<iqn> and lvm/<vg>/<lv> of the stand-in, path → content. */
  lio(): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (dir: string, rel: string) => {
      if (!fs.existsSync(dir)) return;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
        else out.set(`${rel}${e.name}`, fs.readFileSync(p, 'utf8'));
      }
    };
    walk(path.join(this.cluster.standinState, 'targets'), 'targets/');
    walk(path.join(this.cluster.standinState, 'lvm'), 'lvm/');
    return out;
  }
  workers(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM workers').get() as { n: number }).n;
  }
  volumeStatus(id: string): { status: string; deleted: number } | undefined {
    return this.db.prepare('SELECT status, deleted FROM volumes WHERE id = ?').get(id) as { status: string; deleted: number } | undefined;
  }
  attachmentIds(): { id: string; volume_id: string; deleted: number }[] {
    return this.db.prepare('SELECT id, volume_id, deleted FROM volume_attachment').all() as { id: string; volume_id: string; deleted: number }[];
  }
  volumeIds(): string[] {
    return (this.db.prepare('SELECT id FROM volumes').all() as { id: string }[]).map((r) => r.id);
  }
}

function diffMaps(before: Map<string, string>, after: Map<string, string>, label: string): string[] {
  const out: string[] = [];
  for (const [k, v] of after) {
    const b = before.get(k);
    if (b === undefined) out.push(`${label} +${k} ${v.slice(0, 2000)}`);
    else if (b !== v) {
      if (v.startsWith('{')) {
        const bo = JSON.parse(b) as Record<string, unknown>;
        const ao = JSON.parse(v) as Record<string, unknown>;
        const cols = Object.keys(ao).filter((c) => JSON.stringify(ao[c]) !== JSON.stringify(bo[c]));
        out.push(`${label} ~${k} ${cols.map((c) => `${c}: ${JSON.stringify(bo[c])}→${JSON.stringify(ao[c])}`).join(', ')}`);
      } else out.push(`${label} ~${k} ${JSON.stringify(b)}→${JSON.stringify(v)}`);
    }
  }
  for (const k of before.keys()) if (!after.has(k)) out.push(`${label} -${k}`);
  return out;
}

// ---- requests --------------------------------------------------------------------------------------

interface Req {
  method: string;
  path: string;
  headers: [string, string][];
  body: Buffer | null;
  /** Send without Content-Length (chunked). */
  chunked: boolean;
  /** Route label for the figures: "POST /v3/{p}/volumes/{id}/action os-detach". */
  route: string;
  /** What the id in the path is: a fixture role, 'pool', 'missing', 'malformed'. */
  target: string;
  targetId?: string;
}

interface Res {
  status: number | 'timeout' | 'error';
  headers: http.IncomingHttpHeaders;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function send(port: number, r: Req, timeoutMs = 30000): Promise<Res> {
  return new Promise((resolve) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of r.headers) {
      const cur = headers[k];
      if (cur === undefined) headers[k] = v;
      else headers[k] = Array.isArray(cur) ? [...cur, v] : [cur, v];
    }
    if (r.body !== null && !r.chunked) headers['Content-Length'] = String(r.body.length);
    let done = false;
    const finish = (x: Res) => {
      if (!done) {
        done = true;
        resolve(x);
      }
    };
    let req: http.ClientRequest;
    try {
      req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => finish({ status: 'error', headers: {}, body: '' }));
      });
    } catch (e) {
      finish({ status: 'error', headers: {}, body: String(e) });
      return;
    }
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      finish({ status: 'timeout', headers: {}, body: '' });
    });
    req.on('error', (e) => finish({ status: 'error', headers: {}, body: String(e) }));
    if (r.body !== null) req.end(r.body);
    else req.end();
  });
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function reproducer(r: Req): string {
  const parts = ['curl -si', '-X', r.method];
  for (const [k, v] of r.headers) parts.push('-H', shq(`${k}: ${v.length > 200 ? `${v.slice(0, 40)}…(${v.length} chars)` : v}`));
  if (r.chunked) parts.push('-H', shq('Transfer-Encoding: chunked'));
  let pre = '';
  if (r.body !== null) {
    const txt = r.body.toString('utf8');
    if (r.body.length <= 2000 && Buffer.from(txt, 'utf8').equals(r.body) && !/[\x00-\x08\x0b-\x1f']/.test(txt)) {
      parts.push('--data-binary', shq(txt));
    } else {
      pre = `printf %s ${shq(r.body.length <= 3000 ? r.body.toString('base64') : `<${r.body.length}-byte body, starts ${r.body.subarray(0, 60).toString('base64')}>`)} | base64 -d | `;
      parts.push('--data-binary', '@-');
    }
  }
  parts.push(shq(`http://127.0.0.1:$PORT${r.path}`));
  return pre + parts.join(' ');
}

/** Replace ids, request ids, numbers that vary, so that one cause groups one way. */
function normalise(s: string): string {
  return s
    .replace(/req-[0-9a-f-]{36}/gi, 'req-<id>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\b[0-9a-f]{32}\b/g, '<hex32>')
    .slice(0, 300);
}

// ---- the generator ---------------------------------------------------------------------------------

const VERSIONS: readonly (readonly [number, string | null])[] = [
  [12, null],
  [6, 'volume 3.0'],
  [8, 'volume 3.27'],
  [10, 'volume 3.44'],
  [6, 'volume 3.54'],
  [6, 'volume latest'],
  [2, 'volume 3.70'],
  [2, 'volume 3.71'],
  [1, 'volume 3.26'],
  [1, 'volume 3.43'],
  [1, 'volume 3.53'],
  [1, 'volume 2.0'],
  [1, 'volume 4.0'],
  [1, 'volume 3.'],
  [1, 'volume 3.01'],
  [1, 'volume 03.1'],
  [1, 'volume 3.99999999999999999999'],
  [1, 'volume 99999999999999999999.0'],
  [1, 'volume'],
  [1, 'volume  3.44'],
  [1, 'compute 2.1'],
  [1, 'volume 3.44, compute 2.1'],
  [1, 'compute 2.1, volume 3.44'],
  [1, ''],
  [1, 'VOLUME 3.44'],
  [1, 'volume 3.44 extra'],
  [1, 'volumes 3.27'],
  [1, 'volume 1.0'],
  [1, 'volume 0.0'],
  [1, 'volume -3.1'],
  [1, 'volume 3.1e2'],
  [1, 'volume 3.44,volume 3.0'],
  [1, 'volume\t3.44'],
  [1, 'volume 3.44\xe9'],
];

const CONTENT_TYPES: readonly (readonly [number, string | null])[] = [
  [30, 'application/json'],
  [4, 'application/vnd.openstack.volume+json'],
  [3, 'application/json; charset=utf-8'],
  [2, null],
  [1, 'text/plain'],
  [1, 'application/xml'],
  [1, ''],
  [1, 'APPLICATION/JSON'],
  [1, 'application/json;'],
  [1, ' application/json'],
  [1, 'multipart/form-data; boundary=x'],
  [1, 'application/x-www-form-urlencoded'],
  [1, 'application/json\xe9'],
];

const ACCEPTS: readonly (readonly [number, string | null])[] = [
  [20, 'application/json'],
  [8, null],
  [2, '*/*'],
  [1, 'application/xml'],
  [1, 'text/html'],
  [1, 'text/plain'],
  [1, 'application/vnd.openstack.volume+json'],
  [1, 'application/json;q=0'],
  [1, 'garbage'],
  [1, 'application/*'],
  [1, ''],
  [1, 'application/json, text/html;q=0.9'],
  [1, 'a/b;q=2'],
  [1, 'application/xml;q=0.5, application/json;q=0.4'],
  [1, 'text/*;q=1, */*;q=0'],
];

const STATUSES = ['available', 'in-use', 'error', 'detaching', 'creating', 'deleting', 'reserved', 'maintenance', 'attaching', 'error_deleting', 'error_detaching', 'AVAILABLE', 'bogus', ''];
const ATTACH_STATUSES = ['attached', 'detached', 'ATTACHED', 'attaching', 'bogus', ''];
const MIGRATION_STATUSES = ['migrating', 'error', 'success', 'completing', 'none', 'starting', 'None', 'bogus', ''];

class Generator {
  /** Every volume id seen (fixtures of earlier rounds, fuzzer-created ones). */
  pool: string[] = [];
  attachments: { id: string; volume_id: string }[] = [];
  constructor(
    private readonly rng: Rng,
    private readonly fx: Fixtures,
  ) {}

  // -- values --
  huge(): Raw {
    return new Raw(
      this.rng.pick([
        '1e309', '-1e309', '1E400', 'NaN', 'Infinity', '-Infinity', '9007199254740993', '123456789012345678901234567890',
        '-0', '1.0', '2147483648', '2147483647', '-2147483649', '18446744073709551616', '1e-400', '0.1', '1' + '0'.repeat(400),
      ]),
    );
  }
  str(): unknown {
    const r = this.rng;
    return r.weighted<unknown>([
      [3, ''],
      [3, 'x'],
      [2, ' '],
      [2, 'a'.repeat(r.pick([255, 256, 1000, 20000]))],
      [3, 'üñíçødé €😀'],
      [1, '\u0000'],
      [1, new Raw('"\\ud800"')],
      [1, new Raw('"\\udfff\\ud800x"')],
      [2, r.uuid()],
      [1, r.uuid().toUpperCase()],
      [1, r.uuid().replace(/-/g, '')],
      [1, 'null'],
      [1, 'True'],
      [1, '1'],
      [1, '/'],
      [1, '../../etc/passwd'],
      [1, "x' OR '1'='1"],
      [1, '%s%s%(x)s{0}'],
      [1, '\n\t\r'],
    ]);
  }
  deep(): Raw {
    const n = this.rng.pick([20, 200, 999, 1001, 3000, 20000, 50000]);
    const kind = this.rng.int(3);
    if (kind === 0) return new Raw('['.repeat(n) + ']'.repeat(n));
    if (kind === 1) return new Raw('{"a": '.repeat(n) + '1' + '}'.repeat(n));
    return new Raw('[{"a": '.repeat(Math.floor(n / 2)) + 'null' + '}]'.repeat(Math.floor(n / 2)));
  }
  value(depth = 0): unknown {
    const r = this.rng;
    return r.weighted<() => unknown>([
      [4, () => null],
      [2, () => r.chance(0.5)],
      [3, () => r.pick([0, -1, 1, 2, 3, 100, 1.5])],
      [3, () => this.huge()],
      [6, () => this.str()],
      [2, () => []],
      [2, () => ({})],
      [1, () => (depth < 3 ? [this.value(depth + 1)] : [])],
      [1, () => (depth < 3 ? { [this.key()]: this.value(depth + 1) } : {})],
      [1, () => this.deep()],
      [1, () => new Dup([['a', 1], ['a', null]])],
    ])();
  }
  key(): string {
    return this.rng.pick(['', 'x', 'type', 'id', 'connector', 'attachment_id', 'volume_uuid', 'ü', 'a'.repeat(300), ' ', 'host', 'size', '__proto__', 'constructor', 'toString']);
  }

  /** 1–3 mutations of a body tree (objects and arrays are copied on the way). */
  mutate(body: unknown): unknown {
    const n = 1 + this.rng.int(3);
    let b = body;
    for (let i = 0; i < n; i++) b = this.mutateOnce(b, 0);
    return b;
  }
  private mutateOnce(v: unknown, depth: number): unknown {
    const r = this.rng;
    const isObj = v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw) && !(v instanceof Dup);
    if (isObj && depth < 6 && r.chance(0.65)) {
      const o = { ...(v as Record<string, unknown>) };
      const keys = Object.keys(o);
      const op = r.int(keys.length ? 6 : 2);
      if (op === 0) o[this.key()] = this.value();
      else if (op === 1) return this.value();
      else {
        const k = r.pick(keys);
        if (op === 2) delete o[k];
        else if (op === 3) o[k] = this.mutateOnce(o[k], depth + 1);
        else if (op === 4) {
          const val = o[k];
          delete o[k];
          o[r.pick([k.toUpperCase(), ` ${k}`, `${k}x`, k.replace('_', '-')])] = val;
        } else return new Dup([...Object.entries(o), [k, this.value()]]);
      }
      return o;
    }
    if (Array.isArray(v) && v.length && r.chance(0.5)) return v.map((x) => (r.chance(0.5) ? this.mutateOnce(x, depth + 1) : x));
    return r.weighted<() => unknown>([
      [8, () => this.value()],
      [1, () => [v]],
      [1, () => ({ x: v })],
      [1, () => (typeof v === 'string' ? v.toUpperCase() : this.value())],
      [1, () => (typeof v === 'string' ? ` ${v} ` : this.value())],
      [1, () => (typeof v === 'string' ? `${v}${'x'.repeat(300)}` : this.value())],
    ])();
  }

  /** Body bytes: valid (the template), mutated tree, or a mutated text. */
  bodyBytes(template: unknown, validShare = 0.35): Buffer {
    const r = this.rng;
    const mode = r.weighted<string>([
      [validShare * 100, 'valid'],
      [50, 'tree'],
      [12, 'text'],
    ]);
    if (mode === 'valid') return Buffer.from(ser(template));
    if (mode === 'tree') return Buffer.from(ser(this.mutate(template)));
    const text = ser(template);
    return r.weighted<() => Buffer>([
      [3, () => Buffer.from(text.slice(0, r.int(text.length)))],
      [2, () => Buffer.from(`${text}${r.pick(['x', '}', ',', ' null', '\u0000', '{}'])}`)],
      [1, () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
      [1, () => Buffer.from(text.replace(/"([^"]*)"/, '"$1\xff"'), 'latin1')],
      [1, () => Buffer.from([0xff, 0xfe, 0x7b, 0x7d])],
      [1, () => Buffer.from([0xc3, 0x28, 0xa0, 0xa1])],
      [2, () => Buffer.alloc(0)],
      [1, () => Buffer.from('   \n\t ')],
      [2, () => Buffer.from(r.pick(['null', '[]', '""', '"a"', '["a"]', '[1, 2]', '1', 'true', '{}', 'NaN', '"ab"', '[null]']))],
      [1, () => Buffer.from(this.deep().text)],
      [1, () => Buffer.from(`{"a": "${'x'.repeat(r.pick([100000, 114600, 120000]))}"}`)],
      [1, () => Buffer.from(text.replace(/: /, ': ' + '['.repeat(1500)) + ']'.repeat(1500))],
      [1, () => Buffer.from(`${text}\n${text}`)],
      [1, () => Buffer.from(text, 'utf16le')],
    ])();
  }

  // -- ids --
  volumeId(): { id: string; target: string } {
    const r = this.rng;
    return r.weighted<() => { id: string; target: string }>([
      [60, () => {
        const role = r.pick(ROLES);
        return { id: this.fx.ids.get(role)!, target: role };
      }],
      [10, () => (this.pool.length ? { id: r.pick(this.pool), target: 'pool' } : { id: this.fx.missing, target: 'missing' })],
      [8, () => ({ id: this.fx.missing, target: 'missing' })],
      [10, () => ({ id: encodeURIComponent(this.malformedId()), target: 'malformed' })],
      [1, () => ({ id: '%zz', target: 'malformed' })],
      [1, () => ({ id: '%', target: 'malformed' })],
    ])();
  }
  malformedId(): string {
    const r = this.rng;
    const base = this.fx.ids.get('available')!;
    return r.pick([
      base.toUpperCase(),
      base.replace(/-/g, ''),
      `${base}x`,
      base.slice(0, 35),
      `{${base}}`,
      `urn:uuid:${base}`,
      ' ',
      'ü',
      '😀',
      '\u0000',
      'a'.repeat(300),
      'f'.repeat(10000),
      '..',
      '.',
      'detail',
      'summary',
      "1' OR '1'='1",
      '-1',
      '0',
      'null',
      '%',
      'a/b',
      '%2F',
      'id?x=1',
      'id#frag',
    ]);
  }
  attachmentId(): { id: string; target: string } {
    const r = this.rng;
    if (this.attachments.length && r.chance(0.65)) {
      const a = r.pick(this.attachments);
      const role = [...this.fx.ids].find(([, id]) => id === a.volume_id)?.[0];
      return { id: a.id, target: role ? `att:${role}` : 'att:pool' };
    }
    if (r.chance(0.5)) return { id: r.uuid(), target: 'missing' };
    return { id: encodeURIComponent(this.malformedId()), target: 'malformed' };
  }
  attachmentOf(volumeId: string): string | null {
    const own = this.attachments.filter((a) => a.volume_id === volumeId);
    if (own.length && this.rng.chance(0.8)) return this.rng.pick(own).id;
    return this.rng.pick([null, this.rng.uuid(), this.attachments.length ? this.rng.pick(this.attachments).id : null]);
  }
  project(): string {
    const r = this.rng;
    return r.weighted<string>([
      [90, PROJECT],
      [3, OTHER],
      [1, PROJECT.toUpperCase()],
      [1, 'admin'],
      [1, 'f'.repeat(300)],
      [1, '-'],
      [1, '0'],
      [1, 'ü'],
      [1, `${PROJECT}%20`],
    ]);
  }
  connector(): unknown {
    return this.rng.pick([CONNECTOR, CONNECTOR2, { initiator: 'iqn.1994-05.com.redhat:fuzz3', host: 'fuzz3' }, { host: 'fuzz4' }]);
  }

  query(kind: 'volumes' | 'attachments' | 'delete'): string {
    const r = this.rng;
    if (r.chance(0.4)) return '';
    const keys =
      kind === 'delete'
        ? ['cascade', 'force', 'x']
        : ['limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir', 'all_tenants', 'status', 'name', 'volume_id', 'instance_id', 'attach_status', 'project_id', 'with_count', 'metadata', 'x', 'ü', 'status~', 'created_at'];
    const values = [
      '', '0', '1', '-1', '2', '1000', '1e3', '1.5', '99999999999999999999', 'abc', 'true', 'True', 'false', 'yes', 'no', 'asc', 'desc', 'ASC',
      'name:asc', 'created_at:desc,id', 'id:sideways', 'size', 'bogus', 'display_name', 'attach_status', r.uuid(),
      this.fx.ids.get('available')!, 'ü', 'a'.repeat(300), '%', "'", '{"k": "v"}', 'null', 'None',
    ];
    const n = 1 + r.int(3);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = r.pick(keys);
      const v = r.pick(values);
      parts.push(r.chance(0.05) ? `${k}=%zz` : r.chance(0.03) ? k : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
    }
    return `?${parts.join('&')}`;
  }

  // -- requests --
  next(): Req {
    const r = this.rng;
    const kind = r.weighted<string>([
      [26, 'action'],
      [5, 'vol-show'],
      [4, 'vol-list'],
      [4, 'vol-create'],
      [3, 'vol-delete'],
      [4, 'att-list'],
      [3, 'att-show'],
      [6, 'att-create'],
      [4, 'att-update'],
      [3, 'att-delete'],
      [4, 'att-complete'],
      [3, 'versions'],
      [3, 'odd-path'],
    ]);
    const p = this.project();
    const noProject = r.chance(0.05);
    const base = noProject ? '/v3' : `/v3/${encodeURIComponent(p).replace('%2520', '%20')}`;
    const bp = noProject ? '/v3' : '/v3/{p}';
    let method = 'GET';
    let pth = '';
    let route = '';
    let body: Buffer | null = null;
    let target = '';
    let targetId: string | undefined;
    const v = () => {
      const x = this.volumeId();
      target = x.target;
      targetId = x.id;
      return x.id;
    };
    const a = () => {
      const x = this.attachmentId();
      target = x.target;
      targetId = x.id;
      return x.id;
    };
    switch (kind) {
      case 'action': {
        const id = v();
        method = 'POST';
        pth = `${base}/volumes/${id}/action`;
        const name = r.weighted<string>([
          [4, 'os-reserve'],
          [4, 'os-unreserve'],
          [4, 'os-begin_detaching'],
          [4, 'os-roll_detaching'],
          [6, 'os-attach'],
          [6, 'os-detach'],
          [6, 'os-initialize_connection'],
          [6, 'os-terminate_connection'],
          [4, 'os-force_detach'],
          [4, 'os-reset_status'],
          [1, 'os-extend'],
          [1, 'os-complete'],
          [1, 'OS-RESERVE'],
          [1, ''],
        ]);
        const inner: Record<string, () => unknown> = {
          'os-reserve': () => r.pick([null, {}, { fake: 'fake' }]),
          'os-unreserve': () => null,
          'os-begin_detaching': () => null,
          'os-roll_detaching': () => null,
          'os-attach': () =>
            r.chance(0.8)
              ? { instance_uuid: r.uuid(), mountpoint: '/dev/vdb', mode: r.pick(['rw', 'ro']) }
              : { host_name: 'fuzzhost', mountpoint: '/dev/vdb' },
          'os-detach': () => ({ attachment_id: this.attachmentOf(id) }),
          'os-initialize_connection': () => ({ connector: this.connector() }),
          'os-terminate_connection': () => ({ connector: this.connector() }),
          'os-force_detach': () => ({ attachment_id: this.attachmentOf(id), connector: r.pick([this.connector(), null]) }),
          'os-reset_status': () => {
            const o: Record<string, unknown> = {};
            if (r.chance(0.7)) o.status = r.pick(STATUSES);
            if (r.chance(0.4)) o.attach_status = r.pick(ATTACH_STATUSES);
            if (r.chance(0.2)) o.migration_status = r.pick(MIGRATION_STATUSES);
            return o;
          },
          'os-extend': () => ({ new_size: 2 }),
          'os-complete': () => null,
          'OS-RESERVE': () => null,
          '': () => null,
        };
        route = `POST ${bp}/volumes/{id}/action ${name || '(empty)'}`;
        const tmpl = { [name]: inner[name]() };
        body = this.bodyBytes(tmpl, name === 'os-reset_status' ? 0.15 : 0.3);
        break;
      }
      case 'vol-show':
        pth = `${base}/volumes/${v()}`;
        route = `GET ${bp}/volumes/{id}`;
        break;
      case 'vol-list': {
        const detail = r.chance(0.5);
        pth = `${base}/volumes${detail ? '/detail' : ''}${this.query('volumes')}`;
        route = `GET ${bp}/volumes${detail ? '/detail' : ''}`;
        target = 'list';
        break;
      }
      case 'vol-create': {
        method = 'POST';
        pth = `${base}/volumes`;
        route = `POST ${bp}/volumes`;
        target = 'new';
        const vol: Record<string, unknown> = { size: r.pick([1, 1, 1, '1', 2]) };
        if (r.chance(0.5)) vol.name = r.pick(['fz', '  padded  ', 'ü']);
        if (r.chance(0.3)) vol.description = 'fuzz';
        if (r.chance(0.2)) vol.metadata = { k: 'v' };
        if (r.chance(0.2)) vol.availability_zone = r.pick(['nova', 'elsewhere']);
        if (r.chance(0.1)) vol.volume_type = r.pick(['__DEFAULT__', 'lvm', r.uuid()]);
        if (r.chance(0.1)) vol.multiattach = r.pick([false, 'false', true]);
        if (r.chance(0.05)) vol.source_volid = this.fx.ids.get('available');
        if (r.chance(0.05)) vol.snapshot_id = r.uuid();
        if (r.chance(0.05)) vol.imageRef = 'img';
        const tmpl: Record<string, unknown> = { volume: vol };
        if (r.chance(0.1)) tmpl['OS-SCH-HNT:scheduler_hints'] = r.pick([{ same_host: [r.uuid()] }, null, { local_to_instance: r.uuid() }]);
        body = this.bodyBytes(tmpl, 0.25);
        break;
      }
      case 'vol-delete': {
        method = 'DELETE';
        // Mostly volumes this fuzzer made or missing ones; fixtures now and then.
        if (this.pool.length && r.chance(0.5)) {
          targetId = r.pick(this.pool);
          target = 'pool';
        } else v();
        pth = `${base}/volumes/${targetId}${this.query('delete')}`;
        route = `DELETE ${bp}/volumes/{id}`;
        break;
      }
      case 'att-list': {
        const detail = r.chance(0.5);
        pth = `${base}/attachments${detail ? '/detail' : r.chance(0.1) ? '/summary' : ''}${this.query('attachments')}`;
        route = `GET ${bp}/attachments${detail ? '/detail' : pth.includes('/summary') ? '/summary' : ''}`;
        target = 'list';
        break;
      }
      case 'att-show':
        pth = `${base}/attachments/${a()}`;
        route = `GET ${bp}/attachments/{id}`;
        break;
      case 'att-create': {
        method = 'POST';
        pth = `${base}/attachments`;
        route = `POST ${bp}/attachments`;
        const vid = this.volumeId();
        target = vid.target;
        targetId = vid.id;
        const att: Record<string, unknown> = { volume_uuid: decodeURIComponent(safeDecodeable(vid.id)) };
        if (r.chance(0.8)) att.instance_uuid = r.uuid();
        if (r.chance(0.5)) att.connector = this.connector();
        if (r.chance(0.3)) att.mode = r.pick(['rw', 'ro']);
        body = this.bodyBytes({ attachment: att }, 0.3);
        break;
      }
      case 'att-update':
        method = 'PUT';
        pth = `${base}/attachments/${a()}`;
        route = `PUT ${bp}/attachments/{id}`;
        body = this.bodyBytes({ attachment: { connector: this.connector() } }, 0.3);
        break;
      case 'att-delete':
        method = 'DELETE';
        pth = `${base}/attachments/${a()}`;
        route = `DELETE ${bp}/attachments/{id}`;
        break;
      case 'att-complete':
        method = 'POST';
        pth = `${base}/attachments/${a()}/action`;
        route = `POST ${bp}/attachments/{id}/action os-complete`;
        body = this.bodyBytes({ 'os-complete': null }, 0.5);
        break;
      case 'versions': {
        pth = r.pick(['/', '/v3', '/v3/', '/v2/', '/v1/', '/v3//', '/?x=1', '/v3/?x=1']);
        method = r.pick(['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
        route = `${method} ${pth.replace(/\?.*/, '')}`;
        target = 'versions';
        if (method !== 'GET' && r.chance(0.5)) body = this.bodyBytes({ a: 1 }, 0.5);
        break;
      }
      case 'odd-path': {
        const id = v();
        pth = r.pick([
          `${base}`,
          `${base}/`,
          `${base}/volumes/`,
          `${base}/volumes/${id}/`,
          `${base}/volumes/${id}/action/`,
          `${base}/volumes/${id}/action/x`,
          `${base}/volumes/${id}/metadata`,
          `${base}/volumes/${id}/attachments`,
          `${base}/snapshots`,
          `${base}/attachments/`,
          `${base}//volumes`,
          `${base}/volumes//action`,
          `${base}/volumes/detail/x`,
          `${base}/VOLUMES`,
          `${base}/volumes%2F${id}`,
          `${base}/types`,
          `/v3/${PROJECT}/../${PROJECT}/volumes`,
        ]);
        route = `ODD ${pth.replace(base, bp).replace(id, '{id}')}`;
        break;
      }
    }
    // Any method now and then, on any path.
    if (kind !== 'versions' && r.chance(0.06)) {
      method = r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
      route = `${method}* ${route.split(' ').slice(1).join(' ')}`;
      if (r.chance(0.5) && body === null) body = this.bodyBytes({ x: 1 });
    }
    // A body where there is none (GET/DELETE) now and then.
    if (body === null && r.chance(0.04)) body = this.bodyBytes({ volume: { size: 1 } });

    const headers: [string, string][] = [];
    const token = r.weighted<string | null>([
      [90, `fuzz:${PROJECT}`],
      [3, `fuzz:${OTHER}`],
      [2, null],
      [1, 'fuzz'],
      [1, ':'],
      [1, `a:b:${PROJECT}`],
      [1, `fuzz:${PROJECT.toUpperCase()}`],
      [1, 't'.repeat(5000)],
    ]);
    if (token !== null) headers.push(['X-Auth-Token', token]);
    const version = r.weighted(VERSIONS);
    if (version !== null) headers.push(['OpenStack-API-Version', version]);
    if (r.chance(0.03)) headers.push(['OpenStack-API-Version', r.weighted(VERSIONS) ?? 'volume 3.0']);
    if (body !== null || r.chance(0.05)) {
      const ct = r.weighted(CONTENT_TYPES);
      if (ct !== null) headers.push(['Content-Type', ct]);
      if (r.chance(0.02)) headers.push(['Content-Type', 'text/plain']);
    }
    const acc = r.weighted(ACCEPTS);
    if (acc !== null) headers.push(['Accept', acc]);
    if (r.chance(0.1)) {
      headers.push([
        'X-OpenStack-Request-ID',
        r.pick([`req-${r.uuid()}`, `req-${r.uuid().toUpperCase()}`, 'garbage', '', `req-${'a'.repeat(8000)}`, `req-${r.uuid()}, req-${r.uuid()}`]),
      ]);
    }
    if (r.chance(0.02)) headers.push(['X-OpenStack-Request-ID', `req-${r.uuid()}`]);
    if (r.chance(0.15)) headers.push(['X-Service-Roles', r.pick(['service', 'Service', '', 'admin,service', ',,,'])]);
    if (r.chance(0.05)) headers.push(['X-Roles', r.pick(['member', 'reader', 'admin', ''])]);
    if (r.chance(0.03)) headers.push(['X-Forwarded-Host', r.pick(['example.org', 'a, b', ''])]);
    if (r.chance(0.03)) headers.push(['X-Pad', 'p'.repeat(r.pick([1000, 8000, 15000, 17000, 40000]))]);
    if (r.chance(0.02)) for (let i = 0; i < 50; i++) headers.push([`X-Many-${i}`, 'v']);
    if (r.chance(0.02)) headers.push(['X-Auth-Token', `fuzz:${PROJECT}`]);
    return { method, path: pth, headers, body, chunked: body !== null && r.chance(0.05), route, target, targetId };
  }
}

/** A percent-encoded id may not decode (a '%zz' id); the attachment body then carries it raw. */
function safeDecodeable(s: string): string {
  try {
    decodeURIComponent(s);
    return s;
  } catch {
    return encodeURIComponent(s);
  }
}

// ---- the run ---------------------------------------------------------------------------------------

/**
 * The error line (level >= 50) a request left in a service's log: among the lines written since the
 * request was sent (`from`), the one naming its request id, else (the root app sends no request id
 * header) the last error line of that range.
 */
function errorLine(lines: string[], from: number, requestId: string): string {
  const start = from <= lines.length ? from : Math.max(0, lines.length - 200);
  let fallback = '';
  for (let i = lines.length - 1; i >= start; i--) {
    const l = lines[i];
    let j: { level?: number; msg?: string; err?: { type?: string; message?: string } };
    try {
      j = JSON.parse(l);
    } catch {
      continue;
    }
    if ((j.level ?? 0) < 50) continue;
    const text = normalise(`${j.msg ?? ''}${j.err ? ` [${j.err.type}: ${j.err.message}]` : ''}`);
    if (requestId && l.includes(requestId)) return text;
    if (!fallback) fallback = text;
  }
  return requestId ? '' : fallback;
}

export async function run(opts: FuzzOptions = {}): Promise<FuzzResult> {
  const seed = opts.seed ?? 1;
  const cases = opts.cases ?? 1000;
  const refreshEvery = opts.refreshEvery ?? 150;
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const rng = new Rng(seed);
  const cluster = new Cluster({ rpcResponseTimeout: 10 });
  const exits: { api: string | null; volume: string | null } = { api: null, volume: null };
  let reader: StateReader | undefined;
  try {
    await cluster.start();
    for (const which of ['api', 'volume'] as const) {
      cluster[which]!.once('exit', (code, signal) => {
        exits[which] = `code=${code} signal=${signal}`;
      });
    }
    const api = new CinderClient(cluster.baseUrl, PROJECT, 'fuzz');
    const other = new CinderClient(cluster.baseUrl, OTHER, 'other');
    const fx = new Fixtures(cluster, api, other);
    await fx.setUp();
    reader = new StateReader(cluster);
    const gen = new Generator(rng, fx);
    const tally = new Tally();
    const routes: Record<string, number> = {};
    const causes = new Map<string, FiveXXCause>();
    const changes: StateChange[] = [];
    let rejected = 0;
    let dbChanged = 0;
    let lioChanged = 0;
    let timeouts = 0;
    const clientErrors = new Map<string, { error: string; count: number; reproducer: string }>();
    const refreshPools = () => {
      gen.pool = reader!.volumeIds();
      gen.attachments = reader!.attachmentIds().filter((x) => !x.deleted || rng.chance(0.2));
    };
    refreshPools();

    for (let i = 0; i < cases; i++) {
      if (exits.api || exits.volume) break;
      if (i > 0 && i % refreshEvery === 0) {
        await fx.refresh();
        refreshPools();
      }
      if (i > 0 && i % 1000 === 0) log(`case ${i}: ${tally.toString()} (${Math.round((Date.now() - t0) / 1000)} s)`);
      const req = gen.next();
      routes[req.route] = (routes[req.route] ?? 0) + 1;
      const dbBefore = reader.dbRows();
      const lioBefore = reader.lio();
      const targetState = req.targetId ? reader.volumeStatus(req.targetId)?.status : undefined;
      const logFrom = { api: cluster.logs.api.length, volume: cluster.logs.volume.length };
      const res = await send(cluster.port, req);
      tally.add(res.status);
      if (res.status === 'timeout') timeouts++;
      if (res.status === 'error') {
        const k = normalise(res.body);
        const ce = clientErrors.get(k);
        if (ce) ce.count++;
        else clientErrors.set(k, { error: k, count: 1, reproducer: reproducer(req) });
      }
      // A timeout is a server failure (599 here); a client-side read error is counted apart.
      const status = res.status === 'timeout' ? 599 : res.status === 'error' ? 0 : res.status;

      if (status >= 400 || status === 0) {
        rejected++;
        const requestId = String(res.headers['x-openstack-request-id'] ?? '');
        if (status >= 500) {
          // Let the log lines arrive (and any late effect of the request show).
          await sleep(60);
          const fault = normalise(res.body.slice(0, 400));
          const apiLog = errorLine(cluster.logs.api, logFrom.api, requestId);
          const managerLog = requestId ? errorLine(cluster.logs.volume, logFrom.volume, requestId) : '';
          const key = `${status} :: ${fault} :: ${apiLog} :: ${managerLog}`;
          const c = causes.get(key);
          if (c) {
            c.count++;
            c.routes[req.route] = (c.routes[req.route] ?? 0) + 1;
          } else {
            causes.set(key, {
              key,
              status,
              routes: { [req.route]: 1 },
              route: req.route,
              fault,
              apiLog,
              managerLog,
              count: 1,
              reproducer: reproducer(req),
              target: `${req.target}${targetState ? ` (${targetState})` : ''}`,
            });
          }
        }
        const dbAfter = reader.dbRows();
        const lioAfter = reader.lio();
        const dbDiff = TABLES.flatMap((t, k) => diffMaps(dbBefore[k], dbAfter[k], t));
        const lioDiff = diffMaps(lioBefore, lioAfter, 'standin');
        if (dbDiff.length) dbChanged++;
        if (lioDiff.length) lioChanged++;
        if ((dbDiff.length || lioDiff.length) && changes.length < 2000) {
          changes.push({ status: res.status, route: req.route, db: dbDiff.slice(0, 8), lio: lioDiff.slice(0, 8), reproducer: reproducer(req) });
        }
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        // Accepted: let the casts it started finish, so the next diff is the next request's own.
        await settle(cluster, reader, req, res);
        if (req.route.includes('attachments') || req.route.includes('action') || req.route.includes('volumes')) refreshPools();
      }
    }
    await fx.refresh().catch(() => 0);
    const a = audit(cluster);
    const al = alive(cluster);
    const fiveXX = [...causes.values()].sort((x, y) => y.count - x.count);
    const byStatus = Object.fromEntries(tally.byStatus);
    const processExitCount = (exits.api ? 1 : 0) + (exits.volume ? 1 : 0);
    const unlisted5xx = fiveXX.filter((c) => !allowed5xx(c));
    const unexplainedChanges = changes.filter((c) => !allowedChange(c));
    const changeKinds = new Map<string, number>();
    for (const c of changes) {
      const id = allowedChange(c)?.id ?? 'UNEXPLAINED';
      changeKinds.set(id, (changeKinds.get(id) ?? 0) + 1);
    }
    const extra: Record<string, string | number> = {
      seed,
      cases,
      'elapsed s': ((Date.now() - t0) / 1000).toFixed(1),
      'routes hit': Object.keys(routes).length,
      '5xx': tally.count((s) => s.startsWith('5')),
      '5xx causes': `${fiveXX.length} (Cinder answers 500 too: ${fiveXX.length - unlisted5xx.length}, not listed: ${unlisted5xx.length})`,
      'rejected requests (4xx/5xx)': rejected,
      'rejected requests that changed the DB': dbChanged,
      'rejected requests that changed the stand-in LIO/LVM state': lioChanged,
      'state changes after rejected requests by kind': [...changeKinds].map(([k, n]) => `${k}=${n}`).join(' ') || '(none)',
      'state changes after rejected requests not explained by Cinder': unexplainedChanges.length,
      'client timeouts': timeouts,
      'client-side read errors': [...clientErrors.values()].reduce((a, c) => a + c.count, 0),
      'process exits': `${processExitCount}${processExitCount ? ` api=${exits.api} volume=${exits.volume}` : ''}`,
      'fixture volumes re-made': fx.refreshes,
    };
    const lines = [report(`fuzz seed ${seed}`, { requests: tally, audit: a, alive: al, extra })];
    for (const c of fiveXX) {
      lines.push(
        `-- 5xx x${c.count} → ${c.status} [${allowed5xx(c)?.id ?? 'NOT LISTED'}], routes: ${Object.entries(c.routes).map(([k, n]) => `${k} (${n})`).join('; ').slice(0, 600)}`,
        `   fault: ${c.fault}`,
        `   api log: ${c.apiLog || '(none)'}`,
        ...(c.managerLog ? [`   manager log: ${c.managerLog}`] : []),
        `   first: ${c.route}, target ${c.target}`,
        `   repro: ${c.reproducer.slice(0, 1500)}`,
      );
    }
    const shown = [...unexplainedChanges, ...changes.filter((c) => allowedChange(c))].slice(0, 12);
    for (const c of shown) {
      lines.push(`-- state change after ${c.status} [${allowedChange(c)?.id ?? 'UNEXPLAINED'}]: ${c.route}`, ...c.db.map((d) => `   db: ${d}`), ...c.lio.map((d) => `   lio: ${d}`), `   repro: ${c.reproducer.slice(0, 1500)}`);
    }
    for (const e of clientErrors.values()) lines.push(`-- client-side read error x${e.count}: ${e.error}`, `   repro: ${e.reproducer.slice(0, 1500)}`);
    return {
      seed,
      cases,
      unlisted5xx,
      unexplainedChanges,
      clientErrors: [...clientErrors.values()],
      requests: tally,
      byStatus,
      fiveXX,
      rejected,
      rejectedDbChanged: dbChanged,
      rejectedLioChanged: lioChanged,
      stateChanges: changes,
      routes,
      timeouts,
      processExits: exits,
      processExitCount,
      fixtureRefreshes: fx.refreshes,
      audit: a,
      alive: al,
      elapsedMs: Date.now() - t0,
      report: lines.join('\n'),
    };
  } finally {
    reader?.close();
    agent.destroy();
    await cluster.stop();
  }
}

/** Wait for what an accepted request started: a created volume leaving 'creating', a deleted one gone, no workers rows. */
async function settle(cluster: Cluster, reader: StateReader, req: Req, res: Res): Promise<void> {
  const until = async (pred: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end && !pred()) await sleep(15);
  };
  if (req.method === 'POST' && /\/volumes(\?|$)/.test(req.path)) {
    let id: string | undefined;
    try {
      id = (JSON.parse(res.body) as { volume?: { id?: string } }).volume?.id;
    } catch {
      /* not JSON */
    }
    if (id) await until(() => reader.volumeStatus(id!)?.status !== 'creating', 5000);
  }
  if (req.method === 'DELETE' && req.targetId && /\/volumes\//.test(req.path)) {
    const id = decodeURIComponent(req.targetId);
    await until(() => {
      const s = reader.volumeStatus(id);
      return !s || !!s.deleted || s.status !== 'deleting';
    }, 5000);
  }
  await until(() => reader.workers() === 0, 1000);
  void cluster;
}

// ---- command line ----------------------------------------------------------------------------------

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const seed = Number(arg('seed', '1'));
  const cases = Number(arg('cases', '10000'));
  run({ seed, cases, log: (l) => console.log(l) })
    .then((r) => {
      console.log(r.report);
      console.log(`routes: ${Object.entries(r.routes).sort(([x], [y]) => x.localeCompare(y)).map(([k, n]) => `${k}=${n}`).join('; ')}`);
      process.exit(r.processExitCount ? 1 : 0);
    })
    .catch((e) => {
      console.error(e);
      process.exit(2);
    });
}
