// The figures of a run and its printed report: a row per route with its answers by column (Q's URL,
// P's URL, no project, P's member), how many showed the other project's ids (beyond Cinder 21.3.1,
// and as Cinder 21.3.1), changed something, or differed from Cinder's answer; then the findings.
import type { Cluster } from '../../support/cluster.js';
import { Tally, alive, clean, report, type AuditResult } from '../lib/audit.js';
import type { Outcome } from './expect.js';

export interface IsolationResult {
  skipped?: string;
  requests: number;
  routes: number;
  crossVisible: number;
  crossChanged: number;
  crossVisibleAsCinder: number;
  /** Cross-project answers where the port is stricter than Cinder on purpose (probe.portAnswer), and gave that answer. */
  stricterThanCinder: number;
  adminNotRefused: number;
  adminChanged: number;
  adminUnrouted: string[];
  adminFiltersLeaking: number;
  adminAttrsShown: number;
  mismatches: number;
  mismatchSamples: string[];
  findings: string[];
  auditClean: boolean;
  text: string;
}

interface RouteRow {
  route: string;
  byColumn: Map<string, Tally>;
  visible: number;
  visibleAsCinder: number;
  changed: number;
  mismatches: number;
  unrouted: boolean;
}

/** What the run measured. */
export interface Measured {
  cluster: Cluster;
  tally: Tally;
  /** Every probe's outcome, of which the cross-project ones, the admin actions and the admin-only query keys. */
  outcomes: Outcome[];
  crossOutcomes: Outcome[];
  adminOutcomes: Outcome[];
  filterOutcomes: Outcome[];
  lateChange: boolean;
  ownListOk: boolean;
  adminAttrsShown: number;
  /** P's volumes before and after the probes. */
  states: string;
  statesAfter: string;
  finalAudit: AuditResult;
}

