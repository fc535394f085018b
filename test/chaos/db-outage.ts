// Chaos (g): MariaDB goes away for 10 or 40 s while Nova detaches volumes and a user lists them.
//
// The services reach MariaDB through a unix-socket proxy (lib/proxy.ts); the outage closes it (the
// socket file is gone, as when mariadbd stops) and destroys every live connection, then reopens it.
// N volumes are attached first (the legacy way), then several Nova-like clients run the three-call
// detach on volumes released before, during and after the outage (one target removal is slowed so
// that a detach is half-way in the manager when the database goes) (a terminate/detach that keeps
// failing is retried with back-off, then rolled back and asked again after the outage), while a
// reader lists the volumes every 500 ms. Requirements: both services alive throughout, every call
// answered (a 500 carries Cinder's fault body) within the db layer's retry budget (wrap_db_retry:
// 1+2+4+8+10 s) plus rpc_response_timeout, one "model server went away" and one "Recovered model
// server connection!" per service (cinder/service.py report_state), and afterwards no volume stuck,
// no attachment row lost or leaked, no ACL or target leaked. MariaDB only: SQLite has no server to
// lose (its lock waits are test/process/db-lock.test.ts).
//
//   CINDER_TS_DB_ENGINE=mysql npx tsx test/chaos/db-outage.ts [--outage 10,40] [--volumes 12] [--clients 3] [--rpc-timeout 10]
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { mariadbSocket } from '../support/mariadb.js';
import { alive, arg, audit, clean, report, type AuditResult } from './lib/audit.js';
import { ChaosClient, LivenessMonitor, NO_ANSWER, CONN_ERROR, PROJECT, countBy, detachOnSchedule, fmtCounts, errorsText, exitWhen, isMain, loggedErrors, pct, saveLogs, waitAll, type Answer, type LegacyAttachment } from './lib/nova.js';
import { TcpProxy } from './lib/proxy.js';

export interface DbOutageOptions {
  outageS: number;
  volumes: number;
  clients: number;
  /** rpc_response_timeout (s). */
  rpcTimeout: number;
}

export interface DbOutageFigures {
  outageS: number;
  boundMs: number;
  maxMs: number;
  /** Calls slower than boundMs or never answered. */
  late: number;
  /** 5xx answers whose body is not Cinder's fault body. */
  unclean: string[];
  /** The reader's answers during the outage, by status. */
  readsDuringOutage: Record<string, number>;
  /** report_state lines per service: went away / recovered. */
  reportLines: Record<'volume' | 'scheduler', { wentAway: number; recovered: number }>;
  audit: AuditResult;
  clean: boolean;
  aliveThroughout: { api: boolean; volume: boolean };
  text: string;
}

const POLICY = { attempts: 4, backoffMs: [1000, 2000, 4000] };
const MAX_ROUNDS = 4;
/** The db layer's wrap_db_retry budget on a lost connection (src/db/client-mysql.ts): 1+2+4+8+10 s. */
const RETRY_BUDGET_MS = 25_000;
const FAULT_500 = 'The server has either erred or is incapable of performing the requested operation.';

