// Chaos (b): the volume-manager is SIGKILLed at random (seeded) points while clients create,
// attach, detach and delete volumes, and restarted each time (cluster.startVolume()).
//
// Each client works like Nova plus an operator who only uses the ordinary API: create and wait;
// legacy attach (a failed initialize_connection/attach is undone with terminate_connection and
// os-unreserve, as nova-compute does); Nova's three-call detach with retries and os-roll_detaching;
// delete, and delete again from error/error_deleting. os-reset_status is never used. Every step
// that had to recover something is recorded against its volume, and so is the manager's own
// start-up clean-up (its "Cleaning Volume with status ..." log lines).
//
//   npx tsx test/chaos/kill-manager.ts [--kills 6] [--seed 1] [--clients 3] [--rpc-timeout 5]
import { randomUUID } from 'node:crypto';
import { Cluster, sleep } from '../support/cluster.js';
import { TRANSIENT_VOLUME_STATUSES, alive, arg, audit, clean, report, type AuditResult } from './lib/audit.js';
import { ChaosClient, LivenessMonitor, closingFigures, countBy, explain, findings, fmtCounts, exitWhen, isMain, novaDetach, retryable, rng, waitAll, withRetries, type LegacyAttachment } from './lib/nova.js';

export interface KillOptions {
  kills: number;
  seed: number;
  clients: number;
  rpcTimeout: number;
  /** Time between a restart (or the start) and the next kill: uniform in [min, max] ms. */
  killGapMs: [number, number];
  /** How long the manager stays dead: uniform in [0, max] ms. */
  maxDownMs: number;
  /** How long a client waits for a volume to leave creating/deleting before calling it stuck. */
  stepTimeoutMs: number;
  print?: boolean;
}

export interface KillFigures {
  kills: number;
  seed: number;
  requests: Record<string, number>;
  byCall: string;
  volumes: number;
  cycles: number;
  audit: AuditResult;
  clean: boolean;
  /** The API must stay up throughout; the manager whenever it was not killed on purpose. */
  aliveThroughout: { api: boolean; volume: boolean };
  aliveAtEnd: { api: boolean; volume: boolean };
  deaths: string[];
  /** What each kill interrupted: the steps the clients had in hand at that moment. */
  killPoints: string[];
  /** Recovery action → number of times it was needed. */
  recoveredBy: Record<string, number>;
  /** Volume id → the recovery actions it needed. */
  perVolume: Record<string, string[]>;
  manualRecoveries: number;
  restartFailures: number;
  text: string;
}

const POLICY = { attempts: 5, backoffMs: [500, 1000, 2000] };

