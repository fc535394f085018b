// Many storage hosts benchmark: for each N of --hosts, one API tier (--workers processes), one
// cinder-scheduler and N cinder-volume processes (each its own cinder.conf, stand-in LVM/LIO state
// and lock path: test/support/hosts.ts) on one MariaDB (or SQLite) database and one RabbitMQ vhost.
// --clients concurrent clients create --volumes volumes (1 GiB), attach them all the legacy way and
// then run Nova's legacy three-call detach (os-begin_detaching, os-terminate_connection,
// os-detach) on all of them. Prints per N: creates per host (min/max/stddev), create p50/p99 (POST
// until `available`), whole-detach p50/p99, detaches/s, non-2xx answers, peak RSS (VmHWM) per
// process kind; a Markdown table of all N at the end. Every wait is bounded: a phase that cannot
// finish is reported with what was left, and the next N runs.
//
//   npx tsx bench/many-hosts.ts [--hosts 1,5,20] [--engine mysql|sqlite] [--workers 4] [--volumes 2000] [--clients 32]
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { CinderClient, sleep } from '../test/support/cluster.js';
import { HostsCluster } from '../test/support/hosts.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const HOSTS = arg('hosts', '1,5,20').split(',').map(Number);
const ENGINE = arg('engine', 'mysql');
const WORKERS = Number(arg('workers', '4'));
const VOLUMES = Number(arg('volumes', '2000'));
const CLIENTS = Number(arg('clients', '32'));
/** Bound on one volume's create (POST to available) and on each HTTP request. */
const CREATE_TIMEOUT_MS = Number(arg('create-timeout', '120')) * 1000;
const REQUEST_TIMEOUT_MS = 90_000;
const RPC_TIMEOUT_S = 60;
process.env.CINDER_TS_DB_ENGINE = ENGINE;
const PROJECT = 'bb0c4be0c4be0c4be0c4be0c4be0c4b';
const SERVICE = { 'X-Service-Roles': 'service' };


function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const mib = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');

function peakRssMiB(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
/** The API's worker processes (osapi_volume_workers > 1). */
function children(pid: number | undefined, pattern: string): number[] {
  if (!pid) return [];
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', pattern], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * CPU seconds (user + system, with the reaped children's: a manager's spawn helper reaps the storage
 * commands) of some processes, from /proc/<pid>/stat; USER_HZ is 100 on Linux.
 */
function cpuSeconds(pids: (number | undefined)[]): number {
  let ticks = 0;
  for (const pid of pids) {
    if (!pid) continue;
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      /* gone */
    }
  }
  return ticks / 100;
}
function pgrep(args: string[]): number[] {
  try {
    return execFileSync('pgrep', args, { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
/** Every process kind of the run, plus the machine's MariaDB and RabbitMQ servers. */
function cpuByKind(cluster: HostsCluster): Record<string, number> {
  const pids = cluster.pids();
  const managers = pids.volumes.flatMap((p) => [p, ...children(p, 'spawn-helper')]);
  return {
    api: cpuSeconds([pids.api, ...children(pids.api, 'dist/cmd/api.js')]),
    scheduler: cpuSeconds([pids.scheduler]),
    'volume-managers (with their storage commands)': cpuSeconds(managers),
    mariadb: cpuSeconds(pgrep(['-x', 'mariadbd'])),
    rabbitmq: cpuSeconds(pgrep(['-f', 'beam.smp'])),
  };
}

/** An HTTP client whose every request gives up after REQUEST_TIMEOUT_MS (answered as status 0). */
class BoundedClient extends CinderClient {
  override async request(method: string, p: string, body?: unknown, extra: Record<string, string> = {}) {
    const t = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const abort = new Promise<never>((_, rej) => t.addEventListener('abort', () => rej(new Error('timeout'))));
    try {
      return await Promise.race([super.request(method, p, body, extra), abort]);
    } catch (e) {
      return { status: 0, headers: new Headers(), text: String(e), json: undefined };
    }
  }
}

/**
 * One poller for every volume being waited for: a query per tick over the pending ids instead of
 * one per client, so 32 clients do not load the database the benchmark measures.
 */
class StatusWaiter {
  private pending = new Map<string, { done: (s: string) => void; until: number }>();
  private timer?: NodeJS.Timeout;
  constructor(private readonly c: HostsCluster) {}
  wait(id: string, timeoutMs: number): Promise<string> {
    return new Promise((done) => {
      this.pending.set(id, { done, until: Date.now() + timeoutMs });
      this.timer ??= setTimeout(() => this.tick(), 10);
    });
  }
  private tick() {
    this.timer = undefined;
    const ids = [...this.pending.keys()];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.c.sql<{ id: string; status: string }>(`SELECT id, status FROM volumes WHERE id IN (${chunk.map(() => '?').join(',')})`, ...chunk);
      for (const r of rows) if (r.status !== 'creating') this.settle(r.id, r.status);
    }
    const now = Date.now();
    for (const [id, w] of this.pending) if (now > w.until) this.settle(id, 'timeout');
    if (this.pending.size) this.timer = setTimeout(() => this.tick(), 10);
  }
  private settle(id: string, s: string) {
    this.pending.get(id)?.done(s);
    this.pending.delete(id);
  }
}

interface Row {
  hosts: number;
  note: string;
  spread?: { min: number; max: number; sd: number };
  createP50?: number;
  createP99?: number;
  detachP50?: number;
  detachP99?: number;
  detachesPerS?: number;
  non2xx: number;
  rss?: { api: number; scheduler: number; volSum: number; volMax: number };
}

/** Runs `n` jobs on `clients` concurrent workers. */
async function pool(n: number, clients: number, job: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(clients, n) }, async () => {
    while (next < n) await job(next++);
  }));
}

