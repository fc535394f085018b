// Side-by-side detach benchmark: cinder-ts against real Cinder 21.3.1 (Debian's python3-cinder:
// cinder-api + cinder-scheduler + cinder-volume, LVM driver, target_helper=lioadm, MariaDB), both on
// the project's recording stand-ins (test/stand-ins) and the local RabbitMQ, driven by the same HTTP
// client (bench/lib/flows.ts) with the same headers. The two run one after the other, never at once
// (a 2-core machine). Per flow and client count: fresh attached volumes, the stand-in log cleared,
// the detaches, then detaches/s and latencies; afterwards it checks that a sequential detach ran the
// same storage commands (normalised argv) on both, and prints the figures with their ratios.
//
//   npx tsx bench/vs-cinder.ts [--volumes 50] [--concurrency 1,8,32] [--flows legacy,attachments]
//                              [--engine sqlite|mysql] [--api-workers 1] [--setup-concurrency 8]
//                              [--only cinder-ts|real]
//
// --engine is cinder-ts's database; real Cinder always runs on MariaDB (on SQLite its concurrent API
// requests fail with "database is locked"). Figures are noisy on a shared 2-core machine.
import { Cluster } from '../test/support/cluster.js';
import { closeAgents, runDetaches, setupAttached, type Flow, type RunResult, type Target } from './lib/flows.js';
import { startRealCinder, type RealCinderStack } from './lib/real-cinder-stack.js';
import { snapshot, treeCpu } from './lib/rss.js';
import { attribute, readStandinLog, type Attribution } from './lib/standin-log.js';
import { num, pct, sum, table } from './lib/stats.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
};
const N = Number(arg('volumes', '50'));
const LEVELS = arg('concurrency', '1,8,32').split(',').map(Number);
const FLOWS = arg('flows', 'legacy,attachments').split(',') as Flow[];
const ENGINE = arg('engine', 'sqlite');
const API_WORKERS = Number(arg('api-workers', '1'));
const SETUP_CONC = Number(arg('setup-concurrency', '8'));
const ONLY = arg('only', '');
process.env.CINDER_TS_DB_ENGINE = ENGINE;
for (const f of FLOWS) if (f !== 'legacy' && f !== 'attachments') throw new Error(`--flows: unknown flow ${f}`);

const PROJECT = 'be0c4be0c4be0c4be0c4be0c4be0c4be';
// The same headers for both: noauth's user:project token (cinder/api/middleware/auth.py
// NoAuthMiddleware on the real side) and the service role Nova's service token would carry, which
// real Cinder wants before deleting an attachment that is still connected (Bug #2004555).
const HEADERS = { 'X-Auth-Token': `bench:${PROJECT}`, 'X-Service-Roles': 'service' };
// Setup gets a deadline per level; what is not attached by then is reported and left out.
const SETUP_DEADLINE_MS = Math.max(180_000, N * 6_000);

interface Level {
  flow: Flow;
  clients: number;
  setupSeconds: number;
  setupFailed: { step: string; detail: string }[];
  run: RunResult;
  attr: Attribution;
  /** CPU ms per detach of the system's processes (services) and of the commands they ran. */
  cpu: { services: number; commands: number };
}
interface SystemResult {
  name: string;
  error?: string;
  launchToFirstAnswer?: number;
  launchNote?: string;
  rssAllMiB?: number;
  rssApiVolMiB?: number;
  rssDetail?: string;
  levels: Level[];
}

const log = (s = '') => console.log(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seconds until GET /v3/{project}/volumes answers 200 (bounded), polled while the services start. */
async function firstAnswer(url: () => string | undefined, t0: number, timeoutMs: number): Promise<number | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const u = url();
    if (u) {
      try {
        const r = await fetch(`${u}/v3/${PROJECT}/volumes`, { headers: HEADERS, signal: AbortSignal.timeout(5000) });
        await r.arrayBuffer();
        if (r.status === 200) return (performance.now() - t0) / 1000;
      } catch {
        /* not listening yet */
      }
    }
    await sleep(20);
  }
  return undefined;
}