export async function run(opts: Partial<KillOptions> = {}): Promise<KillFigures> {
  const o: KillOptions = { kills: 6, seed: 1, clients: 3, rpcTimeout: 5, killGapMs: [1500, 6000], maxDownMs: 2000, stepTimeoutMs: 60_000, print: false, ...opts };
  const rand = rng(o.seed);
  const cluster = new Cluster({ rpcResponseTimeout: o.rpcTimeout });
  const monitor = new LivenessMonitor(cluster);
  try {
    await cluster.start();
    monitor.start();
    const c = new ChaosClient(cluster.baseUrl, (3 * o.rpcTimeout + 5) * 1000);
    const ids: string[] = [];
    const events = new Map<string, string[]>();
    const note = (id: string, what: string) => {
      if (!events.has(id)) events.set(id, []);
      events.get(id)!.push(what);
    };
    /** The connector each volume was (being) attached with: what Nova keeps in its BDM. */
    const connectors = new Map<string, Record<string, unknown>>();
    /** What each client is doing right now (for the kill points). */
    const doing = new Map<number, string>();
    const status = (id: string): string => {
      const row = cluster.volumeRow(id);
      return !row ? 'gone' : row.deleted ? 'deleted' : row.status;
    };
    const waitStatus = async (id: string, done: (s: string) => boolean, ms: number) => {
      await waitAll([id], (x) => done(status(x)), ms, 100);
      return status(id);
    };
    const attachedRow = (id: string) => cluster.liveAttachments(id).find((a) => a.attach_status === 'attached');

    // A failed legacy attach is undone as nova-compute does: terminate_connection, then unreserve.
    const undoAttach = async (id: string, connector: Record<string, unknown>) => {
      await withRetries(() => c.action(id, { 'os-terminate_connection': { connector } }), POLICY);
      await withRetries(() => c.action(id, { 'os-unreserve': {} }), POLICY);
    };

    const attach = async (id: string, w: number): Promise<LegacyAttachment | null> => {
      const connector = { initiator: `iqn.1994-05.com.redhat:kill-${id.slice(0, 8)}`, host: `compute-${w}`, ip: `192.0.2.${30 + w}`, platform: 'x86_64', os_type: 'linux', multipath: false };
      connectors.set(id, connector);
      doing.set(w, 'os-reserve');
      const r = await withRetries(() => c.action(id, { 'os-reserve': {} }), POLICY);
      if (r.last.status !== 202) {
        note(id, `os-reserve ${r.last.status}: attach skipped`);
        return null;
      }
      doing.set(w, 'os-initialize_connection');
      const init = await c.action(id, { 'os-initialize_connection': { connector } });
      if (init.status !== 200) {
        note(id, `initialize_connection ${init.status} → terminate_connection + os-unreserve`);
        await undoAttach(id, connector);
        return null;
      }
      doing.set(w, 'os-attach');
      const at = await c.action(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rw' } });
      if (at.status !== 202) {
        note(id, `os-attach ${at.status} → terminate_connection + os-unreserve`);
        await undoAttach(id, connector);
        return null;
      }
      const row = attachedRow(id);
      return row ? { id, attachmentId: row.id, connector } : null;
    };

    /**
     * Bring a volume back to a status its owner can delete from, with the ordinary API only:
     * roll back a detach, detach an in-use volume, unreserve an attaching one, wait out the rest.
     */
    const converge = async (id: string, w: number) => {
      for (let i = 0; i < 8; i++) {
        const s = await waitStatus(id, (x) => !['creating', 'deleting'].includes(x), o.stepTimeoutMs / 2);
        doing.set(w, `converge from ${s}`);
        if (['available', 'error', 'error_deleting', 'deleted', 'gone', 'creating', 'deleting'].includes(s)) return;
        if (s === 'detaching') {
          note(id, 'left detaching → os-roll_detaching');
          await withRetries(() => c.action(id, { 'os-roll_detaching': {} }), POLICY);
        } else if (s === 'attaching' || s === 'reserved') {
          note(id, `left ${s} → os-unreserve`);
          await withRetries(() => c.action(id, { 'os-unreserve': {} }), POLICY);
        } else if (s === 'in-use') {
          const row = attachedRow(id);
          if (!row) return; // audit reports it (attachment row lost)
          note(id, 'left in-use → Nova detach again');
          const conn = connectors.get(id) ?? (row.connector ? JSON.parse(row.connector) : { initiator: 'unknown', host: 'unknown' });
          await novaDetach(c, { id, attachmentId: row.id, connector: conn }, POLICY);
        } else {
          return;
        }
        await sleep(500);
      }
    };

    const destroy = async (id: string, w: number) => {
      for (let attempt = 1; attempt <= 5; attempt++) {
        doing.set(w, 'delete');
        const r = await c.delete(id);
        if (r.status === 404) return;
        if (r.status === 400 && status(id) === 'error_deleting') {
          // As in Cinder a plain delete refuses error_deleting: the operator's os-force_delete.
          note(id, 'error_deleting → os-force_delete (operator)');
          await c.action(id, { 'os-force_delete': {} });
          await waitStatus(id, (x) => x !== 'deleting', o.stepTimeoutMs);
          continue;
        }
        if (r.status !== 202) {
          note(id, `delete ${r.status} → retried`);
          if (retryable(r.status)) await sleep(1000);
          else await converge(id, w);
          continue;
        }
        const s = await waitStatus(id, (x) => x !== 'deleting', o.stepTimeoutMs);
        if (s === 'deleted' || s === 'gone') return;
        if (s === 'deleting') {
          note(id, `still deleting after ${o.stepTimeoutMs / 1000} s`);
          return;
        }
        note(id, `delete ended in ${s} → delete again`);
      }
    };

    const cycle = async (w: number) => {
      doing.set(w, 'create');
      const r = await withRetries(() => c.create(), POLICY);
      if (r.last.status !== 202) return;
      const id: string = r.last.json.volume.id;
      ids.push(id);
      doing.set(w, 'wait for available');
      const s = await waitStatus(id, (x) => x !== 'creating', o.stepTimeoutMs);
      if (s !== 'available') {
        if (s !== 'creating') note(id, `create ended in ${s} → delete`);
        else note(id, `still creating after ${o.stepTimeoutMs / 1000} s`);
        if (s !== 'creating') await destroy(id, w);
        return;
      }
      const att = await attach(id, w);
      if (att) {
        for (let round = 1; round <= 3; round++) {
          doing.set(w, 'Nova detach');
          const outcome = await novaDetach(c, att, POLICY);
          if (outcome === 'detached') break;
          note(id, `detach ${outcome} → user detaches again`);
          await sleep(1000);
        }
      }
      await converge(id, w);
      await destroy(id, w);
    };

    let stopping = false;
    let cycles = 0;
    const worker = async (w: number) => {
      // Bounded in count as well as by the killer finishing.
      for (let n = 0; n < 200 && !stopping; n++) {
        await cycle(w);
        cycles++;
      }
      doing.delete(w);
    };

    const killPoints: string[] = [];
    let restartFailures = 0;
    const killer = async () => {
      for (let k = 1; k <= o.kills; k++) {
        const [lo, hi] = o.killGapMs;
        await sleep(lo + rand() * (hi - lo));
        monitor.expectDown('volume', true);
        killPoints.push(`kill ${k} at ${new Date().toISOString().slice(11, 23)}: ${[...doing.values()].join(', ') || 'idle'}`);
        await cluster.stopVolume('SIGKILL');
        await sleep(rand() * o.maxDownMs);
        for (let attempt = 1; attempt <= 3; attempt++) {
          try {
            await cluster.startVolume();
            break;
          } catch (e) {
            restartFailures++;
            killPoints.push(`restart ${k}.${attempt} failed: ${(e as Error).message.split('\n')[0]}`);
          }
        }
        monitor.expectDown('volume', false);
      }
      stopping = true;
    };
    await Promise.all([killer(), ...Array.from({ length: o.clients }, (_, w) => worker(w))]);

    // Settle: nothing left in a transient status (bounded), then audit every volume of the run.
    await waitAll(ids, (id) => !TRANSIENT_VOLUME_STATUSES.includes(status(id)), o.stepTimeoutMs / 2);
    monitor.stop();

    // The manager's own start-up clean-up (CleanableManager) counts as a recovery too.
    for (const line of cluster.logs.volume) {
      const m = /Cleaning Volume with status (\w+)/.exec(line);
      const v = /"volume_id":"([0-9a-f-]{36})"/.exec(line);
      if (m && v) note(v[1], `manager restart clean-up of ${m[1]}`);
    }
    const perVolume = Object.fromEntries(events);
    const recoveredBy = countBy([...events.values()].flat().map((e) => e.replace(/\b\d{3}\b/, 'NNN').replace(/conn-error|no-answer/, 'NNN')));
    const a = audit(cluster, ids);
    const figures: Omit<KillFigures, 'text'> = {
      kills: o.kills,
      seed: o.seed,
      requests: Object.fromEntries(c.tally.byStatus),
      byCall: c.byOpText(),
      volumes: ids.length,
      cycles,
      audit: a,
      clean: clean(a),
      aliveThroughout: monitor.aliveThroughout,
      aliveAtEnd: alive(cluster),
      deaths: monitor.deaths,
      killPoints,
      recoveredBy,
      perVolume,
      manualRecoveries: 0,
      restartFailures,
    };
    const findingText = clean(a)
      ? ''
      : `\n  ${findings(a).map((id) => `${id} ${status(id)}: ${(events.get(id) ?? []).join('; ') || '(no client-visible failure)'}\n    ${explain(cluster, id)}`).join('\n  ')}`;
    // Only now, after the audit: what an operator would do about a volume the API cannot move
    // (os-reset_status to error, then delete). Reported as manual recoveries, never hidden.
    const manual: string[] = [];
    for (const id of a.stuck) {
      const before = status(id);
      const r = await c.action(id, { 'os-reset_status': { status: 'error' } });
      if (r.status === 202) await destroy(id, -1);
      manual.push(`${id} ${before} → os-reset_status ${r.status} → ${status(id)}`);
    }
    figures.manualRecoveries = manual.length;
    const text = report(`volume-manager SIGKILL ×${o.kills} (seed ${o.seed}, ${o.clients} clients, rpc_response_timeout ${o.rpcTimeout} s)`, {
      requests: c.tally,
      audit: a,
      alive: figures.aliveAtEnd,
      extra: {
        'requests by call': figures.byCall,
        'create/attach/detach/delete cycles': cycles,
        'kill points (client steps in hand)': `\n  ${killPoints.join('\n  ')}`,
        'volumes that needed a recovery': `${events.size} of ${ids.length}`,
        'recovered by (action: times)': `\n  ${Object.entries(recoveredBy).sort(([, x], [, y]) => y - x).map(([k, n]) => `${k}: ${n}`).join('\n  ') || '(nothing needed)'}`,
        'manual recoveries (os-reset_status, after the audit)': manual.length ? `${manual.length}\n  ${manual.join('\n  ')}` : 0,
        'restart failures': restartFailures,
        'volume statuses at end': fmtCounts(a.byStatus),
        ...closingFigures(cluster, { script: 'kill-manager', aliveLabel: 'processes alive throughout (polled every 200 ms; the manager outside its kills)', alive: figures.aliveThroughout, monitor, findingText }),
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
  const figures = run({
    kills: Number(arg('kills', '6')),
    seed: Number(arg('seed', '1')),
    clients: Number(arg('clients', '3')),
    rpcTimeout: Number(arg('rpc-timeout', '5')),
    print: true,
  });
  exitWhen(figures, (f) => f.clean && f.aliveThroughout.api && f.aliveThroughout.volume);
}
