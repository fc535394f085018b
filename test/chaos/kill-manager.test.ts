// Reduced CI form of chaos (b), test/chaos/kill-manager.ts: the volume-manager SIGKILLed twice
// (seeded) during creates/attaches/detaches/deletes and restarted. Acceptance: the API alive
// throughout and the manager whenever it was not being killed, and after recovery (ordinary API
// calls only, no os-reset_status) no volume stuck, no attachment row lost or leaked, no ACL or
// target leaked.
import { describe, it, expect } from 'vitest';
import { expectNothingLeft } from './lib/expect-clean.js';
import { run } from './kill-manager.js';

describe('chaos: volume-manager SIGKILL (reduced)', () => {
  it('2 kills: services alive, nothing stuck or leaked, no manual recovery', async () => {
    const f = await run({ kills: 2, seed: 1, clients: 2, killGapMs: [1500, 3500], maxDownMs: 1000, stepTimeoutMs: 15_000 });
    console.log(f.text);
    expect(f.aliveThroughout, f.text).toEqual({ api: true, volume: true });
    expect(f.restartFailures, f.text).toBe(0);
    expectNothingLeft(f.audit, f.text);
    expect(f.manualRecoveries, f.text).toBe(0);
  }, 85_000);
});
