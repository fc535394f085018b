// Spawns the real API and the real volume-manager as separate OS processes on a temporary
// SQLite file (or, with CINDER_TS_DB_ENGINE=mysql, a database of its own on MariaDB: see db.ts),
// a private RabbitMQ vhost and the recording stand-in commands (test/stand-ins), reached through
// the configured root helper. Only the storage commands are stand-ins.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDb, type TestDb } from './db.js';
import { createVhost, deleteVhost, transportUrl } from './rabbit.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const STANDINS = path.join(REPO, 'test/stand-ins');
/** The services' launcher: `bin/cinder-ts <api|scheduler|volume|manage> [args]` runs dist/cmd/<name>.js
 * with the services' node flags (building dist first if a source is newer); it execs node, so the
 * spawned pid is the service's. */
export const CINDER_TS = path.join(REPO, 'bin/cinder-ts');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface ClusterOptions {
  rpcResponseTimeout?: number;
  extraDefault?: Record<string, string>;
  extraBackend?: Record<string, string>;
  /** Whole sections appended to cinder.conf as they are (e.g. [keystone_authtoken], [nova]). */
  extraConfig?: string;
  logLevel?: string;
  /** false: no cinder-scheduler of ours (an interop test runs Cinder's own). */
  scheduler?: boolean;
  /**
   * 'cinder': the 'default' quota class as Cinder's migration leaves it (10 volumes, 1000 GB).
   * Default 'unlimited': the class's volumes and gigabytes set to -1 once the services have
   * migrated, for the tests that create more volumes in one project than the defaults allow.
   */
  quotas?: 'cinder' | 'unlimited';
  /** How the services reach the database: rewrites `[database] connection` (a chaos test routes it through a proxy). */
  dbConnection?: (connection: string) => string;
}

export interface StandinCall {
  argv: string[];
  t_start: number;
  t_end: number;
  lock_held: boolean;
  pid?: number;
}

export class Cluster {
  readonly dir: string;
  readonly vhost: string;
  readonly host = 'testhost';
  readonly backend = 'lvm';
  port = 0;
  api?: ChildProcess;
  volume?: ChildProcess;
  scheduler?: ChildProcess;
  /** The services' database: the SQLite file, or this cluster's MariaDB database. */
  readonly db: TestDb;
  readonly logs: Record<'api' | 'volume' | 'scheduler', string[]> = { api: [], volume: [], scheduler: [] };

  constructor(private readonly opts: ClusterOptions = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-proc-'));
    this.vhost = createVhost();
    this.db = createTestDb(path.join(this.dir, 'cinder.sqlite'));
  }

