// Chaos (a): RabbitMQ goes away for 5, 30 or 90 s while Nova detaches volumes.
//
// Both services reach the broker through a loopback TCP proxy (lib/proxy.ts); the outage closes
// its listener and destroys every live socket, then reopens it. N volumes are attached first (the
// legacy way), then several Nova-like clients run the three-call detach (begin_detaching,
// terminate_connection, detach) on volumes released over a schedule that spans before, during and
// after the outage. A terminate/detach that keeps failing is retried with back-off and then rolled
// back (os-roll_detaching); once the broker is back, rolled-back volumes are detached again (the
// user asks again), until every volume is `available` or back `in-use`.
//
//   npx tsx test/chaos/broker-outage.ts [--outage 5,30,90] [--volumes 16] [--clients 4] [--rpc-timeout 10]
import { randomUUID } from 'node:crypto';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { transportUrl } from '../support/rabbit.js';
import { alive, arg, audit, clean, report, type AuditResult } from './lib/audit.js';
import { ChaosClient, LivenessMonitor, NO_ANSWER, CONN_ERROR, PROJECT, countBy, detachOnSchedule, fmtCounts, errorsText, exitWhen, isMain, loggedErrors, pct, saveLogs, waitAll, type LegacyAttachment } from './lib/nova.js';
import { TcpProxy } from './lib/proxy.js';

export interface OutageOptions {
  /** Outage lengths in seconds; each runs on a fresh cluster. */
  outages: number[];
  volumes: number;
  clients: number;
  /** rpc_response_timeout (s). */
  rpcTimeout: number;
  /** Print each report block as it is ready. */
  print?: boolean;
}

export interface OutageFigures {
  outageS: number;
  requests: Record<string, number>;
  byCall: string;
  maxMs: number;
  p99Ms: number;
  /** Calls slower than rpc_response_timeout + 1 s, or never answered. */
  late: number;
  allAnsweredInTime: boolean;
  outcomes: Record<string, number>;
  audit: AuditResult;
  stuckAfterRecovery: number;
  clean: boolean;
  aliveThroughout: { api: boolean; volume: boolean };
  aliveAtEnd: { api: boolean; volume: boolean };
  deaths: string[];
  /** The API's first RPC call, made while the broker was away: status and ms. */
  firstCall: { status: number | string; ms: number };
  /** Seconds from the proxy reopening until the first detach completed again. */
  recoveryS: number | null;
  text: string;
}

// Nova retries terminate/detach 5 times in all; here with a back-off, so that the retries of a
// 30 or 90 s outage do not all fall inside it (the brief's "retry with back-off a few times").
const POLICY = { attempts: 4, backoffMs: [1000, 2000, 4000] };
/** A user asks again at most this many times per volume after a roll-back. */
const MAX_ROUNDS = 4;

export async function run(opts: Partial<OutageOptions> = {}): Promise<OutageFigures[]> {
  const o: OutageOptions = { outages: [5, 30, 90], volumes: 16, clients: 4, rpcTimeout: 10, print: false, ...opts };
  const out: OutageFigures[] = [];
  for (const outageS of o.outages) {
    const f = await runOne(outageS, o);
    if (o.print) console.log(`${f.text}\n`);
    out.push(f);
  }
  return out;
}

