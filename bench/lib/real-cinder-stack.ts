// Real Cinder 21.3.1 (Debian's python3-cinder) as a whole block storage service for the side-by-side
// benchmark: cinder-api + cinder-scheduler + cinder-volume, each started by
// test/python/real_cinder.py in its own process group, on one RabbitMQ vhost and one MariaDB
// database (SQLite gives "database is locked" once API clients run concurrently), the LVM driver
// with target_helper=lioadm on the project's recording stand-ins (one state dir, one call log).
//
// Every wait is bounded; on any failure what was started is killed and the error says why.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, REPO } from '../../test/support/cluster.js';
import { createDatabase, dropDatabase, ensureMariaDb, mariadb, mysqlConnectionUrl } from '../../test/support/mariadb.js';
import { createVhost, deleteVhost, transportUrl } from '../../test/support/rabbit.js';
import type { Target } from './flows.js';

const PY = '/usr/bin/python3';
const SCRIPT = path.join(REPO, 'test/python/real_cinder.py');

export interface RealCinderOptions {
  projectId: string;
  /** osapi_volume_workers (cinder-ts's bench runs one API process by default). */
  apiWorkers?: number;
  /** Bound for each service's READY and for the first answer (a loaded 2-core box needs ~60 s). */
  readyTimeoutMs?: number;
  /** Extra --option values for every service (section.key=value). */
  options?: string[];
}

export interface RealCinderStack {
  target: Target;
  pids: { api: number; scheduler: number; volume: number };
  dir: string;
  standinLog: string;
  standinState: string;
  /** Seconds from spawning the three services to the first 200 of GET /v3/{project}/volumes. */
  launchToFirstAnswer: number;
  /** Seconds from spawning to every service READY (the volume's init_host done, scheduler STARTED). */
  launchToAllReady: number;
  /** Cinder's migrations (cinder-manage db sync equivalent), run before the launch, not counted in it. */
  dbSyncSeconds: number;
  clearStandinLog(): void;
  /** The services' log files, last `n` characters (for a failure report). */
  logTail(n?: number): string;
  stop(): Promise<void>;
}

interface Svc {
  name: string;
  proc: ChildProcess;
  out: string;
}

