// Chaos (d): storage commands fail or hang while Nova detaches volumes (and their owners delete them).
//
// Volumes are attached the legacy way; then, one fault at a time, a few of them go through Nova's
// three-call detach with retries and os-roll_detaching, and are deleted. Faults are stand-in
// injections (Cluster.injectFailure): failures of `cinder-rtstool delete-initiator` /
// `delete` / `save` and `lvremove`, and hangs (`hang=<s> `) longer than rpc_response_timeout, so
// that the API gives up while the volume-manager's command still runs. After each fault is
// cleared the user detaches rolled-back volumes again and deletes again what went to
// error_deleting. Besides the audit the script counts the commands that outlived their caller:
// the manager's "outlived" log lines, and independently every stand-in command that ran longer
// than rpc_response_timeout.
//
//   npx tsx test/chaos/storage-faults.ts [--seed 1] [--per-fault 2] [--rpc-timeout 4] [--hang 7] [--faults all|name,...]
import { randomUUID } from 'node:crypto';
import { Cluster, CinderClient } from '../support/cluster.js';
import { TRANSIENT_VOLUME_STATUSES, alive, arg, audit, clean, report, type AuditResult } from './lib/audit.js';
import { ChaosClient, LivenessMonitor, PROJECT, brief, closingFigures, countBy, explain, findings, fmtCounts, exitWhen, isMain, novaDetach, outlivedLines, pct, rng, waitAll, withRetries, type LegacyAttachment } from './lib/nova.js';

export interface FaultOptions {
  seed: number;
  /** Volumes detached (concurrently) under each fault. */
  perFault: number;
  rpcTimeout: number;
  /** How long a hung command sleeps (s); must exceed rpcTimeout. */
  hang: number;
  /** Fault names to run (default: all, in a seeded order). */
  faults?: string[];
  print?: boolean;
}

/** A fault: the stand-in injection lines that make it. */
interface Fault {
  name: string;
  lines: (hang: number) => string[];
}

export const FAULTS: Fault[] = [
  { name: 'delete-initiator fails twice', lines: () => ['once cinder-rtstool delete-initiator', 'once cinder-rtstool delete-initiator'] },
  { name: 'delete-initiator down', lines: () => ['cinder-rtstool delete-initiator'] },
  { name: 'rtstool delete fails twice', lines: () => ['once cinder-rtstool delete', 'once cinder-rtstool delete'] },
  { name: 'rtstool delete down', lines: () => ['cinder-rtstool delete'] },
  { name: 'rtstool save down', lines: () => ['cinder-rtstool save'] },
  { name: 'lvremove down', lines: () => ['lvremove'] },
  { name: 'delete-initiator hangs', lines: (h) => [`once hang=${h} cinder-rtstool delete-initiator`] },
  { name: 'rtstool delete hangs', lines: (h) => [`once hang=${h} cinder-rtstool delete`] },
  { name: 'lvremove hangs', lines: (h) => [`once hang=${h} lvremove`] },
];

export interface FaultFigures {
  requests: Record<string, number>;
  byCall: string;
  maxMs: number;
  p99Ms: number;
  perFault: Record<string, string>;
  audit: AuditResult;
  clean: boolean;
  aliveThroughout: { api: boolean; volume: boolean };
  aliveAtEnd: { api: boolean; volume: boolean };
  deaths: string[];
  /** Operator recoveries: os-force_delete of a volume left error_deleting. */
  forceDeletes: number;
  /** The manager's log lines containing "outlived". */
  outlivedLogged: number;
  /** Stand-in commands that ran longer than rpc_response_timeout (their caller had given up). */
  slowerThanCaller: number;
  text: string;
}

const POLICY = { attempts: 5, backoffMs: [500, 1000, 2000] };

