// A cloud in miniature for the multi-host tests and bench/many-hosts.ts: one shared database
// (SQLite file, or with CINDER_TS_DB_ENGINE=mysql a MariaDB database of its own: db.ts), one
// RabbitMQ vhost, one cinder-api (osapi_volume_workers), one cinder-scheduler and N cinder-volume
// processes. Each storage host has what a separate machine would have: its own cinder.conf
// (`[DEFAULT] host = host<k>`), its own stand-in LVM/LIO state, call log and lock_path (the
// host-wide cinder-lioadm lock), optionally its own VG size and availability zone. Hosts are
// numbered from 1, as their names are: stopHost(2) stops `host2`.
//
// test/support/cluster.ts (the single-host cluster) is the lead's; the small pieces needed here
// (free port, stand-in paths, the HTTP client) are imported from it, the rest is written for N.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDb, type TestDb } from './db.js';
import { createVhost, deleteVhost, transportUrl } from './rabbit.js';
import { CINDER_TS, REPO, STANDINS, freePort, sleep, type StandinCall } from './cluster.js';

export interface HostSpec {
  /** CINDER_TS_STANDIN_VG_SIZE_G of this host's stand-in (default 1000 GiB). */
  vgSizeG?: number;
  /** [<backend>] backend_availability_zone (unset: storage_availability_zone, 'nova'). */
  az?: string;
  extraBackend?: Record<string, string>;
}

export interface HostsOptions {
  /** How many storage hosts, or one spec per host. */
  hosts: number | HostSpec[];
  /** osapi_volume_workers; default env CINDER_TS_API_WORKERS, else 1. */
  apiWorkers?: number;
  rpcResponseTimeout?: number;
  /** Seconds; short so that capacity reports and down services show within a test. */
  reportInterval?: number;
  periodicInterval?: number;
  statsPollingInterval?: number;
  serviceDownTime?: number;
  /** false: no cinder-scheduler (only while developing without it; env CINDER_TS_NO_SCHEDULER=1 too). */
  scheduler?: boolean;
  logLevel?: string;
  extraDefault?: Record<string, string>;
  /** Options of the controller's (API + scheduler) [DEFAULT] only, e.g. the scheduler's. */
  controllerDefault?: Record<string, string>;
  /** Bound on each start-up wait (ms; default 90 s: 8 processes start slowly on a loaded 2-CPU runner). */
  startTimeoutMs?: number;
}

export type ProcKind = 'api' | 'scheduler' | 'volume';

const ini = (o: Record<string, string>) =>
  Object.entries(o)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');

export class HostsCluster {
  readonly dir: string;
  readonly vhost: string;
  readonly db: TestDb;
  readonly backend = 'lvm';
  /** [DEFAULT] host of the API and the scheduler (the scheduler's services row). */
  readonly controllerHost = 'controller';
  readonly specs: HostSpec[];
  port = 0;
  api?: ChildProcess;
  scheduler?: ChildProcess;
  /** volumes[k - 1]: host<k>'s cinder-volume (undefined while stopped). */
  readonly volumes: (ChildProcess | undefined)[];
  /** Output lines per process: 'api', 'scheduler', 'host<k>'. */
  readonly logs: Record<string, string[]> = {};
  private readonly stoppedAt = new Map<number, number>();

  constructor(private readonly opts: HostsOptions) {
    this.specs = typeof opts.hosts === 'number' ? Array.from({ length: opts.hosts }, () => ({})) : opts.hosts;
    this.volumes = this.specs.map(() => undefined);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-hosts-'));
    this.vhost = createVhost('cinder-ts-hosts');
    this.db = createTestDb(path.join(this.dir, 'cinder.sqlite'));
  }