// Process groups still running: killed when this process exits however it exits (an uncaught
// error, process.exit), so no Cinder service outlives the benchmark.
const live = new Set<number>();
process.on('exit', () => {
  for (const pg of live) {
    try {
      process.kill(-pg, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

function startSvc(name: string, args: string[], env: NodeJS.ProcessEnv): Svc {
  // detached: its own process group, so stop() can SIGKILL the oslo launcher parent and its
  // forked workers at once (cinder-api and cinder-volume fork under oslo ProcessLauncher).
  const proc = spawn(PY, [SCRIPT, name, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  const s: Svc = { name, proc, out: '' };
  if (proc.pid) live.add(proc.pid);
  proc.once('exit', () => proc.pid && live.delete(proc.pid));
  const keep = (b: Buffer) => {
    s.out += b.toString();
    if (s.out.length > 200_000) s.out = s.out.slice(-100_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return s;
}

/** Resolves with the READY (or `word`) line's JSON; rejects on FAILED, exit, or timeout. */
function waitLine(s: Svc, word: string, timeoutMs: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const re = new RegExp(`^${word} (\\{.*\\})$`, 'm');
    const check = () => {
      const m = re.exec(s.out);
      if (m) return finish(() => resolve(JSON.parse(m[1])));
      if (/^FAILED /m.test(s.out)) return finish(() => reject(new Error(`${s.name} FAILED: ${s.out.slice(-2000)}`)));
    };
    const onExit = (code: number | null, sig: string | null) =>
      finish(() => reject(new Error(`${s.name} exited (${code ?? sig}) before ${word}: ${s.out.slice(-2000)}`)));
    const timer = setTimeout(() => finish(() => reject(new Error(`${s.name}: no ${word} in ${timeoutMs / 1000} s: ${s.out.slice(-2000)}`))), timeoutMs);
    const finish = (f: () => void) => {
      clearTimeout(timer);
      s.proc.stdout!.off('data', check);
      s.proc.off('exit', onExit);
      f();
    };
    s.proc.stdout!.on('data', check);
    s.proc.on('exit', onExit);
    if (s.proc.exitCode !== null) onExit(s.proc.exitCode, null);
    else check();
  });
}

function killGroup(s: Svc): Promise<void> {
  if (!s.proc.pid || s.proc.exitCode !== null || s.proc.signalCode !== null) return Promise.resolve();
  const done = new Promise<void>((r) => s.proc.once('exit', () => r()));
  try {
    process.kill(-s.proc.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  return Promise.race([done, new Promise<void>((r) => setTimeout(r, 10_000))]);
}

/** Start the three services; throws (after cleaning up) with the reason when they do not come up. */
export async function startRealCinder(opts: RealCinderOptions): Promise<RealCinderStack> {
  const timeout = opts.readyTimeoutMs ?? 180_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-vs-real-'));
  const standinLog = path.join(dir, 'standin.log');
  const standinState = path.join(dir, 'standin-state');
  fs.mkdirSync(standinState, { recursive: true });
  const svcs: Svc[] = [];
  let vhost: string | undefined;
  let dbName: string | undefined;
  const cleanup = async () => {
    await Promise.all(svcs.map(killGroup));
    if (vhost) deleteVhost(vhost);
    if (dbName) {
      try {
        dropDatabase(dbName);
      } catch {
        /* server gone */
      }
    }
    if (!process.env.CINDER_TS_KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
  };
  const logTail = (n = 3000) =>
    ['api', 'scheduler', 'volume']
      .map((w) => path.join(dir, w, `cinder-${w}.log`))
      .filter((f) => fs.existsSync(f))
      .map((f) => `--- ${f}\n${fs.readFileSync(f, 'utf8').slice(-n)}`)
      .join('\n');
  try {
    ensureMariaDb();
    dbName = createDatabase('cinder_real');
    const conn = mysqlConnectionUrl(dbName);
    vhost = createVhost('cinder-ts-vs-real');
    const common = ['--transport-url', transportUrl(vhost), '--host', 'realhost', '--database-connection', conn, '--no-debug', ...(opts.options ?? []).flatMap((o) => ['--option', o])];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CINDER_TS_STANDIN_LOG: standinLog,
      CINDER_TS_STANDIN_STATE: standinState,
      // The volume's [oslo_concurrency] lock_path: lioadm's external lock lives there (lock_held).
      CINDER_TS_LOCK_PATH: path.join(dir, 'volume', 'locks'),
    };

    // Schema first, as a deployment runs `cinder-manage db sync` before starting the services.
    const sync = startSvc('dbsync', ['--dir', path.join(dir, 'dbsync'), ...common], env);
    svcs.push(sync);
    const synced = await waitLine(sync, 'READY', timeout);
    // Cinder's migration seeds the 'default' quota class (10 volumes, 1000 GB); the benchmark makes
    // hundreds of volumes in one project, as cinder-ts's Cluster allows by default.
    mariadb().query(dbName, "UPDATE quota_classes SET hard_limit = -1 WHERE class_name = 'default' AND (resource LIKE 'volumes%' OR resource LIKE 'gigabytes%')");

    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const t0 = performance.now();
    const api = startSvc('api', ['--dir', path.join(dir, 'api'), '--port', String(port), '--workers', String(opts.apiWorkers ?? 1), '--no-db-sync', ...common], env);
    // scheduler_driver_init_wait_time=1: do not hold create_volume for 60 s waiting on backends
    // that will never report (cinder/scheduler/manager.py _wait_for_scheduler).
    const sch = startSvc('scheduler', ['--dir', path.join(dir, 'scheduler'), '--no-db-sync', '--option', 'scheduler_driver_init_wait_time=1', ...common], env);
    const vol = startSvc('volume', ['--dir', path.join(dir, 'volume'), '--no-db-sync', ...common], env);
    svcs.push(api, sch, vol);

    const target: Target = {
      name: 'real Cinder 21.3.1',
      baseUrl,
      projectId: opts.projectId,
      // NoAuthMiddleware (cinder/api/middleware/auth.py) takes user:project from the token and makes
      // an admin context; oslo.context reads X-Service-Roles, which attachment_deletion_allowed
      // (cinder/volume/api.py) wants for deleting an attachment Nova still has connected.
      headers: { 'X-Auth-Token': `bench:${opts.projectId}`, 'X-Service-Roles': 'service' },
    };
    const firstAnswer = (async () => {
      const end = Date.now() + timeout;
      for (;;) {
        if (api.proc.exitCode !== null) throw new Error(`api exited: ${api.out.slice(-2000)}`);
        try {
          const r = await fetch(`${baseUrl}/v3/${opts.projectId}/volumes`, { headers: target.headers, signal: AbortSignal.timeout(5000) });
          await r.arrayBuffer();
          if (r.status === 200) return (performance.now() - t0) / 1000;
        } catch {
          /* not listening yet */
        }
        if (Date.now() > end) throw new Error(`api: no 200 from GET /v3/${opts.projectId}/volumes in ${timeout / 1000} s: ${api.out.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const [launchToFirstAnswer] = await Promise.all([
      firstAnswer,
      waitLine(api, 'READY', timeout),
      waitLine(sch, 'STARTED', timeout),
      waitLine(vol, 'STARTED', timeout),
    ]);
    const launchToAllReady = (performance.now() - t0) / 1000;
    return {
      target,
      pids: { api: api.proc.pid!, scheduler: sch.proc.pid!, volume: vol.proc.pid! },
      dir,
      standinLog,
      standinState,
      launchToFirstAnswer,
      launchToAllReady,
      dbSyncSeconds: Number(synced.db_sync_s ?? NaN),
      clearStandinLog: () => fs.rmSync(standinLog, { force: true }),
      logTail,
      stop: cleanup,
    };
  } catch (e) {
    const why = `${(e as Error).message}\n${logTail(2000)}`;
    await cleanup();
    throw new Error(why);
  }
}
