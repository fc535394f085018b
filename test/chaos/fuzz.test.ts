// The reduced CI form of the API fuzzer (test/chaos/fuzz.ts): ~1,500 seeded requests over every
// route and action against the real API and volume-manager processes. No process may exit, no
// rejected request may change the DB or the stand-in's LIO/LVM state unless Cinder 21.3.1 does the
// same (ALLOWED_STATE_CHANGES), and every 5xx must be one Cinder answers 500 for too (ALLOWED_5XX;
// both lists in fuzz-allow.ts, each entry citing the Cinder file and function).
import { describe, expect, it } from 'vitest';
import { ALLOWED_5XX, ALLOWED_STATE_CHANGES } from './fuzz-allow.js';
import { run } from './fuzz.js';

describe('API fuzzer (seeded, reduced)', () => {
  it('1,500 cases: no process exit, no unexplained state change after a rejected request, only Cinder-matching 5xx', async () => {
    const r = await run({ seed: Number(process.env.CINDER_TS_FUZZ_SEED ?? 8), cases: 1500 });
    // Printed so a CI log shows the figures (and the reproducers of anything that fails below).
    console.log(r.report);
    expect(r.requests.total).toBe(1500);
    expect(r.processExitCount, JSON.stringify(r.processExits)).toBe(0);
    expect(r.alive).toEqual({ api: true, volume: true });
    expect(r.timeouts).toBe(0);
    expect(
      r.unexplainedChanges.map((c) => `${c.status} ${c.route}: ${[...c.db, ...c.lio].join('; ')} — ${c.reproducer}`),
    ).toEqual([]);
    expect(r.unlisted5xx.map((c) => `${c.key} — ${c.reproducer}`)).toEqual([]);
    // The lists stay explicit: every entry names its Cinder source.
    for (const a of [...ALLOWED_5XX, ...ALLOWED_STATE_CHANGES]) expect(a.cinder).toMatch(/\.py /);
    // Coverage: the run reached every kind of route.
    const routes = Object.keys(r.routes).join('\n');
    for (const re of [
      /^POST \/v3\/\{p\}\/volumes\/\{id\}\/action os-(reserve|attach|detach|force_detach|reset_status|initialize_connection|terminate_connection)/m,
      /^GET \/v3\/\{p\}\/volumes\/detail$/m,
      /^POST \/v3\/\{p\}\/volumes$/m,
      /^DELETE \/v3\/\{p\}\/volumes\/\{id\}$/m,
      /^(GET|POST|PUT|DELETE) \/v3\/\{p\}\/attachments/m,
      /^POST \/v3\/\{p\}\/attachments\/\{id\}\/action os-complete$/m,
    ]) {
      expect(routes).toMatch(re);
    }
  }, 170_000);
});