/** Every flow and client level against one running system. */
async function runLevels(t: Target, standinLog: string, clearLog: () => void, roots: () => Record<string, number | undefined>): Promise<Level[]> {
  const out: Level[] = [];
  for (const flow of FLOWS) {
    for (const clients of LEVELS) {
      const s = await setupAttached(t, N, flow, { concurrency: SETUP_CONC, deadlineMs: SETUP_DEADLINE_MS });
      if (s.failed.length) {
        const kinds = new Map<string, number>();
        s.failed.forEach((f) => kinds.set(f.step, (kinds.get(f.step) ?? 0) + 1));
        log(`  setup ${flow} c=${clients}: ${s.failed.length} of ${N} failed (${[...kinds].map(([k, n]) => `${k} x${n}`).join(', ')}); first: ${s.failed[0].step}: ${s.failed[0].detail.slice(0, 300)}`);
      }
      // Let the setup's last casts land (os-attach is a cast on both) before the log is cleared.
      await sleep(500);
      clearLog();
      const cpu0 = treeCpu(roots());
      const run = await runDetaches(t, s.ready, flow, clients);
      const cpu1 = treeCpu(roots());
      const n = Math.max(1, run.samples.length);
      const cpu = { services: (cpu1.services - cpu0.services) / n, commands: (cpu1.commands - cpu0.commands) / n };
      // Commands a detach starts after its last answer (none expected: the detach RPCs are calls)
      // still get half a second to reach the log.
      await sleep(500);
      const initiators = new Map(s.ready.map((v) => [v.volumeId, String(v.connector.initiator)]));
      const attr = attribute(readStandinLog(standinLog), run.samples, clients, initiators);
      const tot = run.samples.map((x) => x.totalMs);
      log(
        `  ${flow.padEnd(11)} clients=${String(clients).padStart(2)}  setup ${s.ready.length}/${N} in ${s.seconds.toFixed(1)} s  ` +
          `detaches=${run.samples.length} wall=${run.wallSeconds.toFixed(2)} s  ${num(run.samples.length / run.wallSeconds)}/s  ` +
          `p50=${num(pct(tot, 50))} p99=${num(pct(tot, 99))} ms  non-2xx=${run.non2xx.length}  storage cmds=${attr.totalCalls}  ` +
          `CPU/detach: services ${num(cpu.services)} ms, commands ${num(cpu.commands)} ms`,
      );
      if (run.non2xx.length) log(`    first non-2xx: ${run.non2xx.slice(0, 2).join(' | ')}`);
      out.push({ flow, clients, setupSeconds: s.seconds, setupFailed: s.failed, run, attr, cpu });
    }
  }
  return out;
}

function rssOf(roots: Record<string, number | undefined>) {
  const procs = snapshot(roots);
  const all = sum(procs.map((p) => p.hwmMiB).filter(Number.isFinite));
  const apiVol = sum(procs.filter((p) => p.group === 'api' || p.group === 'volume').map((p) => p.hwmMiB).filter(Number.isFinite));
  // Real Cinder's processes are all `python3`: name them by place in the tree instead (the oslo
  // ProcessLauncher parent and the worker it forks, cinder/cmd/api.py and cinder/cmd/volume.py).
  const pids = new Set(procs.map((p) => p.pid));
  const parents = new Set(procs.map((p) => p.ppid));
  const name = (p: (typeof procs)[number]) =>
    p.label !== 'python3' ? p.label : pids.has(p.ppid) ? 'worker' : parents.has(p.pid) ? 'launcher' : 'service';
  const detail = procs.map((p) => `${p.group}/${name(p)}=${num(p.hwmMiB)}`).join(' ');
  return { all, apiVol, detail };
}

async function benchCinderTs(): Promise<SystemResult> {
  const res: SystemResult = { name: 'cinder-ts', levels: [] };
  log(`\n== cinder-ts (engine ${ENGINE}, api workers ${API_WORKERS})`);
  let cluster: Cluster | undefined;
  try {
    // target_ip_address as on the real side, so the two create the same targets.
    cluster = new Cluster({
      logLevel: 'warn',
      rpcResponseTimeout: 60,
      extraDefault: { osapi_volume_workers: String(API_WORKERS) },
      extraBackend: { target_ip_address: '127.0.0.1' },
    });
    const c = cluster;
    const t0 = performance.now();
    const first = firstAnswer(() => (c.port ? c.baseUrl : undefined), t0, 120_000);
    await c.start();
    res.launchToFirstAnswer = await first;
    res.launchNote = `all services ready ${((performance.now() - t0) / 1000).toFixed(2)} s`;
    log(`  launch to first answer ${num(res.launchToFirstAnswer ?? NaN, 2)} s (${res.launchNote}; includes creating its tables)`);
    const t: Target = { name: 'cinder-ts', baseUrl: c.baseUrl, projectId: PROJECT, headers: HEADERS };
    res.levels = await runLevels(t, c.standinLog, () => c.clearStandinLog(), () => ({ api: c.api?.pid, volume: c.volume?.pid, scheduler: c.scheduler?.pid }));
    const r = rssOf({ api: c.api?.pid, volume: c.volume?.pid, scheduler: c.scheduler?.pid });
    Object.assign(res, { rssAllMiB: r.all, rssApiVolMiB: r.apiVol, rssDetail: r.detail });
  } catch (e) {
    res.error = (e as Error).stack ?? String(e);
    log(`  cinder-ts failed: ${res.error.slice(0, 3000)}`);
    if (cluster) for (const w of ['api', 'volume', 'scheduler'] as const) log(`  ${w} log tail: ${cluster.logs[w].slice(-5).join(' | ')}`);
  } finally {
    closeAgents();
    await Promise.race([cluster?.stop(), sleep(30_000)]).catch(() => undefined);
  }
  return res;
}

