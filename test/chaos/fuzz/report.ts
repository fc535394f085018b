// The printed report of a run: the shared chaos figures, then every 5xx cause (with its allow-list
// entry or NOT LISTED), the state changes after rejected requests and the client-side read errors,
// each with its reproducer; and the figures derived from the allow-lists.
import { report } from '../lib/audit.js';
import { allowed5xx, allowedChange } from '../fuzz-allow.js';
import type { FuzzResult } from './types.js';

/** What the run loop counted; the rest of a FuzzResult is derived from it here. */
export type Figures = Omit<FuzzResult, 'unlisted5xx' | 'unexplainedChanges' | 'byStatus' | 'processExitCount' | 'report'>;

export function result(f: Figures): FuzzResult {
  const { seed, cases, requests: tally, fiveXX, stateChanges: changes, clientErrors, processExits: exits } = f;
  const byStatus = Object.fromEntries(tally.byStatus);
  const processExitCount = (exits.api ? 1 : 0) + (exits.volume ? 1 : 0);
  const unlisted5xx = fiveXX.filter((c) => !allowed5xx(c));
  const unexplainedChanges = changes.filter((c) => !allowedChange(c));
  const changeKinds = new Map<string, number>();
  for (const c of changes) {
    const id = allowedChange(c)?.id ?? 'UNEXPLAINED';
    changeKinds.set(id, (changeKinds.get(id) ?? 0) + 1);
  }
  const extra: Record<string, string | number> = {
    seed,
    cases,
    'elapsed s': (f.elapsedMs / 1000).toFixed(1),
    'routes hit': Object.keys(f.routes).length,
    '5xx': tally.count((s) => s.startsWith('5')),
    '5xx causes': `${fiveXX.length} (Cinder answers 500 too: ${fiveXX.length - unlisted5xx.length}, not listed: ${unlisted5xx.length})`,
    'rejected requests (4xx/5xx)': f.rejected,
    'rejected requests that changed the DB': f.rejectedDbChanged,
    'rejected requests that changed the stand-in LIO/LVM state': f.rejectedLioChanged,
    'state changes after rejected requests by kind': [...changeKinds].map(([k, n]) => `${k}=${n}`).join(' ') || '(none)',
    'state changes after rejected requests not explained by Cinder': unexplainedChanges.length,
    'client timeouts': f.timeouts,
    'client-side read errors': clientErrors.reduce((a, c) => a + c.count, 0),
    'process exits': `${processExitCount}${processExitCount ? ` api=${exits.api} volume=${exits.volume}` : ''}`,
    'fixture volumes re-made': f.fixtureRefreshes,
  };
  const lines = [report(`fuzz seed ${seed}`, { requests: tally, audit: f.audit, alive: f.alive, extra })];
  for (const c of fiveXX) {
    lines.push(
      `-- 5xx x${c.count} → ${c.status} [${allowed5xx(c)?.id ?? 'NOT LISTED'}], routes: ${Object.entries(c.routes).map(([k, n]) => `${k} (${n})`).join('; ').slice(0, 600)}`,
      `   fault: ${c.fault}`,
      `   api log: ${c.apiLog || '(none)'}`,
      ...(c.managerLog ? [`   manager log: ${c.managerLog}`] : []),
      `   first: ${c.route}, target ${c.target}`,
      `   repro: ${c.reproducer.slice(0, 1500)}`,
    );
  }
  const shown = [...unexplainedChanges, ...changes.filter((c) => allowedChange(c))].slice(0, 12);
  for (const c of shown) {
    lines.push(`-- state change after ${c.status} [${allowedChange(c)?.id ?? 'UNEXPLAINED'}]: ${c.route}`, ...c.db.map((d) => `   db: ${d}`), ...c.lio.map((d) => `   lio: ${d}`), `   repro: ${c.reproducer.slice(0, 1500)}`);
  }
  for (const e of clientErrors) lines.push(`-- client-side read error x${e.count}: ${e.error}`, `   repro: ${e.reproducer.slice(0, 1500)}`);
  return { ...f, unlisted5xx, unexplainedChanges, byStatus, processExitCount, report: lines.join('\n') };
}
