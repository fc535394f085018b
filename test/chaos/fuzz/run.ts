// The run loop: start the cluster and the fixtures, then send `cases` requests one at a time; for
// each rejected one, classify a 5xx and diff the state; after each accepted one, wait for what it
// started. The fixtures are re-made every `refreshEvery` cases, the audit closes the run.
import { Cluster, CinderClient } from '../../support/cluster.js';
import { Tally, alive, audit } from '../lib/audit.js';
import { Causes } from './causes.js';
import { Fixtures, OTHER, PROJECT } from './fixtures.js';
import { Generator } from './generator.js';
import { agent, reproducer, send } from './http.js';
import { result } from './report.js';
import { Rng } from './rng.js';
import { StateReader, diffSnapshots, drained, settle } from './state.js';
import type { FuzzOptions, FuzzResult, StateChange } from './types.js';

export async function run(opts: FuzzOptions = {}): Promise<FuzzResult> {
  const seed = opts.seed ?? 1;
  const cases = opts.cases ?? 1000;
  const refreshEvery = opts.refreshEvery ?? 150;
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const rng = new Rng(seed);
  const cluster = new Cluster({ rpcResponseTimeout: 10 });
  const exits: { api: string | null; volume: string | null } = { api: null, volume: null };
  let reader: StateReader | undefined;
  try {
    await cluster.start();
    for (const which of ['api', 'volume'] as const) {
      cluster[which]!.once('exit', (code, signal) => {
        exits[which] = `code=${code} signal=${signal}`;
      });
    }
    const api = new CinderClient(cluster.baseUrl, PROJECT, 'fuzz');
    const other = new CinderClient(cluster.baseUrl, OTHER, 'other');
    const fx = new Fixtures(cluster, api, other);
    await fx.setUp();
    reader = new StateReader(cluster);
    await drained(reader);
    const gen = new Generator(rng, fx);
    const tally = new Tally();
    const routes: Record<string, number> = {};
    const causes = new Causes();
    const changes: StateChange[] = [];
    let rejected = 0;
    let dbChanged = 0;
    let lioChanged = 0;
    let timeouts = 0;
    const refreshPools = () => {
      gen.ids.pool = reader!.volumeIds();
      gen.ids.attachments = reader!.attachmentIds().filter((x) => !x.deleted || rng.chance(0.2));
    };
    refreshPools();

    for (let i = 0; i < cases; i++) {
      if (exits.api || exits.volume) break;
      if (i > 0 && i % refreshEvery === 0) {
        await fx.refresh();
        await drained(reader);
        refreshPools();
      }
      if (i > 0 && i % 1000 === 0) log(`case ${i}: ${tally.toString()} (${Math.round((Date.now() - t0) / 1000)} s)`);
      const req = gen.next();
      routes[req.route] = (routes[req.route] ?? 0) + 1;
      const before = reader.snapshot();
      const targetState = req.targetId ? reader.volumeStatus(req.targetId)?.status : undefined;
      const logFrom = { api: cluster.logs.api.length, volume: cluster.logs.volume.length };
      const res = await send(cluster.port, req);
      tally.add(res.status);
      if (res.status === 'timeout') timeouts++;
      if (res.status === 'error') causes.clientError(req, res);
      // A timeout is a server failure (599 here); a client-side read error is counted apart.
      const status = res.status === 'timeout' ? 599 : res.status === 'error' ? 0 : res.status;

      if (status >= 400 || status === 0) {
        rejected++;
        if (status >= 500) await causes.fiveXX(cluster, req, res, status, logFrom, targetState);
        const diff = diffSnapshots(before, reader.snapshot());
        if (diff.db.length) dbChanged++;
        if (diff.lio.length) lioChanged++;
        if ((diff.db.length || diff.lio.length) && changes.length < 2000) {
          changes.push({ status: res.status, route: req.route, db: diff.db.slice(0, 8), lio: diff.lio.slice(0, 8), reproducer: reproducer(req) });
        }
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        // Accepted: let the casts it started finish, so the next diff is the next request's own.
        await settle(reader, req, res);
        if (req.route.includes('attachments') || req.route.includes('action') || req.route.includes('volumes')) refreshPools();
      }
    }
    await fx.refresh().catch(() => 0);
    const a = audit(cluster);
    const al = alive(cluster);
    return result({
      seed,
      cases,
      clientErrors: causes.clientErrors(),
      requests: tally,
      fiveXX: causes.fiveXXCauses(),
      rejected,
      rejectedDbChanged: dbChanged,
      rejectedLioChanged: lioChanged,
      stateChanges: changes,
      routes,
      timeouts,
      processExits: exits,
      fixtureRefreshes: fx.refreshes,
      audit: a,
      alive: al,
      elapsedMs: Date.now() - t0,
    });
  } finally {
    reader?.close();
    agent.destroy();
    await cluster.stop();
  }
}