async function benchReal(): Promise<SystemResult> {
  const res: SystemResult = { name: 'real Cinder', levels: [] };
  log(`\n== real Cinder 21.3.1 (cinder-api x${API_WORKERS} worker, cinder-scheduler, cinder-volume; MariaDB; lioadm on the stand-ins)`);
  let stack: RealCinderStack | undefined;
  try {
    stack = await startRealCinder({ projectId: PROJECT, apiWorkers: API_WORKERS, readyTimeoutMs: 180_000 });
    current = stack;
    const s = stack;
    res.launchToFirstAnswer = s.launchToFirstAnswer;
    res.launchNote = `all services ready ${s.launchToAllReady.toFixed(2)} s; db sync before launch ${num(s.dbSyncSeconds, 2)} s, not counted`;
    log(`  launch to first answer ${num(s.launchToFirstAnswer, 2)} s (${res.launchNote})`);
    res.levels = await runLevels({ ...s.target, headers: HEADERS }, s.standinLog, () => s.clearStandinLog(), () => s.pids);
    const r = rssOf(s.pids);
    Object.assign(res, { rssAllMiB: r.all, rssApiVolMiB: r.apiVol, rssDetail: r.detail });
  } catch (e) {
    res.error = (e as Error).message ?? String(e);
    log(`  real Cinder failed: ${res.error.slice(0, 4000)}`);
  } finally {
    closeAgents();
    await stack?.stop();
    current = undefined;
  }
  return res;
}

/** The most frequent normalised argv sequence among a level's detaches, and how many had it. */
function commonSequence(l: Level | undefined): { seq: string[]; count: number; of: number } | undefined {
  if (!l || l.attr.perDetach.length === 0) return undefined;
  const counts = new Map<string, { seq: string[]; count: number }>();
  for (const d of l.attr.perDetach) {
    const k = JSON.stringify(d.argv);
    const e = counts.get(k) ?? { seq: d.argv, count: 0 };
    e.count++;
    counts.set(k, e);
  }
  const best = [...counts.values()].sort((a, b) => b.count - a.count)[0];
  return { ...best, of: l.attr.perDetach.length };
}