async function runOne(outageS: number, o: OutageOptions): Promise<OutageFigures> {
  const proxy = new TcpProxy();
  await proxy.start();
  // The vhost is only known once the Cluster exists; its config is written at start().
  const extraDefault: Record<string, string> = {};
  const cluster = new Cluster({ rpcResponseTimeout: o.rpcTimeout, extraDefault });
  extraDefault.transport_url = transportUrl(cluster.vhost).replace('@127.0.0.1:5672/', `@127.0.0.1:${proxy.port}/`);
  const monitor = new LivenessMonitor(cluster);
  try {
    await cluster.start();
    monitor.start();
    const setupApi = new CinderClient(cluster.baseUrl, PROJECT, 'nova', { 'X-Service-Roles': 'service' });
    // A client gives up on a call after 3 × rpc_response_timeout + 5 s: far beyond what the API
    // should ever take, so a hang shows as `no-answer` instead of hanging the script.
    const c = new ChaosClient(cluster.baseUrl, (3 * o.rpcTimeout + 5) * 1000);

    // First-call probe: the API's very first RPC call (its reply queue not declared yet) made
    // while the broker is away must still be answered within rpc_response_timeout.
    const probeId = await cluster.newVolume(setupApi);
    await setupApi.action(probeId, { 'os-reserve': null });
    const connectedBefore = connectedLines(cluster);
    await proxy.stop();
    const probe = await c.action(probeId, { 'os-initialize_connection': { connector: { initiator: 'iqn.1994-05.com.redhat:probe', host: 'probe' } } });
    await proxy.start();
    await waitAll(['api', 'volume'], (w) => connectedLines(cluster)[w as 'api' | 'volume'] > connectedBefore[w as 'api' | 'volume'], 60_000);
    await setupApi.action(probeId, { 'os-unreserve': null });

    const vols: LegacyAttachment[] = [];
    for (let i = 0; i < o.volumes; i++) {
      const connector = { initiator: `iqn.1994-05.com.redhat:outage-${i}`, host: `compute-${i % 3}`, ip: `192.0.2.${20 + i}`, platform: 'x86_64', os_type: 'linux', multipath: false };
      const a = await cluster.attachedVolume(setupApi, connector, randomUUID());
      vols.push({ ...a, connector });
    }
    const ids = [probeId, ...vols.map((v) => v.id)];

    const t0 = Date.now();
    const outageAt = 2000;
    const outageEnd = outageAt + outageS * 1000;
    const span = outageEnd + 3000;
    // Volume i is released at i·span/N: some before, most during, some after the outage.
    const schedule = vols.map((v, i) => ({ v, at: Math.round((i * span) / vols.length) }));
    let brokerBackAt: number | null = null;
    const deadline = t0 + outageEnd + 240_000;

    // One terminate_connection is slow, so that a call is in the manager's hands when the broker
    // goes: its reply is lost, the API must time out, and Nova's retry must converge.
    const slow = { leadMs: 1000, run: () => cluster.injectFailure('once hang=3 cinder-rtstool delete-initiator') };
    const chaos = proxy.outage(t0, outageAt, outageEnd, slow).then((t) => {
      brokerBackAt = t;
    });
    // Rolled back (or refused): the user asks again a little after the broker is back.
    const [, detaches] = await Promise.all([
      chaos,
      detachOnSchedule(c, schedule, { clients: o.clients, t0, deadline, policy: POLICY, maxRounds: MAX_ROUNDS, retryAfterMs: outageEnd, recoveredAt: () => brokerBackAt }),
    ]);
    const { outcomes, firstAfterRecovery } = detaches;

    // Recovery: every volume must settle in `available` or `in-use` (bounded).
    const settled = (id: string) => ['available', 'in-use'].includes(cluster.volumeRow(id)?.status);
    await waitAll(ids, settled, 60_000);
    monitor.stop();

    const a = audit(cluster, ids);
    const latencies = c.calls.map((x) => x.ms);
    const boundMs = (o.rpcTimeout + 1) * 1000;
    const late = c.calls.filter((x) => x.ms > boundMs || x.status === NO_ANSWER || x.status === CONN_ERROR).length;
    const requests = Object.fromEntries(c.tally.byStatus);
    const figures: Omit<OutageFigures, 'text'> = {
      outageS,
      requests,
      byCall: c.byOpText(),
      maxMs: Math.max(0, ...latencies),
      p99Ms: pct(latencies, 99),
      late,
      allAnsweredInTime: late === 0,
      outcomes: countBy(outcomes),
      audit: a,
      stuckAfterRecovery: a.stuck.length,
      clean: clean(a),
      aliveThroughout: monitor.aliveThroughout,
      aliveAtEnd: alive(cluster),
      deaths: monitor.deaths,
      firstCall: { status: probe.status, ms: probe.ms },
      recoveryS: firstAfterRecovery !== null && brokerBackAt !== null ? (firstAfterRecovery - brokerBackAt) / 1000 : null,
    };
    const text = report(`broker outage ${outageS} s (${o.volumes} volumes, ${o.clients} clients, rpc_response_timeout ${o.rpcTimeout} s)`, {
      requests: c.tally,
      audit: a,
      alive: figures.aliveAtEnd,
      extra: {
        'requests by call': figures.byCall,
        "first RPC call of the API made while the broker is away (probe)": `${probe.status} in ${probe.ms.toFixed(0)} ms`,
        'latency max / p99 (ms)': `${figures.maxMs.toFixed(0)} / ${figures.p99Ms.toFixed(0)}`,
        [`every call answered within rpc_response_timeout + 1 s (${boundMs} ms)`]: figures.allAnsweredInTime ? 'yes' : `NO (${late} calls late or unanswered)`,
        'detach outcomes (per attempt)': fmtCounts(figures.outcomes),
        'volumes stuck after recovery': figures.stuckAfterRecovery,
        'first detach after the broker came back (s)': figures.recoveryS === null ? 'n/a' : figures.recoveryS.toFixed(1),
        'processes alive throughout (polled every 200 ms)': `api=${figures.aliveThroughout.api ? 'yes' : 'NO'} volume=${figures.aliveThroughout.volume ? 'yes' : 'NO'} (${monitor.samples} samples)`,
        'errors logged by the services (level ≥ 50)': errorsText(loggedErrors(cluster)),
        ...(monitor.deaths.length ? { deaths: monitor.deaths.join('\n  ') } : {}),
        ...(!clean(a) || monitor.deaths.length ? { 'logs kept at': saveLogs(cluster, `broker-outage-${outageS}s`) } : {}),
      },
    });
    return { ...figures, text };
  } finally {
    monitor.stop();
    await cluster.stop();
    await proxy.stop();
  }
}

/** How many times each service has logged a (re)connection to the broker. */
function connectedLines(cluster: Cluster): { api: number; volume: number } {
  const n = (lines: string[]) => lines.filter((l) => l.includes('connected to AMQP server')).length;
  return { api: n(cluster.logs.api), volume: n(cluster.logs.volume) };
}

if (isMain(import.meta.url)) {
  const outages = arg('outage', '5,30,90').split(',').map(Number);
  const figures = run({
    outages,
    volumes: Number(arg('volumes', '16')),
    clients: Number(arg('clients', '4')),
    rpcTimeout: Number(arg('rpc-timeout', '10')),
    print: true,
  });
  exitWhen(figures, (fs) => fs.every((f) => f.clean && f.allAnsweredInTime && f.aliveThroughout.api && f.aliveThroughout.volume));
}