async function runOne(n: number): Promise<Row> {
  const row: Row = { hosts: n, note: '', non2xx: 0 };
  const non2xx: string[] = [];
  const check = (call: string, r: { status: number; text: string }, code: number) => {
    if (r.status === code) return true;
    non2xx.push(`${call} ${r.status} ${r.text.slice(0, 160)}`);
    return false;
  };
  // Room for every volume on any one host, so no create fails for capacity.
  const cluster = new HostsCluster({
    hosts: Array.from({ length: n }, () => ({ vgSizeG: VOLUMES + 100 })),
    apiWorkers: WORKERS,
    rpcResponseTimeout: RPC_TIMEOUT_S,
    // Reports every 5 s: closer to Cinder's 10/60 s than the tests' 2 s, yet the scheduler's
    // view follows the 2000 creates (between reports it counts what it placed, as Cinder does).
    reportInterval: 5,
    periodicInterval: 5,
    statsPollingInterval: 5,
    serviceDownTime: 60,
    logLevel: 'warn',
    startTimeoutMs: 60_000 + n * 5_000,
  });
  try {
    const t0 = performance.now();
    try {
      await cluster.start();
    } catch (e) {
      row.note = `could not start: ${String((e as Error).message).split('\n')[0]}`;
      console.log(`  ${row.note}`);
      console.log(String((e as Error).message).split('\n').slice(1, 12).join('\n'));
      return row;
    }
    console.log(`  started 1 API (${WORKERS} workers), ${cluster.withScheduler ? '1 scheduler' : 'NO scheduler'}, ${n} volume-managers in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // The scheduler needs every backend's capability report before it can weigh them (sent at a
    // manager's start and every periodic_interval).
    await sleep(6_000);
    const api = new BoundedClient(cluster.baseUrl, PROJECT, 'bench', SERVICE);
    const waiter = new StatusWaiter(cluster);

    // Creates: POST until available.
    const created: string[] = [];
    const createMs: number[] = [];
    const failed: Record<string, number> = {};
    let tc = performance.now();
    await pool(VOLUMES, CLIENTS, async () => {
      const t = performance.now();
      const r = await api.create({ volume: { size: 1 } });
      if (!check('create', r, 202)) return;
      const id = r.json.volume.id as string;
      const s = await waiter.wait(id, CREATE_TIMEOUT_MS);
      if (s === 'available') {
        createMs.push(performance.now() - t);
        created.push(id);
      } else failed[s] = (failed[s] ?? 0) + 1;
    });
    const createWall = (performance.now() - tc) / 1000;
    const perHost = new Map<string, number>();
    for (let k = 1; k <= n; k++) perHost.set(cluster.backendHost(k), 0);
    for (const r of cluster.sql<{ host: string | null; c: number }>('SELECT host, count(*) AS c FROM volumes WHERE deleted = 0 GROUP BY host')) {
      const h = (r.host ?? '(none)').split('#')[0];
      perHost.set(h, (perHost.get(h) ?? 0) + Number(r.c));
    }
    const counts = [...perHost.values()];
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    row.spread = { min: Math.min(...counts), max: Math.max(...counts), sd: Math.sqrt(counts.reduce((a, b) => a + (b - mean) ** 2, 0) / counts.length) };
    row.createP50 = pct(createMs, 50);
    row.createP99 = pct(createMs, 99);
    console.log(`  creates: ${created.length}/${VOLUMES} available in ${createWall.toFixed(1)} s (${(created.length / createWall).toFixed(1)}/s); not available: ${JSON.stringify(failed)}`);
    console.log(`  per host: ${[...perHost].map(([h, c]) => `${h.split('@')[0]}=${c}`).join(' ')}`);

    // Attach all of them (not measured): reserve, initialize_connection, attach.
    const attached: { id: string; connector: Record<string, unknown> }[] = [];
    tc = performance.now();
    await pool(created.length, CLIENTS, async (i) => {
      const id = created[i];
      const connector = { initiator: `iqn.1994-05.com.redhat:mh-${randomUUID().slice(0, 8)}`, host: `compute-${i % 50}`, ip: '192.0.2.50' };
      const ok =
        check('os-reserve', await api.action(id, { 'os-reserve': null }), 202) &&
        check('os-initialize_connection', await api.action(id, { 'os-initialize_connection': { connector } }), 200) &&
        check('os-attach', await api.action(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rw' } }), 202);
      if (ok) attached.push({ id, connector });
    });
    console.log(`  attached ${attached.length}/${created.length} in ${((performance.now() - tc) / 1000).toFixed(1)} s`);
    const attachmentOf = new Map<string, string>();
    for (let i = 0; i < attached.length; i += 500) {
      const chunk = attached.slice(i, i + 500).map((a) => a.id);
      const rows = cluster.sql<{ id: string; volume_id: string }>(
        `SELECT id, volume_id FROM volume_attachment WHERE deleted = 0 AND volume_id IN (${chunk.map(() => '?').join(',')})`,
        ...chunk,
      );
      for (const r of rows) attachmentOf.set(r.volume_id, r.id);
    }

    // Detaches: Nova's legacy three calls, measured.
    const detachMs: number[] = [];
    tc = performance.now();
    const cpuBefore = cpuByKind(cluster);
    await pool(attached.length, CLIENTS, async (i) => {
      const v = attached[i];
      const t = performance.now();
      const ok =
        check('os-begin_detaching', await api.action(v.id, { 'os-begin_detaching': null }), 202) &&
        check('os-terminate_connection', await api.action(v.id, { 'os-terminate_connection': { connector: v.connector } }), 202) &&
        check('os-detach', await api.action(v.id, { 'os-detach': { attachment_id: attachmentOf.get(v.id) } }), 202);
      if (ok) detachMs.push(performance.now() - t);
    });
    const detachWall = (performance.now() - tc) / 1000;
    row.detachP50 = pct(detachMs, 50);
    row.detachP99 = pct(detachMs, 99);
    row.detachesPerS = detachMs.length / detachWall;
    row.non2xx = non2xx.length;
    console.log(`  detached ${detachMs.length}/${attached.length} in ${detachWall.toFixed(1)} s`);
    // Which process kind the detach phase kept busy (of detachWall × the machine's cores).
    const cpuAfter = cpuByKind(cluster);
    console.log(
      `  CPU s during the detaches (wall ${detachWall.toFixed(0)} s × ${os.availableParallelism()} cores): ` +
        Object.keys(cpuAfter).map((k) => `${k}=${(cpuAfter[k] - cpuBefore[k]).toFixed(1)}`).join('  '),
    );
    if (non2xx.length) console.log(`  first non-2xx: ${non2xx.slice(0, 3).join(' | ')}`);
    const missing = VOLUMES - detachMs.length;
    if (missing) row.note = `${missing} of ${VOLUMES} volumes not through create+attach+detach`;

    const pids = cluster.pids();
    const apiPids = [pids.api, ...children(pids.api, 'dist/cmd/api.js')];
    const vol = pids.volumes.map(peakRssMiB).filter(Number.isFinite);
    row.rss = {
      api: apiPids.map(peakRssMiB).filter(Number.isFinite).reduce((a, b) => a + b, 0),
      scheduler: peakRssMiB(pids.scheduler),
      volSum: vol.reduce((a, b) => a + b, 0),
      volMax: Math.max(...vol),
    };
    return row;
  } catch (e) {
    row.note = `failed: ${String((e as Error).message).split('\n')[0]}`;
    return row;
  } finally {
    row.non2xx = non2xx.length;
    await Promise.race([cluster.stop(), sleep(30_000)]);
  }
}

function print(r: Row) {
  const s = r.spread;
  console.log(
    `hosts=${r.hosts}  creates/host min=${s?.min ?? '-'} max=${s?.max ?? '-'} stddev=${s ? s.sd.toFixed(1) : '-'}  ` +
      `create ms p50=${ms(r.createP50 ?? NaN)} p99=${ms(r.createP99 ?? NaN)}  whole detach ms p50=${ms(r.detachP50 ?? NaN)} p99=${ms(r.detachP99 ?? NaN)}  ` +
      `detaches/s=${r.detachesPerS?.toFixed(1) ?? '-'}  non-2xx=${r.non2xx}`,
  );
  if (r.rss) {
    console.log(
      `peak RSS MiB: api (${WORKERS} workers + parent, summed)=${mib(r.rss.api)}  scheduler=${mib(r.rss.scheduler)}  ` +
        `volume-managers summed=${mib(r.rss.volSum)} max=${mib(r.rss.volMax)}`,
    );
  }
  if (r.note) console.log(`note: ${r.note}`);
}

async function main() {
  console.log(
    `many-hosts benchmark: engine=${ENGINE} api_workers=${WORKERS} volumes=${VOLUMES} clients=${CLIENTS} hosts=${HOSTS.join(',')}; stand-in storage commands, RabbitMQ`,
  );
  const rows: Row[] = [];
  for (const n of HOSTS) {
    console.log(`\n== ${n} storage host${n === 1 ? '' : 's'}`);
    const r = await runOne(n);
    print(r);
    rows.push(r);
  }
  console.log(`\n| hosts | creates/host min / max / stddev | create p50 / p99 ms | whole detach p50 / p99 ms | detaches/s | non-2xx | peak RSS MiB: API (sum) / scheduler / managers sum (max) | note |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const s = r.spread;
    console.log(
      `| ${r.hosts} | ${s ? `${s.min} / ${s.max} / ${s.sd.toFixed(1)}` : '-'} | ${ms(r.createP50 ?? NaN)} / ${ms(r.createP99 ?? NaN)} | ` +
        `${ms(r.detachP50 ?? NaN)} / ${ms(r.detachP99 ?? NaN)} | ${r.detachesPerS?.toFixed(1) ?? '-'} | ${r.non2xx} | ` +
        `${r.rss ? `${mib(r.rss.api)} / ${mib(r.rss.scheduler)} / ${mib(r.rss.volSum)} (${mib(r.rss.volMax)})` : '-'} | ${r.note} |`,
    );
  }
  console.log(`\n(${ENGINE}, ${WORKERS} API workers, ${CLIENTS} clients, ${VOLUMES} 1 GiB volumes per row; services run compiled (bin/cinder-ts); one bash start per stand-in call)`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