export function figures(m: Measured): IsolationResult {
  const { cluster, tally, outcomes, crossOutcomes, adminOutcomes, filterOutcomes, lateChange, ownListOk, adminAttrsShown, states, statesAfter, finalAudit } = m;
  const rows = new Map<string, RouteRow>();
  const findings: string[] = [];
  const mismatchSamples: string[] = [];
  for (const o of outcomes) {
    const key = `${o.probe.column === 'P member' ? '[admin] ' : ''}${o.probe.route}`;
    let r = rows.get(key);
    if (!r) {
      r = { route: key, byColumn: new Map(), visible: 0, visibleAsCinder: 0, changed: 0, mismatches: 0, unrouted: false };
      rows.set(key, r);
    }
    if (!r.byColumn.has(o.probe.column)) r.byColumn.set(o.probe.column, new Tally());
    r.byColumn.get(o.probe.column)!.add(o.status);
    if (o.visibleBeyondCinder.length) {
      r.visible++;
      findings.push(`VISIBLE ${o.probe.method} ${o.probe.path} -> ${o.status}: ${o.text}`);
    } else if (o.visible.length) r.visibleAsCinder++;
    if (o.changed) {
      r.changed++;
      findings.push(`CHANGED (${o.diff}) ${o.probe.method} ${o.probe.path} ${JSON.stringify(o.probe.body ?? null)} -> ${o.status}: ${o.text}`);
    }
    if (o.probe.portUnrouted) r.unrouted = true;
    if (!o.matchesCinder && !o.probe.portUnrouted) {
      r.mismatches++;
      if (mismatchSamples.length < 40) {
        mismatchSamples.push(`${o.probe.column}: ${o.probe.method} ${o.probe.path} -> ${o.status} ${o.text} (Cinder: ${o.probe.expect.status} ${o.probe.expect.body ? JSON.stringify(o.probe.expect.body) : ''})`);
      }
    }
  }
  const crossVisible = crossOutcomes.filter((o) => o.visibleBeyondCinder.length).length;
  const crossChanged = crossOutcomes.filter((o) => o.changed).length + (lateChange ? 1 : 0);
  if (lateChange) findings.push('CHANGED after the last request (a cast?)');
  const crossVisibleAsCinder = crossOutcomes.filter((o) => o.visible.length && !o.visibleBeyondCinder.length).length;
  const stricterThanCinder = crossOutcomes.filter((o) => o.probe.portAnswer && o.matchesCinder).length;
  const adminRouted = adminOutcomes.filter((o) => !o.probe.portUnrouted);
  const adminNotRefused = adminRouted.filter((o) => !o.matchesCinder).length;
  const adminChanged = [...adminOutcomes, ...filterOutcomes].filter((o) => o.changed).length;
  const adminUnrouted = [...new Set(adminOutcomes.filter((o) => o.probe.portUnrouted).map((o) => o.probe.route))];
  const adminFiltersLeaking = filterOutcomes.filter((o) => o.status !== 200 || o.visible.length).length + (ownListOk ? 0 : 1);
  const mismatches = outcomes.filter((o) => !o.matchesCinder && !o.probe.portUnrouted).length;
  const unroutedRoutes = [...rows.values()].filter((r) => r.unrouted).map((r) => r.route);

  const cols = ['Q url', 'P url', 'no project', 'P member'];
  const table = [
    `${'route'.padEnd(66)} | ${cols.map((c) => c.padEnd(16)).join(' | ')} | vis | as-Cinder | chg | ≠Cinder`,
    ...[...rows.values()].map(
      (r) =>
        `${(r.route + (r.unrouted ? ' [not routed in port]' : '')).slice(0, 66).padEnd(66)} | ${cols.map((c) => (r.byColumn.get(c)?.toString() ?? '-').padEnd(16)).join(' | ')} | ${String(r.visible).padStart(3)} | ${String(r.visibleAsCinder).padStart(9)} | ${String(r.changed).padStart(3)} | ${String(r.mismatches).padStart(7)}`,
    ),
  ].join('\n');

  const text = [
    report('isolation: keystone, project Q on project P, non-admin on admin actions', {
      requests: tally,
      audit: finalAudit,
      alive: alive(cluster),
      extra: {
        "P's volumes (before)": states,
        "P's volumes (after the probes)": statesAfter,
        'routes tried': rows.size,
        'cross-project requests': crossOutcomes.length,
        'cross-project visible/changed (beyond Cinder 21.3.1)': `${crossVisible}/${crossChanged}`,
        'cross-project visible as in Cinder 21.3.1 (GET attachments/{id}; os-complete 404 names the volume)': crossVisibleAsCinder,
        'cross-project answers stricter than Cinder 21.3.1 (attachment not found instead)': stricterThanCinder,
        'admin actions tried (routed in the port)': `${adminOutcomes.length} (${adminRouted.length})`,
        'admin actions not refused with 403': adminNotRefused,
        'admin actions that changed something': adminChanged,
        'admin actions not routed in the port (Cinder: 403)': adminUnrouted.join(', ') || 'none',
        'admin-only query keys not dropped (own rows only)': adminFiltersLeaking,
        'admin-only attributes shown to a member': adminAttrsShown,
        'answers differing from Cinder 21.3.1 (status/body, routed ones)': mismatches,
        'routes not in the port (Cinder has them)': unroutedRoutes.length,
        'audit clean after P undid its attachments': clean(finalAudit) ? 'yes' : 'NO',
      },
    }),
    '',
    table,
    ...(findings.length ? ['', 'findings:', ...findings.slice(0, 40)] : []),
    ...(mismatchSamples.length ? ['', 'answers differing from Cinder 21.3.1:', ...mismatchSamples] : []),
  ].join('\n');
  return {
    requests: tally.total,
    routes: rows.size,
    crossVisible,
    crossChanged,
    crossVisibleAsCinder,
    stricterThanCinder,
    adminNotRefused,
    adminChanged,
    adminUnrouted,
    adminFiltersLeaking,
    adminAttrsShown,
    mismatches,
    mismatchSamples,
    findings,
    auditClean: clean(finalAudit),
    text,
  };
}