  get configFile() {
    return path.join(this.dir, 'cinder.conf');
  }
  /** The SQLite file (with CINDER_TS_DB_ENGINE=mysql nothing is there: use db / dbConnection). */
  get dbFile() {
    return this.db.file;
  }
  /** cinder.conf's `[database] connection`: sqlite:///<file> or mysql+pymysql://…?unix_socket=… */
  get dbConnection() {
    return this.db.connection;
  }
  /** CINDER_TS_DB_ENGINE=mysql: the `mariadb` CLI's arguments for this cluster's database (first on its command line). */
  mysqlCliArgs(): string[] {
    return this.db.cliArgs();
  }
  get standinLog() {
    return path.join(this.dir, 'standin.log');
  }
  get standinState() {
    return path.join(this.dir, 'standin-state');
  }
  get lockPath() {
    return path.join(this.dir, 'lock');
  }
  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  private writeConfig() {
    const d = {
      transport_url: transportUrl(this.vhost),
      host: this.host,
      enabled_backends: this.backend,
      auth_strategy: 'noauth',
      state_path: path.join(this.dir, 'state'),
      rpc_response_timeout: String(this.opts.rpcResponseTimeout ?? 15),
      // One API process unless the run asks for more (scripts/test.sh runs MariaDB with 4).
      osapi_volume_workers: process.env.CINDER_TS_API_WORKERS ?? '1',
      osapi_volume_listen: '127.0.0.1',
      osapi_volume_listen_port: String(this.port),
      root_helper: path.join(STANDINS, 'root-helper'),
      rtstool_path: 'cinder-rtstool',
      log_level: this.opts.logLevel ?? 'info',
      ...this.opts.extraDefault,
    };
    const b = {
      volume_driver: 'cinder.volume.drivers.lvm.LVMVolumeDriver',
      volume_group: 'cinder-volumes',
      volume_backend_name: 'lvm',
      target_helper: 'lioadm',
      target_ip_address: '192.0.2.10',
      target_port: '3260',
      // Thick LVs, so the argv the tests assert does not depend on what the VG held at start-up.
      lvm_type: 'default',
      ...this.opts.extraBackend,
    };
    const ini = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${k} = ${v}`).join('\n');
    fs.writeFileSync(
      this.configFile,
      `[DEFAULT]\n${ini(d)}\n\n[database]\nconnection = ${this.opts.dbConnection ? this.opts.dbConnection(this.db.connection) : this.db.connection}\n\n[oslo_concurrency]\nlock_path = ${this.lockPath}\n\n[${this.backend}]\n${ini(b)}\n${this.opts.extraConfig ? `\n${this.opts.extraConfig}\n` : ''}`,
    );
  }

  get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PATH: `${path.join(STANDINS, 'bin')}:${process.env.PATH}`,
      CINDER_TS_STANDIN_LOG: this.standinLog,
      CINDER_TS_STANDIN_STATE: this.standinState,
      CINDER_TS_LOCK_PATH: this.lockPath,
    };
  }

  private spawnProc(which: 'api' | 'volume' | 'scheduler'): ChildProcess {
    // CINDER_TS_CPU_PROF_DIR=<dir>: V8 CPU profiles of both services (for the benchmarks), as extra
    // node flags bin/cinder-ts adds (API workers inherit them).
    const prof = process.env.CINDER_TS_CPU_PROF_DIR;
    const env = prof ? { ...this.env, CINDER_TS_NODE_FLAGS: `--cpu-prof --cpu-prof-dir=${prof}` } : this.env;
    const child = spawn(CINDER_TS, [which, '--config-file', this.configFile], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sink = (buf: Buffer) => {
      for (const line of buf.toString().split('\n')) if (line) this.logs[which].push(line);
      if (this.logs[which].length > 20000) this.logs[which].splice(0, 10000);
    };
    child.stdout!.on('data', sink);
    child.stderr!.on('data', sink);
    return child;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    fs.mkdirSync(this.standinState, { recursive: true });
    this.writeConfig();
    this.volume = this.spawnProc('volume');
    if (this.opts.scheduler !== false) this.scheduler = this.spawnProc('scheduler');
    this.api = this.spawnProc('api');
    await Promise.all([this.waitForApi(), this.waitForVolumeService(), this.opts.scheduler !== false ? this.waitForScheduler() : undefined]);
    if (this.opts.quotas !== 'cinder') {
      this.write("UPDATE quota_classes SET hard_limit = -1 WHERE class_name = 'default' AND resource IN ('volumes', 'gigabytes')");
    }
  }

  /** Ready once its services row is there: it writes it after its RPC server consumes. */
  private async waitForScheduler(timeoutMs = 30000) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.scheduler?.exitCode !== null && this.scheduler?.exitCode !== undefined) {
        throw new Error(`scheduler exited: ${this.logs.scheduler.slice(-20).join('\n')}`);
      }
      try {
        if (this.db.exists() && this.sql("SELECT id FROM services WHERE `binary` = 'cinder-scheduler'").length > 0) return;
      } catch {
        /* tables not migrated yet */
      }
      await sleep(100);
    }
    throw new Error(`scheduler did not start: ${this.logs.scheduler.slice(-20).join('\n')}`);
  }

  async startVolume(): Promise<void> {
    this.volume = this.spawnProc('volume');
    await this.waitForVolumeService(true);
  }

  async stopVolume(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopChild(this.volume, signal);
    this.volume = undefined;
  }

  private async waitForApi(timeoutMs = 30000) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.api?.exitCode !== null && this.api?.exitCode !== undefined) {
        throw new Error(`API exited: ${this.logs.api.slice(-20).join('\n')}`);
      }
      try {
        const r = await fetch(`${this.baseUrl}/`);
        if (r.status < 500) return;
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    throw new Error(`API did not start: ${this.logs.api.slice(-20).join('\n')}`);
  }

  /**
   * Ready when the manager has reported itself in the services table after this spawn: it does so
   * only after init_host and once its RPC server consumes (independent of the log level).
   */
  private async waitForVolumeService(_fresh = false, timeoutMs = 30000) {
    const since = this.db.timestamp(new Date(Date.now() - 1000));
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.volume?.exitCode !== null && this.volume?.exitCode !== undefined) {
        throw new Error(`volume service exited: ${this.logs.volume.slice(-20).join('\n')}`);
      }
      if (this.db.exists()) {
        try {
          const rows = this.sql<{ updated_at: string }>(
            "SELECT updated_at FROM services WHERE `binary` = 'cinder-volume' AND host = ? AND updated_at >= ?",
            `${this.host}@${this.backend}`,
            since,
          );
          if (rows.length > 0) return;
        } catch {
          /* tables not migrated yet */
        }
      }
      await sleep(100);
    }
    throw new Error(`volume service did not start: ${this.logs.volume.slice(-20).join('\n')}`);
  }

  /**
   * Write to the shared database directly, as an operator's SQL would, to reach states the API
   * cannot. SQL portable to SQLite and MariaDB (see db.ts); timestamps from db.timestamp().
   */
  write(statement: string, ...params: unknown[]): void {
    this.db.write(statement, ...params);
  }

  /** Set volume columns directly (e.g. status 'maintenance', multiattach 1). */
  setVolume(id: string, cols: Record<string, unknown>): void {
    const keys = Object.keys(cols);
    this.write(`UPDATE volumes SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`, ...keys.map((k) => cols[k]), id);
  }

  /** Create a 1 GiB volume through the API and wait until the manager has made it `available`. */
  async newVolume(api: CinderClient, volume: Record<string, unknown> = { size: 1 }): Promise<string> {
    const r = await api.create({ volume });
    if (r.status !== 202) throw new Error(`create volume: ${r.status} ${r.text}`);
    const id: string = r.json.volume.id;
    const end = Date.now() + 15000;
    while (Date.now() < end) {
      const status = this.volumeRow(id)?.status;
      if (status === 'available') return id;
      if (status === 'error') throw new Error(`volume ${id} went to error`);
      await sleep(30);
    }
    throw new Error(`volume ${id} never became available`);
  }

  /** A new volume attached the legacy way (reserve, initialize_connection, attach), as Nova did before 3.44. */
  async attachedVolume(
    api: CinderClient,
    connector: Record<string, unknown>,
    instance: string = randomUUID(),
  ): Promise<{ id: string; attachmentId: string }> {
    const id = await this.newVolume(api);
    const steps: [unknown, number][] = [
      [{ 'os-reserve': null }, 202],
      [{ 'os-initialize_connection': { connector } }, 200],
      [{ 'os-attach': { instance_uuid: instance, mountpoint: '/dev/vdb', mode: 'rw' } }, 202],
    ];
    for (const [body, code] of steps) {
      const r = await api.action(id, body);
      if (r.status !== code) throw new Error(`${Object.keys(body as object)[0]}: ${r.status} ${r.text}`);
    }
    return { id, attachmentId: this.liveAttachments(id)[0].id };
  }

  volumeRow(id: string): any {
    return this.sql<any>('SELECT * FROM volumes WHERE id = ?', id)[0];
  }

  /** The volume's attachment rows that are not soft-deleted. */
  liveAttachments(volumeId: string): any[] {
    return this.sql<any>('SELECT * FROM volume_attachment WHERE volume_id = ? AND deleted = 0', volumeId);
  }

  /** Everything the detach path may write, to prove an error changed nothing. */
  snapshot(id: string) {
    return {
      volume: this.sql('SELECT * FROM volumes WHERE id = ?', id),
      attachments: this.sql('SELECT * FROM volume_attachment WHERE volume_id = ? ORDER BY id', id),
      admin: this.sql('SELECT * FROM volume_admin_metadata WHERE volume_id = ? ORDER BY id', id),
    };
  }

  /** The stand-in's LIO state for the volume: whether its target exists, and its ACL initiators. */
  target(volumeId: string): { exists: boolean; acls: string[] } {
    const f = path.join(this.standinState, 'targets', iqnOf(volumeId));
    const text = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
    return { exists: text.length > 0, acls: text.split('\n').filter((l) => l.startsWith('acl ')).map((l) => l.split(' ')[1]) };
  }

  /** The storage commands (root-helper side) recorded since the last clear, one string each. */
  argvs(): string[] {
    return this.standinCalls().map((c) => c.argv.join(' '));
  }

  /** A read-only view of the shared database, as an operator would inspect it (synchronous on both engines). */
  sql<T = Record<string, unknown>>(query: string, ...params: unknown[]): T[] {
    return this.db.sql<T>(query, ...params);
  }

  standinCalls(): StandinCall[] {
    if (!fs.existsSync(this.standinLog)) return [];
    return fs
      .readFileSync(this.standinLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as StandinCall);
  }

  clearStandinLog() {
    fs.rmSync(this.standinLog, { force: true });
  }

  /** Make every command whose argv starts with `prefix` fail (exit 1) until cleared. */
  injectFailure(prefix: string) {
    fs.appendFileSync(path.join(this.standinState, 'fail'), `${prefix}\n`);
  }
  clearFailures() {
    fs.rmSync(path.join(this.standinState, 'fail'), { force: true });
  }

  async stop(): Promise<void> {
    this.db.closeReader();
    await Promise.all([stopChild(this.api), stopChild(this.volume), stopChild(this.scheduler)]);
    this.db.close();
    if (!process.env.CINDER_TS_KEEP_TMP) this.db.drop();
    deleteVhost(this.vhost);
    if (!process.env.CINDER_TS_KEEP_TMP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The IQN Cinder's LIO target gives a volume (target_prefix + volume name). */
export const iqnOf = (volumeId: string) => `iqn.2010-10.org.openstack:volume-${volumeId}`;

export function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') {
  if (!child || child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

/** An HTTP client speaking as python-cinderclient / Nova does (noauth token user:project). */
export class CinderClient {
  constructor(
    readonly baseUrl: string,
    readonly projectId: string,
    readonly userId = 'user1',
    readonly headers: Record<string, string> = {},
  ) {}

  async request(method: string, p: string, body?: unknown, extra: Record<string, string> = {}) {
    const h: Record<string, string> = {
      'X-Auth-Token': `${this.userId}:${this.projectId}`,
      Accept: 'application/json',
      ...this.headers,
      ...extra,
    };
    let payload: string | undefined;
    if (body !== undefined) {
      h['Content-Type'] ??= 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await fetch(`${this.baseUrl}${p}`, { method, headers: h, body: payload });
    const text = await res.text();
    let json: any = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  action(volumeId: string, body: unknown, extra: Record<string, string> = {}) {
    return this.request('POST', `/v3/${this.projectId}/volumes/${volumeId}/action`, body, extra);
  }
  get(volumeId: string) {
    return this.request('GET', `/v3/${this.projectId}/volumes/${volumeId}`);
  }
  create(body: unknown) {
    return this.request('POST', `/v3/${this.projectId}/volumes`, body);
  }
  delete(volumeId: string) {
    return this.request('DELETE', `/v3/${this.projectId}/volumes/${volumeId}`);
  }
}
