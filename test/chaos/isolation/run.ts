// The run: a Keystone (unless the caller brings one), the cluster under auth_strategy = keystone,
// P's volumes, then (1) Q's member through the catalogue on P's volumes and attachments and (2) P's
// member through the admin actions, each answer checked; then P undoes its attachments, the audit.
import { Cluster } from '../../support/cluster.js';
import { NO_RETRIES, authtokenSection, keystoneSkipReason, startKeystone as startSharedKeystone, stopKeystone, type KeystoneInfo } from '../../support/keystone.js';
import { audit } from '../lib/audit.js';
import { adminProbes, attachmentProbes, crossResourceProbes, filterProbes, listProbes, prefixes, volumeProbes, volumeVariants } from './catalogue.js';
import { Checker } from './checks.js';
import type { Outcome } from './expect.js';
import { figures, type IsolationResult } from './report.js';
import { setUp, undo } from './setup.js';

export interface IsolationOptions {
  /** Fewer variants (one version per attachments route, fewer list queries): the CI form. */
  quick?: boolean;
  /** A Keystone started by the caller (left running); otherwise one is started and stopped here. */
  keystone?: KeystoneInfo;
  log?: (line: string) => void;
}

/** This script's Keystone (test/support/keystone.ts), in a temporary directory of its own. */
export const startKeystone = () => startSharedKeystone({ tmpPrefix: 'cinder-ts-isolation-ks-' });

export async function run(opts: IsolationOptions = {}): Promise<IsolationResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  let ks = opts.keystone;
  let ownKeystone = false;
  if (!ks) {
    const skip = keystoneSkipReason();
    if (skip) {
      log(`isolation: skipped: ${skip}`);
      return { skipped: skip } as IsolationResult;
    }
    const t0 = Date.now();
    ks = await startKeystone();
    ownKeystone = true;
    log(`keystone started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const cluster = new Cluster({ extraDefault: { auth_strategy: 'keystone' }, extraConfig: authtokenSection(ks, { lines: [NO_RETRIES] }), rpcResponseTimeout: 20 });
  try {
    const t1 = Date.now();
    await cluster.start();
    log(`cluster started in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    return await exercise(cluster, ks, !!opts.quick, log);
  } finally {
    await cluster.stop();
    if (ownKeystone) stopKeystone(ks);
  }
}

async function exercise(cluster: Cluster, ks: KeystoneInfo, quick: boolean, log: (l: string) => void): Promise<IsolationResult> {
  const s = await setUp(cluster, ks, log);
  const states = s.states();
  const check = new Checker(s);

  // ---- (1) Q's member on P's volumes and attachments ----
  const t3 = Date.now();
  for (const [column, pre] of prefixes(s)) {
    for (const v of volumeVariants(s, quick)) {
      for (const p of volumeProbes(s, column, pre, v)) {
        const o = await check.send(p, s.tokQ, s.pIds);
        // The port answers "no such action" where Cinder has the action: not routed here.
        if (o.text.includes('There is no such action')) p.portUnrouted = true;
      }
    }
    for (const p of [...attachmentProbes(s, column, pre, quick), ...crossResourceProbes(s, column, pre, quick), ...listProbes(s, column, pre, quick)]) {
      await check.send(p, s.tokQ, s.pIds);
    }
  }
  const crossOutcomes = [...check.outcomes];
  log(`cross-project: ${crossOutcomes.length} requests in ${((Date.now() - t3) / 1000).toFixed(1)} s`);

  // ---- (2) P's member (not an admin) on P's own volumes: every admin action ----
  const t4 = Date.now();
  const adminOutcomes: Outcome[] = [];
  for (const p of adminProbes(s, quick)) {
    const o = await check.send(p, s.tokP, s.qIds);
    if (o.text.includes('There is no such action')) {
      p.portUnrouted = true;
      o.matchesCinder = false;
    }
    adminOutcomes.push(o);
  }
  const filterOutcomes: Outcome[] = [];
  for (const p of filterProbes(s)) filterOutcomes.push(await check.send(p, s.tokP, s.qIds));
  // Admin-only attributes in P's own views; P's own lists carry P's rows.
  const adminAttrsShown = await check.adminAttrsShown();
  const ownListOk = await check.ownListOk();
  log(`admin actions: ${adminOutcomes.length + filterOutcomes.length} requests in ${((Date.now() - t4) / 1000).toFixed(1)} s`);

  // ---- nothing changed later either (casts) ----
  const lateChange = await check.lateChange();

  // ---- P undoes its attachments, so the audit can be clean ----
  const statesAfter = s.states();
  await undo(s);
  const finalAudit = audit(cluster, [...Object.values(s.ids), s.vQ]);

  const r = figures({ cluster, tally: check.tally, outcomes: check.outcomes, crossOutcomes, adminOutcomes, filterOutcomes, lateChange, ownListOk, adminAttrsShown, states, statesAfter, finalAudit });
  log(r.text);
  return r;
}