function report(ts: SystemResult, real: SystemResult) {
  const seqLevel = Math.min(...LEVELS);
  log(`\n== same storage commands per sequential detach? (clients=${seqLevel}, normalised argv: <vol> = the volume id, <initiator> = its connector's)`);
  for (const flow of FLOWS) {
    const a = commonSequence(ts.levels.find((l) => l.flow === flow && l.clients === seqLevel));
    const b = commonSequence(real.levels.find((l) => l.flow === flow && l.clients === seqLevel));
    log(`\n  ${flow}:`);
    for (const [name, s] of [
      ['cinder-ts', a],
      ['real Cinder', b],
    ] as const) {
      if (!s) {
        log(`    ${name}: no detaches`);
        continue;
      }
      log(`    ${name} (${s.count} of ${s.of} detaches ran this):`);
      for (const x of s.seq) log(`      ${x}`);
    }
    const verdict = !a || !b ? 'CANNOT COMPARE' : JSON.stringify(a.seq) === JSON.stringify(b.seq) ? 'MATCH' : 'DIFFER';
    log(`    => ${verdict}`);
  }

  const lv = (r: SystemResult, flow: Flow, c: number) => r.levels.find((l) => l.flow === flow && l.clients === c);
  const rate = (l?: Level) => (l && l.run.wallSeconds > 0 && l.run.samples.length ? l.run.samples.length / l.run.wallSeconds : NaN);
  const p = (l: Level | undefined, q: number) => (l ? pct(l.run.samples.map((s) => s.totalMs), q) : NaN);
  const over = (l?: Level) => (l ? pct(l.attr.perDetach.map((d) => d.overheadMs), 50) : NaN);
  const cmd = (l?: Level) => (l ? pct(l.attr.perDetach.map((d) => d.cmdMs), 50) : NaN);
  const ratio = (x: number, y: number) => (Number.isFinite(x) && Number.isFinite(y) && y !== 0 ? `${(x / y).toFixed(2)}x` : '-');
  const rows: string[][] = [];
  const row = (fig: string, x: number, y: number, digits = 1) => rows.push([fig, num(x, digits), num(y, digits), ratio(x, y)]);
  for (const flow of FLOWS) {
    const name = flow === 'legacy' ? 'legacy 3-call' : 'attachments DELETE';
    for (const c of LEVELS) row(`${name}: detaches/s, ${c} client${c === 1 ? '' : 's'}`, rate(lv(ts, flow, c)), rate(lv(real, flow, c)));
    if (LEVELS.includes(1)) {
      row(`${name}: whole detach p50 ms, 1 client`, p(lv(ts, flow, 1), 50), p(lv(real, flow, 1), 50));
      row(`${name}: whole detach p99 ms, 1 client`, p(lv(ts, flow, 1), 99), p(lv(real, flow, 1), 99));
    }
    const hi = Math.max(...LEVELS);
    row(`${name}: whole detach p99 ms, ${hi} clients`, p(lv(ts, flow, hi), 99), p(lv(real, flow, hi), 99));
    row(`${name}: storage cmds' own ms p50, ${seqLevel} client`, cmd(lv(ts, flow, seqLevel)), cmd(lv(real, flow, seqLevel)));
    row(`${name}: overhead ms p50 (whole - cmds), ${seqLevel} client`, over(lv(ts, flow, seqLevel)), over(lv(real, flow, seqLevel)));
    for (const c of new Set([seqLevel, hi])) {
      const svc = (l?: Level) => l?.cpu.services ?? NaN;
      row(`${name}: CPU ms per detach, services, ${c} client${c === 1 ? '' : 's'}`, svc(lv(ts, flow, c)), svc(lv(real, flow, c)));
    }
  }
  row('peak RSS MiB, all processes (sum of VmHWM)', ts.rssAllMiB ?? NaN, real.rssAllMiB ?? NaN);
  row('peak RSS MiB, API + volume service', ts.rssApiVolMiB ?? NaN, real.rssApiVolMiB ?? NaN);
  row('launch to first answer s (GET volumes 200)', ts.launchToFirstAnswer ?? NaN, real.launchToFirstAnswer ?? NaN, 2);
  log(`\n== figures (${N} volumes per level; ratio = cinder-ts / real Cinder: above 1 is better for detaches/s, below 1 for ms, MiB, s)`);
  log(table(['figure', 'cinder-ts', 'real Cinder', 'ratio'], rows));
  for (const r of [ts, real]) {
    if (r.rssDetail) log(`  ${r.name} processes (VmHWM MiB): ${r.rssDetail}`);
    if (r.launchNote) log(`  ${r.name} launch: ${r.launchNote}`);
    if (r.error) log(`  ${r.name}: FAILED (${r.error.split('\n')[0].slice(0, 300)})`);
    const nf = sum(r.levels.map((l) => l.setupFailed.length));
    const n2 = sum(r.levels.map((l) => l.run.non2xx.length));
    if (nf || n2) log(`  ${r.name}: ${nf} setup failures, ${n2} non-2xx detach answers over all levels`);
  }
}

let current: RealCinderStack | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`\n${sig}: stopping`);
    void Promise.race([current?.stop(), sleep(10_000)]).finally(() => process.exit(130));
  });
}

async function main() {
  log(`vs-cinder: ${N} attached volumes per flow and level; clients ${LEVELS.join(',')}; flows ${FLOWS.join(',')}; setup concurrency ${SETUP_CONC}; ${new Date().toISOString()}`);
  const skipped = (name: string): SystemResult => ({ name, levels: [], error: 'skipped (--only)' });
  const ts = ONLY && ONLY !== 'cinder-ts' ? skipped('cinder-ts') : await benchCinderTs();
  const real = ONLY && ONLY !== 'real' ? skipped('real Cinder') : await benchReal();
  report(ts, real);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  // The MariaDB client (a worker thread) and pooled sockets would keep the process alive.
  .finally(() => setTimeout(() => process.exit(process.exitCode ?? 0), 200));
