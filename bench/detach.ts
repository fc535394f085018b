// Detach benchmark: the real API, scheduler and volume-manager processes on SQLite or MariaDB and the
// local RabbitMQ, with the recording stand-in storage commands. For each flow (Nova's legacy
// three-call detach: os-begin_detaching, os-terminate_connection, os-detach; and the attachments
// API's DELETE /attachments/{id}) and each client level, it attaches fresh volumes over HTTP
// (bench/lib/flows.ts, the same code that measures a real Cinder), clears the stand-in log, detaches
// them all and prints detaches/s, non-2xx answers, per-call and per-detach p50/p95/p99, how much of
// a detach is the storage commands' own run time (from the stand-in log) and how much is ours, the
// normalised command sequence of one detach, and at the end the peak RSS of every process.
// Every wait is bounded (request timeouts, setup deadline, cleanup wait, a whole-run watchdog).
//
//   npx tsx bench/detach.ts [--engine sqlite|mysql] [--workers 1] [--volumes 100] [--concurrency 1,8,32]
//                           [--flows legacy,attachments] [--setup-deadline 600] [--max-minutes 90]
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { Cluster } from '../test/support/cluster.js';
import { setupAttached, runDetaches, cleanup, closeAgents, type Flow, type Target, type RunResult } from './lib/flows.js';
import { pct, p3, num, sum, table } from './lib/stats.js';
import { readStandinLog, attribute } from './lib/standin-log.js';
import { snapshot, RssSampler, brokerPid, dbServerPid, cpuByRole, type ProcInfo } from './lib/rss.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('volumes', '100'));
const ENGINE = arg('engine', 'sqlite');
const WORKERS = arg('workers', '1');
process.env.CINDER_TS_DB_ENGINE = ENGINE;
const LEVELS = arg('concurrency', '1,8,32').split(',').map(Number);
const FLOWS = arg('flows', 'legacy,attachments').split(',') as Flow[];
const SETUP_DEADLINE_S = Number(arg('setup-deadline', '600'));
const MAX_MINUTES = Number(arg('max-minutes', '90'));
/** Setup is not measured; 8 at a time is quick without starving the 2-core test machines. */
const SETUP_CONCURRENCY = 8;
const CLEANUP_WAIT_MS = 120_000;
const PROJECT = 'be0c4be0c4be0c4be0c4be0c4be0c4be';

for (const f of FLOWS) if (f !== 'legacy' && f !== 'attachments') throw new Error(`--flows: unknown flow ${f}`);