  get n() {
    return this.specs.length;
  }
  get withScheduler() {
    return this.opts.scheduler !== false && process.env.CINDER_TS_NO_SCHEDULER !== '1';
  }
  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }
  get serviceDownTime() {
    return this.opts.serviceDownTime ?? 10;
  }
  get reportInterval() {
    return this.opts.reportInterval ?? 2;
  }
  hostName(k: number) {
    return `host${k}`;
  }
  /** The services row's host of host<k>'s backend, and the volume's `host` column without the pool. */
  backendHost(k: number) {
    return `host${k}@${this.backend}`;
  }
  /** What the scheduler writes in volumes.host for host<k>: `host<k>@lvm#lvm`. */
  poolHost(k: number) {
    return `${this.backendHost(k)}#${this.backend}`;
  }
  /** host<k> from a volumes.host value (0 when it names none of ours). */
  hostIndex(volumeHost: string | null | undefined): number {
    const m = /^host(\d+)@/.exec(volumeHost ?? '');
    return m ? Number(m[1]) : 0;
  }
  hostDir(k: number) {
    return path.join(this.dir, this.hostName(k));
  }
  standinState(k: number) {
    return path.join(this.hostDir(k), 'standin-state');
  }
  standinLog(k: number) {
    return path.join(this.hostDir(k), 'standin.log');
  }
  lockPath(k: number) {
    return path.join(this.hostDir(k), 'lock');
  }
  configFile(k: number | 'controller') {
    return k === 'controller' ? path.join(this.dir, 'controller.conf') : path.join(this.hostDir(k), 'cinder.conf');
  }

  private defaults(host: string, stateDir: string): Record<string, string> {
    return {
      transport_url: transportUrl(this.vhost),
      host,
      enabled_backends: this.backend,
      auth_strategy: 'noauth',
      state_path: stateDir,
      rpc_response_timeout: String(this.opts.rpcResponseTimeout ?? 15),
      osapi_volume_workers: String(this.opts.apiWorkers ?? process.env.CINDER_TS_API_WORKERS ?? '1'),
      osapi_volume_listen: '127.0.0.1',
      osapi_volume_listen_port: String(this.port),
      root_helper: path.join(STANDINS, 'root-helper'),
      rtstool_path: 'cinder-rtstool',
      log_level: this.opts.logLevel ?? 'info',
      report_interval: String(this.reportInterval),
      periodic_interval: String(this.opts.periodicInterval ?? 2),
      backend_stats_polling_interval: String(this.opts.statsPollingInterval ?? 2),
      service_down_time: String(this.serviceDownTime),
      ...this.opts.extraDefault,
    };
  }

  private backendSection(spec: HostSpec): Record<string, string> {
    return {
      volume_driver: 'cinder.volume.drivers.lvm.LVMVolumeDriver',
      volume_group: 'cinder-volumes',
      volume_backend_name: this.backend,
      target_helper: 'lioadm',
      target_ip_address: '192.0.2.10',
      target_port: '3260',
      // Thick LVs: free capacity is the VG's free space, what the CapacityWeigher compares.
      lvm_type: 'default',
      ...(spec.az ? { backend_availability_zone: spec.az } : {}),
      ...spec.extraBackend,
    };
  }

  private writeConfig(file: string, d: Record<string, string>, lockPath: string, backend: Record<string, string>) {
    fs.writeFileSync(
      file,
      `[DEFAULT]\n${ini(d)}\n\n[database]\nconnection = ${this.db.connection}\n\n[oslo_concurrency]\nlock_path = ${lockPath}\n\n[${this.backend}]\n${ini(backend)}\n`,
    );
  }

  private writeConfigs() {
    // The controller (API + scheduler) needs no storage, but the same file shape keeps one parser path.
    const ctl = path.join(this.dir, 'controller');
    fs.mkdirSync(ctl, { recursive: true });
    this.writeConfig(
      this.configFile('controller'),
      {
        ...this.defaults(this.controllerHost, ctl),
        // The scheduler otherwise waits up to 60 s at start for every backend's first report.
        scheduler_driver_init_wait_time: '5',
        ...this.opts.controllerDefault,
      },
      path.join(ctl, 'lock'),
      this.backendSection({}),
    );
    for (let k = 1; k <= this.n; k++) {
      fs.mkdirSync(this.standinState(k), { recursive: true });
      fs.mkdirSync(this.lockPath(k), { recursive: true });
      this.writeConfig(
        this.configFile(k),
        this.defaults(this.hostName(k), path.join(this.hostDir(k), 'state')),
        this.lockPath(k),
        this.backendSection(this.specs[k - 1]),
      );
    }
  }

  /** Each storage host's own stand-in state, call log and lock path, as on its own machine. */
  private env(k?: number): NodeJS.ProcessEnv {
    const e: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.join(STANDINS, 'bin')}:${process.env.PATH}` };
    if (k === undefined) return e;
    e.CINDER_TS_STANDIN_LOG = this.standinLog(k);
    e.CINDER_TS_STANDIN_STATE = this.standinState(k);
    e.CINDER_TS_LOCK_PATH = this.lockPath(k);
    const vg = this.specs[k - 1].vgSizeG;
    if (vg !== undefined) e.CINDER_TS_STANDIN_VG_SIZE_G = String(vg);
    else delete e.CINDER_TS_STANDIN_VG_SIZE_G;
    return e;
  }

  private spawnProc(kind: ProcKind, k?: number): ChildProcess {
    const name = kind === 'volume' ? this.hostName(k!) : kind;
    const conf = kind === 'volume' ? this.configFile(k!) : this.configFile('controller');
    const child = spawn(CINDER_TS, [kind, '--config-file', conf], {
      cwd: REPO,
      env: this.env(kind === 'volume' ? k : undefined),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = (this.logs[name] ??= []);
    const sink = (buf: Buffer) => {
      for (const line of buf.toString().split('\n')) if (line) lines.push(line);
      if (lines.length > 20000) lines.splice(0, 10000);
    };
    child.stdout!.on('data', sink);
    child.stderr!.on('data', sink);
    return child;
  }

  /** The last lines a process wrote, for error messages. */
  tail(name: string, n = 20): string {
    return `--- ${name} (last ${n} lines)\n${(this.logs[name] ?? []).slice(-n).join('\n')}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.writeConfigs();
    const since = new Date(Date.now() - 1000);
    this.api = this.spawnProc('api');
    if (this.withScheduler) this.scheduler = this.spawnProc('scheduler');
    for (let k = 1; k <= this.n; k++) this.volumes[k - 1] = this.spawnProc('volume', k);
    const waits: Promise<void>[] = [this.waitForApi()];
    if (this.withScheduler) waits.push(this.waitForService('cinder-scheduler', this.controllerHost, since, () => this.scheduler, 'scheduler'));
    for (let k = 1; k <= this.n; k++) {
      waits.push(this.waitForService('cinder-volume', this.backendHost(k), since, () => this.volumes[k - 1], this.hostName(k)));
    }
    await Promise.all(waits);
    // As Cluster's default (cluster.ts `quotas`): no volume or gigabyte quota in the tests' projects.
    this.write("UPDATE quota_classes SET hard_limit = -1 WHERE class_name = 'default' AND resource IN ('volumes', 'gigabytes')");
  }

  /** Stops host<k>'s cinder-volume (SIGKILL: no chance to clean up, as a machine lost). */
  async stopHost(k: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopChild(this.volumes[k - 1], signal);
    this.volumes[k - 1] = undefined;
    this.stoppedAt.set(k, Date.now());
  }

  /** Starts host<k>'s cinder-volume again and waits for a heartbeat written after this start. */
  async startHost(k: number): Promise<void> {
    // A heartbeat the dead process wrote just before it stopped must not count as the new one
    // (MariaDB's DATETIME has whole seconds, so one second after the stop).
    const since = new Date(Math.max(Date.now() - 1000, (this.stoppedAt.get(k) ?? 0) + 1000));
    this.volumes[k - 1] = this.spawnProc('volume', k);
    await this.waitForService('cinder-volume', this.backendHost(k), since, () => this.volumes[k - 1], this.hostName(k));
  }

  private async waitForApi(timeoutMs = this.opts.startTimeoutMs ?? 90_000) {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.api?.exitCode !== null && this.api?.exitCode !== undefined) throw new Error(`API exited\n${this.tail('api')}`);
      try {
        const r = await fetch(`${this.baseUrl}/`, { signal: AbortSignal.timeout(2000) });
        if (r.status < 500) return;
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    throw new Error(`API did not start within ${timeoutMs} ms\n${this.tail('api')}`);
  }

  /** Ready once the process has written its services row after `since` (it does after init). */
  private async waitForService(
    binary: string,
    host: string,
    since: Date,
    proc: () => ChildProcess | undefined,
    name: string,
    timeoutMs = this.opts.startTimeoutMs ?? 90_000,
  ) {
    const ts = this.db.timestamp(since);
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const p = proc();
      if (p?.exitCode !== null && p?.exitCode !== undefined) throw new Error(`${name} exited (${p.exitCode})\n${this.tail(name)}`);
      if (this.db.exists()) {
        try {
          const rows = this.sql('SELECT id FROM services WHERE `binary` = ? AND host = ? AND updated_at >= ?', binary, host, ts);
          if (rows.length > 0) return;
        } catch {
          /* tables not migrated yet */
        }
      }
      await sleep(100);
    }
    throw new Error(`${name}: no ${binary} services row for ${host} within ${timeoutMs} ms\n${this.tail(name)}`);
  }

  /** The live services rows (heartbeats in updated_at), for error messages and checks. */
  services(): { binary: string; host: string; updated_at: string; disabled: number }[] {
    return this.sql('SELECT `binary`, host, updated_at, disabled FROM services WHERE deleted = 0 ORDER BY host');
  }

  /** host<k>'s storage commands (root-helper side) since its last clear. */
  standinCalls(k: number): StandinCall[] {
    const f = this.standinLog(k);
    if (!fs.existsSync(f)) return [];
    return fs
      .readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as StandinCall);
  }
  clearStandinLog(k?: number) {
    for (const h of k === undefined ? this.specs.map((_, i) => i + 1) : [k]) fs.rmSync(this.standinLog(h), { force: true });
  }
  /** The stand-in's LIO state of host<k> for a volume: target present, ACL initiators. */
  target(k: number, volumeId: string): { exists: boolean; acls: string[] } {
    const f = path.join(this.standinState(k), 'targets', `iqn.2010-10.org.openstack:volume-${volumeId}`);
    const text = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
    return { exists: text.length > 0, acls: text.split('\n').filter((l) => l.startsWith('acl ')).map((l) => l.split(' ')[1]) };
  }

  sql<T = Record<string, unknown>>(query: string, ...params: unknown[]): T[] {
    return this.db.sql<T>(query, ...params);
  }
  write(statement: string, ...params: unknown[]): void {
    this.db.write(statement, ...params);
  }
  volumeRow(id: string): any {
    return this.sql<any>('SELECT * FROM volumes WHERE id = ?', id)[0];
  }
  liveAttachments(volumeId: string): any[] {
    return this.sql<any>('SELECT * FROM volume_attachment WHERE volume_id = ? AND deleted = 0', volumeId);
  }

  /** Waits (bounded) until `done(status)`; returns the status then (the last one seen on timeout). */
  async waitStatus(id: string, done: (s: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = this.volumeRow(id)?.status as string;
      if (done(s) || Date.now() > end) return s;
      await sleep(30);
    }
  }

  /** Main pid of each process kind (API: the parent; its workers are its children). */
  pids(): { api?: number; scheduler?: number; volumes: (number | undefined)[] } {
    return { api: this.api?.pid, scheduler: this.scheduler?.pid, volumes: this.volumes.map((v) => v?.pid) };
  }

  async stop(): Promise<void> {
    this.db.closeReader();
    await Promise.all([stopChild(this.api), stopChild(this.scheduler), ...this.volumes.map((v) => stopChild(v))]);
    this.db.close();
    if (!process.env.CINDER_TS_KEEP_TMP) this.db.drop();
    deleteVhost(this.vhost);
    if (!process.env.CINDER_TS_KEEP_TMP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}