export async function run(opts: Partial<DbOutageOptions> = {}): Promise<DbOutageFigures> {
  const o: DbOutageOptions = { outageS: 10, volumes: 12, clients: 3, rpcTimeout: 10, ...opts };
  const sock = path.join(os.tmpdir(), `cinder-ts-dbproxy-${randomBytes(4).toString('hex')}.sock`);
  const proxy = new TcpProxy({ path: mariadbSocket() }, sock);
  await proxy.start();
  const cluster = new Cluster({ rpcResponseTimeout: o.rpcTimeout, extraDefault: { report_interval: '2' }, dbConnection: (c) => c.replace(/unix_socket=[^&]*/, `unix_socket=${sock}`) });
  const monitor = new LivenessMonitor(cluster);
  try {
    await cluster.start();
    monitor.start();
    const setupApi = new CinderClient(cluster.baseUrl, PROJECT, 'nova', { 'X-Service-Roles': 'service' });
    const boundMs = RETRY_BUDGET_MS + (o.rpcTimeout + 2) * 1000;
    const c = new ChaosClient(cluster.baseUrl, 2 * boundMs);
    const vols: LegacyAttachment[] = [];
    for (let i = 0; i < o.volumes; i++) {
      const connector = { initiator: `iqn.1994-05.com.redhat:dbout-${i}`, host: `compute-${i % 3}`, ip: `192.0.2.${40 + i}`, platform: 'x86_64', os_type: 'linux', multipath: false };
      const a = await cluster.attachedVolume(setupApi, connector, randomUUID());
      vols.push({ ...a, connector });
    }
    const ids = vols.map((v) => v.id);

    const t0 = Date.now();
    const outageAt = 2000;
    const outageEnd = outageAt + o.outageS * 1000;
    const span = outageEnd + 3000;
    const schedule = vols.map((v, i) => ({ v, at: Math.round((i * span) / vols.length) }));
    let backAt: number | null = null;
    // One target removal is slow, so that an os-detach is in the manager's hands, past its storage
    // commands, when the database goes: its DB writes must wait, or fail recoverably.
    const slow = { leadMs: 1500, run: () => cluster.injectFailure('once hang=3 cinder-rtstool delete') };
    const chaos = proxy.outage(t0, outageAt, outageEnd, slow).then((t) => {
      backAt = t;
    });
    // The reader: a volume list every 500 ms from before the outage until 3 s after it.
    const reads: { at: number; a: Answer }[] = [];
    const reader = (async () => {
      while (Date.now() < t0 + outageEnd + 3000) {
        const at = Date.now() - t0;
        reads.push({ at, a: await c.request('list', 'GET', `/v3/${PROJECT}/volumes/detail`) });
        await sleep(500);
      }
    })();
    const [, , detaches] = await Promise.all([
      chaos,
      reader,
      detachOnSchedule(c, schedule, { clients: o.clients, t0, deadline: t0 + outageEnd + 240_000, policy: POLICY, maxRounds: MAX_ROUNDS, retryAfterMs: outageEnd, recoveredAt: () => backAt }),
    ]);

    // Recovery: every volume settles in `available` or `in-use`, and a report has come through.
    await waitAll(ids, (id) => ['available', 'in-use'].includes(cluster.volumeRow(id)?.status), 60_000);
    await waitAll(['volume', 'scheduler'], (w) => lines(cluster, w as 'volume' | 'scheduler').recovered > 0, 15_000);
    monitor.stop();

    const a = audit(cluster, ids);
    const late = c.calls.filter((x) => x.ms > boundMs || x.status === NO_ANSWER || x.status === CONN_ERROR).length;
    const unclean = reads.filter(({ a: r }) => typeof r.status === 'number' && r.status >= 500 && r.json?.computeFault?.message !== FAULT_500).map(({ a: r }) => `${r.status} ${r.text.slice(0, 120)}`);
    const during = reads.filter((r) => r.at >= outageAt && r.at < outageEnd).map((r) => String(r.a.status));
    const figures: Omit<DbOutageFigures, 'text'> = {
      outageS: o.outageS,
      boundMs,
      maxMs: Math.max(0, ...c.calls.map((x) => x.ms)),
      late,
      unclean,
      readsDuringOutage: countBy(during),
      reportLines: { volume: lines(cluster, 'volume'), scheduler: lines(cluster, 'scheduler') },
      audit: a,
      clean: clean(a),
      aliveThroughout: monitor.aliveThroughout,
    };
    const text = report(`database outage ${o.outageS} s (${o.volumes} volumes, ${o.clients} clients, rpc_response_timeout ${o.rpcTimeout} s)`, {
      requests: c.tally,
      audit: a,
      alive: alive(cluster),
      extra: {
        'requests by call': c.byOpText(),
        'volume lists during the outage': fmtCounts(figures.readsDuringOutage),
        'latency max / p99 (ms)': `${figures.maxMs.toFixed(0)} / ${pct(c.calls.map((x) => x.ms), 99).toFixed(0)}`,
        [`every call answered within the retry budget + rpc_response_timeout + 2 s (${boundMs} ms)`]: late === 0 ? 'yes' : `NO (${late} calls late or unanswered)`,
        '5xx without Cinder\'s fault body': unclean.length ? unclean.join('; ') : 0,
        'detach outcomes (per attempt)': fmtCounts(countBy(detaches.outcomes)),
        'first detach after the database came back (s)': detaches.firstAfterRecovery !== null && backAt !== null ? ((detaches.firstAfterRecovery - backAt) / 1000).toFixed(1) : 'n/a',
        'report_state lines (went away / recovered)': `volume ${figures.reportLines.volume.wentAway}/${figures.reportLines.volume.recovered}, scheduler ${figures.reportLines.scheduler.wentAway}/${figures.reportLines.scheduler.recovered}`,
        'processes alive throughout (polled every 200 ms)': `api=${figures.aliveThroughout.api ? 'yes' : 'NO'} volume=${figures.aliveThroughout.volume ? 'yes' : 'NO'} (${monitor.samples} samples)`,
        'errors logged by the services (level ≥ 50)': errorsText(loggedErrors(cluster)),
        ...(monitor.deaths.length ? { deaths: monitor.deaths.join('\n  ') } : {}),
        ...(!clean(a) || monitor.deaths.length ? { 'logs kept at': saveLogs(cluster, `db-outage-${o.outageS}s`) } : {}),
      },
    });
    return { ...figures, text };
  } finally {
    monitor.stop();
    await cluster.stop();
    await proxy.stop();
  }
}

function lines(cluster: Cluster, w: 'volume' | 'scheduler'): { wentAway: number; recovered: number } {
  const l = cluster.logs[w];
  return { wentAway: l.filter((x) => x.includes('model server went away')).length, recovered: l.filter((x) => x.includes('Recovered model server connection!')).length };
}

if (isMain(import.meta.url)) {
  process.env.CINDER_TS_DB_ENGINE = 'mysql';
  const outages = arg('outage', '10,40').split(',').map(Number);
  const figures = (async () => {
    const out: DbOutageFigures[] = [];
    for (const outageS of outages) {
      const f = await run({ outageS, volumes: Number(arg('volumes', '12')), clients: Number(arg('clients', '3')), rpcTimeout: Number(arg('rpc-timeout', '10')) });
      console.log(`${f.text}\n`);
      out.push(f);
    }
    return out;
  })();
  exitWhen(figures, (fs) => fs.every((f) => f.clean && f.late === 0 && f.unclean.length === 0 && f.aliveThroughout.api && f.aliveThroughout.volume));
}