function machine(): string {
  const git = (...a: string[]) => {
    try {
      return execFileSync('git', a, { encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  };
  const dirty = git('status', '--porcelain', '--untracked-files=no') ? ' (+local changes)' : '';
  return `machine: nproc=${os.availableParallelism()} load=${os.loadavg().map((l) => l.toFixed(2)).join('/')} node=${process.version} engine=${ENGINE} api_workers=${WORKERS} git=${git('rev-parse', '--short', 'HEAD')}${dirty}`;
}

function groupFailures(failed: { step: string; detail: string }[]): string {
  const by = new Map<string, { n: number; first: string }>();
  for (const f of failed) {
    const e = by.get(f.step) ?? { n: 0, first: f.detail };
    e.n++;
    by.set(f.step, e);
  }
  return [...by].map(([step, e]) => `${step} x${e.n} (first: ${e.first.slice(0, 160)})`).join('; ');
}

function report(r: RunResult, cluster: Cluster, initiators: Map<string, string>) {
  const ok = r.samples.filter((s) => s.ok).length;
  console.log(
    `  run: clients=${r.clients} detaches=${r.samples.length} (ok ${ok}) wall=${r.wallSeconds.toFixed(2)}s detaches/s=${(r.samples.length / r.wallSeconds).toFixed(1)} non-2xx=${r.non2xx.length}`,
  );
  for (const t of r.non2xx.slice(0, 3)) console.log(`    non-2xx: ${t}`);
  const callNames = [...new Set(r.samples.flatMap((s) => s.calls.map((c) => c.call)))];
  const rows = callNames.map((name) => [name, ...p3(r.samples.flatMap((s) => s.calls.filter((c) => c.call === name).map((c) => c.ms)))]);
  rows.push([`whole detach (${callNames.length} call${callNames.length > 1 ? 's' : ''})`, ...p3(r.samples.map((s) => s.totalMs))]);
  console.log(indent(table(['call', 'p50 ms', 'p95 ms', 'p99 ms'], rows)));

  const calls = readStandinLog(cluster.standinLog);
  const a = attribute(calls, r.samples, r.clients, initiators);
  if (a.mode === 'window') {
    // Sequential detaches: each one's commands are exactly those inside its window.
    const cmd = a.perDetach.map((d) => d.cmdMs);
    const over = a.perDetach.map((d) => d.overheadMs);
    console.log(
      `  split (per sequential detach; p50 of each, so they need not add up): whole ${num(pct(r.samples.map((s) => s.totalMs), 50))} ms, commands ${num(pct(cmd, 50))} ms,` +
        ` overhead (whole - commands) ${num(pct(over, 50))} ms, overhead p95 ${num(pct(over, 95))} ms; ${a.totalCalls} commands, ${num(a.totalCalls / Math.max(1, r.samples.length))} per detach`,
    );
  } else {
    const byVol = sum(a.perDetach.map((d) => d.cmdMs));
    const shared = sum(a.shared.map((s) => s.ms));
    const latency = sum(r.samples.map((s) => s.totalMs));
    console.log(
      `  split (totals, ${r.clients} clients): sum of detach latencies ${(latency / 1000).toFixed(2)} s; commands ${(a.totalCmdMs / 1000).toFixed(2)} s in ${a.totalCalls} calls` +
        ` (by volume id ${(byVol / 1000).toFixed(2)} s, shared ${(shared / 1000).toFixed(2)} s); overhead ${((latency - a.totalCmdMs) / 1000).toFixed(2)} s; run wall ${r.wallSeconds.toFixed(2)} s`,
    );
    if (a.shared.length) console.log(`  shared host calls: ${a.shared.map((s) => `${s.kind} x${s.calls} ${num(s.ms)} ms`).join('; ')}`);
  }
  const first = a.perDetach[0];
  if (first) console.log(`  argv of the first detach (${a.mode === 'window' ? 'its window' : 'calls naming its volume'}):\n${first.argv.map((l) => `    ${l}`).join('\n') || '    (none)'}`);
}

const indent = (s: string) => s.replace(/^/gm, '  ');

/**
 * CPU per detach by role (kernel accounting, 10 ms ticks): on a machine with P CPUs no run can do
 * better than P*1000/total detaches/s, however the work is spread.
 */
function cpuReport(before: Map<string, number>, after: Map<string, number>, clientMs: number, detaches: number) {
  const per = new Map<string, number>();
  for (const [k, v] of after) per.set(k, (v - (before.get(k) ?? 0)) / detaches);
  per.set('bench client', clientMs / detaches);
  const total = sum([...per.values()]);
  const cpus = os.availableParallelism();
  console.log(
    `  CPU per detach: ${[...per].map(([k, v]) => `${k} ${num(v)}`).join(', ')} ms; total ${num(total)} ms` +
      ` -> at most ${num((cpus * 1000) / total)} detaches/s on ${cpus} CPUs`,
  );
}

function rssReport(procs: ProcInfo[], runMax: Map<number, number>, runPss: Map<number, number>) {
  const transient = (p: ProcInfo) => !['api', 'api-worker', 'volume-manager', 'spawn-helper', 'scheduler'].includes(p.label);
  const kept = procs.filter((p) => !transient(p));
  console.log(
    '\npeak RSS per process (VmHWM: whole life incl. setup; run max: highest VmRSS sampled every 200 ms during the detach runs;' +
      ' PSS: shared pages such as the node binary counted in shares)',
  );
  console.log(indent(table(['process', 'pid', 'VmHWM MiB', 'run max MiB', 'run max PSS MiB'], kept.map((p) => [p.label, String(p.pid), num(p.hwmMiB), num(runMax.get(p.pid) ?? NaN), num(runPss.get(p.pid) ?? NaN)]))));
  const other = procs.filter((p) => transient(p) && Number.isFinite(p.hwmMiB));
  if (other.length) console.log(`  not counted (transient commands): ${other.map((p) => `${p.label}[${p.pid}] ${num(p.hwmMiB)} MiB`).join(', ')}`);
  const tot = (labels: string[], f: (p: ProcInfo) => number) => sum(kept.filter((p) => labels.includes(p.label)).map(f));
  const hwm = (p: ProcInfo) => p.hwmMiB;
  const run = (p: ProcInfo) => runMax.get(p.pid) ?? NaN;
  const pss = (p: ProcInfo) => runPss.get(p.pid) ?? NaN;
  const rows = [
    ['api (parent + workers)', ['api', 'api-worker']],
    ['volume-manager', ['volume-manager']],
    ['spawn helper', ['spawn-helper']],
    ['scheduler', ['scheduler']],
    ['API + volume-manager', ['api', 'api-worker', 'volume-manager']],
    ['API + volume-manager + spawn helper', ['api', 'api-worker', 'volume-manager', 'spawn-helper']],
  ] as const;
  console.log(indent(table(['sum', 'VmHWM MiB', 'run max MiB', 'run max PSS MiB'], rows.map(([name, l]) => [name, num(tot([...l], hwm)), num(tot([...l], run)), num(tot([...l], pss))]))));
}

async function main() {
  const cluster = new Cluster({ logLevel: 'warn', rpcResponseTimeout: 60, extraDefault: { osapi_volume_workers: WORKERS } });
  // The last resort against a hang no request timeout covers: stop the services and exit.
  const watchdog = setTimeout(() => {
    console.error(`\nwatchdog: still running after ${MAX_MINUTES} min, stopping`);
    void cluster.stop().finally(() => process.exit(2));
  }, MAX_MINUTES * 60_000);
  watchdog.unref();
  console.log(machine());
  const target: Target = {
    name: 'cinder-ts',
    get baseUrl() {
      return cluster.baseUrl; // the port is chosen by start()
    },
    projectId: PROJECT,
    // noauth token user:project; Nova sends its service token's role on detach (the manager checks it).
    headers: { 'X-Auth-Token': `user1:${PROJECT}`, 'X-Service-Roles': 'service' },
  };
  const roots = () => ({ api: cluster.api?.pid, volume: cluster.volume?.pid, scheduler: cluster.scheduler?.pid });
  const sampler = new RssSampler(roots);
  const broker = brokerPid();
  try {
    await cluster.start();
    // On MariaDB the database's CPU is the server's, not the services' (on SQLite it is in theirs).
    const extra = { rabbitmq: broker, ...(ENGINE === 'mysql' ? { mariadb: dbServerPid() } : {}) };
    console.log(`detach benchmark: ${N} attached volumes per run, flows=${FLOWS.join(',')}, clients=${LEVELS.join(',')}, stand-in storage commands, RabbitMQ`);
    for (const flow of FLOWS) {
      for (const clients of LEVELS) {
        console.log(`\n== flow=${flow} clients=${clients}`);
        const s = await setupAttached(target, N, flow, { concurrency: SETUP_CONCURRENCY, deadlineMs: SETUP_DEADLINE_S * 1000 });
        console.log(`  setup: ${s.ready.length}/${N} attached in ${s.seconds.toFixed(1)} s${s.failed.length ? `; failed ${s.failed.length}: ${groupFailures(s.failed)}` : ''}`);
        if (s.ready.length > 0) {
          const initiators = new Map(s.ready.map((v) => [v.volumeId, String(v.connector.initiator)]));
          cluster.clearStandinLog();
          sampler.start();
          const cpu0 = cpuByRole(roots(), extra);
          const client0 = process.cpuUsage();
          const r = await runDetaches(target, s.ready, flow, clients);
          const cpu1 = cpuByRole(roots(), extra);
          const client = process.cpuUsage(client0);
          sampler.stop();
          report(r, cluster, initiators);
          cpuReport(cpu0, cpu1, (client.user + client.system) / 1000, r.samples.length);
        }
        // Fresh volumes for the next run, and their deletes' commands out of its stand-in log.
        const c = await cleanup(target, s.created, { concurrency: SETUP_CONCURRENCY, waitMs: CLEANUP_WAIT_MS });
        if (c.left.length) console.log(`  cleanup: ${c.left.length} volumes not deleted within ${CLEANUP_WAIT_MS / 1000} s (first: ${c.left[0]})`);
      }
    }
    rssReport(snapshot(roots()), sampler.maxMiB, sampler.maxPssMiB);
    console.log('(services run compiled JavaScript through bin/cinder-ts; each stand-in command is one bash start)');
  } finally {
    closeAgents();
    await cluster.stop();
    clearTimeout(watchdog);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