export async function run(opts: Partial<FaultOptions> = {}): Promise<FaultFigures> {
  const o: FaultOptions = { seed: 1, perFault: 2, rpcTimeout: 4, hang: 7, print: false, ...opts };
  const rand = rng(o.seed);
  const chosen = (o.faults ? FAULTS.filter((f) => o.faults!.includes(f.name)) : [...FAULTS])
    .map((f) => ({ f, k: rand() }))
    .sort((x, y) => x.k - y.k)
    .map((x) => x.f);
  const cluster = new Cluster({ rpcResponseTimeout: o.rpcTimeout });
  const monitor = new LivenessMonitor(cluster);
  try {
    await cluster.start();
    monitor.start();
    const setupApi = new CinderClient(cluster.baseUrl, PROJECT, 'nova', { 'X-Service-Roles': 'service' });
    const c = new ChaosClient(cluster.baseUrl, (3 * o.rpcTimeout + o.hang + 5) * 1000);
    const ids: string[] = [];
    const history = new Map<string, string[]>();
    const note = (id: string, what: string) => history.set(id, [...(history.get(id) ?? []), what]);
    const status = (id: string): string => {
      const row = cluster.volumeRow(id);
      return !row ? 'gone' : row.deleted ? 'deleted' : row.status;
    };
    const perFault: Record<string, string> = {};
    let forceDeletes = 0;

    /** Delete as an owner does (with Nova-like retries on a 500); returns where the volume ended. */
    const destroy = async (id: string): Promise<string> => {
      const r = await withRetries(() => c.delete(id), POLICY);
      if (r.last.status === 404) return 'gone';
      if (r.last.status !== 202) {
        note(id, `delete ${r.last.status}`);
        return status(id);
      }
      await waitAll([id], (x) => status(x) !== 'deleting', 30_000, 100);
      const s = status(id);
      // error_deleting is deleted again once the fault is cleared (below).
      if (s === 'error_deleting') note(id, 'delete → error_deleting');
      return s;
    };

    const detachAndDelete = async (v: LegacyAttachment): Promise<string> => {
      const outcome = await novaDetach(c, v, POLICY);
      if (outcome !== 'detached') {
        note(v.id, outcome);
        return outcome;
      }
      const s = await destroy(v.id);
      return s === 'deleted' || s === 'gone' ? 'detached+deleted' : `detached, delete → ${s}`;
    };

    for (const fault of chosen) {
      const vols: LegacyAttachment[] = [];
      for (let i = 0; i < o.perFault; i++) {
        const connector = { initiator: `iqn.1994-05.com.redhat:fault-${ids.length}`, host: `compute-${i}`, ip: `192.0.2.${100 + (ids.length % 100)}`, platform: 'x86_64', os_type: 'linux', multipath: false };
        const a = await cluster.attachedVolume(setupApi, connector, randomUUID());
        vols.push({ ...a, connector });
        ids.push(a.id);
      }
      const callsBefore = c.calls.length;
      for (const line of fault.lines(o.hang)) cluster.injectFailure(line);
      const first = await Promise.all(vols.map(detachAndDelete));
      cluster.clearFailures();
      // Fault cleared: the user detaches rolled-back volumes again, the owner deletes again.
      const second: string[] = [];
      for (const v of vols) {
        const s = status(v.id);
        if (s === 'in-use' || s === 'detaching') second.push(`${s} → ${await detachAndDelete(v)}`);
        else if (s === 'available' || s === 'error') second.push(`${s} → delete → ${await destroy(v.id)}`);
        else if (s === 'error_deleting') {
          // As in Cinder, a plain delete refuses error_deleting (400): the operator's tool is
          // os-force_delete (admin), counted apart from what Nova and the owner do.
          const r = await c.action(v.id, { 'os-force_delete': {} });
          forceDeletes++;
          await waitAll([v.id], (x) => status(x) !== 'deleting' && status(x) !== 'error_deleting', 30_000, 100);
          second.push(`error_deleting → os-force_delete ${r.status} → ${status(v.id)}`);
        }
      }
      // A hung command may still be running: let it finish before the next fault.
      await waitAll(vols.map((v) => v.id), (id) => !TRANSIENT_VOLUME_STATUSES.includes(status(id)), (o.hang + 5) * 1000, 200);
      const calls = c.calls.slice(callsBefore);
      const statuses = fmtCounts(countBy(calls.map((x) => String(x.status))));
      perFault[fault.name] = `calls ${statuses}, max ${Math.max(0, ...calls.map((x) => x.ms)).toFixed(0)} ms; first pass: ${fmtCounts(countBy(first))}${second.length ? `; after clearing: ${second.join(', ')}` : ''}; end: ${fmtCounts(countBy(vols.map((v) => status(v.id))))}`;
    }

    await waitAll(ids, (id) => !TRANSIENT_VOLUME_STATUSES.includes(status(id)), 30_000);
    monitor.stop();
    const a = audit(cluster, ids);
    const outlived = outlivedLines(cluster);
    const slower = cluster.standinCalls().filter((x) => x.t_end - x.t_start > o.rpcTimeout);
    const latencies = c.calls.map((x) => x.ms);
    const figures: Omit<FaultFigures, 'text'> = {
      requests: Object.fromEntries(c.tally.byStatus),
      byCall: c.byOpText(),
      maxMs: Math.max(0, ...latencies),
      p99Ms: pct(latencies, 99),
      perFault,
      audit: a,
      clean: clean(a),
      aliveThroughout: monitor.aliveThroughout,
      aliveAtEnd: alive(cluster),
      deaths: monitor.deaths,
      forceDeletes,
      outlivedLogged: outlived.length,
      slowerThanCaller: slower.length,
    };
    const findingText = clean(a)
      ? ''
      : `\n  ${findings(a).map((id) => `${id} ${status(id)}: ${(history.get(id) ?? []).join('; ') || '(no client-visible failure)'}\n    ${explain(cluster, id)}`).join('\n  ')}`;
    const text = report(`storage faults (seed ${o.seed}, ${chosen.length} faults × ${o.perFault} volumes, rpc_response_timeout ${o.rpcTimeout} s, hang ${o.hang} s)`, {
      requests: c.tally,
      audit: a,
      alive: figures.aliveAtEnd,
      extra: {
        'requests by call': figures.byCall,
        'latency max / p99 (ms)': `${figures.maxMs.toFixed(0)} / ${figures.p99Ms.toFixed(0)}`,
        'per fault': `\n  ${Object.entries(perFault).map(([k, v]) => `${k}: ${v}`).join('\n  ')}`,
        'operator recoveries (os-force_delete of error_deleting; os-reset_status never used)': forceDeletes,
        'commands that outlived their caller (manager log lines containing "outlived")': outlived.length
          ? `${outlived.length}\n  ${outlived.slice(0, 6).map(brief).join('\n  ')}`
          : '0 (no such log line in this run)',
        'stand-in commands that ran longer than rpc_response_timeout': `${slower.length}${slower.length ? ` (${slower.map((x) => `${x.argv.slice(0, 2).join(' ')} ${(x.t_end - x.t_start).toFixed(1)} s`).join(', ')})` : ''}`,
        ...closingFigures(cluster, { script: 'storage-faults', aliveLabel: 'processes alive throughout (polled every 200 ms)', alive: figures.aliveThroughout, monitor, findingText }),
      },
    });
    if (o.print) console.log(`${text}\n`);
    return { ...figures, text };
  } finally {
    monitor.stop();
    await cluster.stop();
  }
}

if (isMain(import.meta.url)) {
  const faults = arg('faults', 'all');
  const figures = run({
    seed: Number(arg('seed', '1')),
    perFault: Number(arg('per-fault', '2')),
    rpcTimeout: Number(arg('rpc-timeout', '4')),
    hang: Number(arg('hang', '7')),
    faults: faults === 'all' ? undefined : faults.split(','),
    print: true,
  });
  exitWhen(figures, (f) => f.clean && f.aliveThroughout.api && f.aliveThroughout.volume);
}
