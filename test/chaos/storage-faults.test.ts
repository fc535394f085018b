// Reduced CI form of chaos (d), test/chaos/storage-faults.ts: a few storage-command failures and a
// hang beyond rpc_response_timeout during Nova-style detaches with roll-back, then deletes.
// Acceptance: both services alive throughout, every call answered within rpc_response_timeout
// + 1 s, and after recovery no volume stuck, no attachment row lost or leaked, no ACL or target
// leaked.
import { describe, it, expect } from 'vitest';
import { expectNothingLeft } from './lib/expect-clean.js';
import { run } from './storage-faults.js';

describe('chaos: storage faults (reduced)', () => {
  it('failing and hanging rtstool/lvremove: services alive, calls bounded, nothing stuck or leaked', async () => {
    const rpcTimeout = 3;
    const f = await run({
      seed: 1,
      perFault: 1,
      rpcTimeout,
      hang: 5,
      faults: ['delete-initiator fails twice', 'rtstool delete down', 'delete-initiator hangs', 'lvremove down'],
    });
    console.log(f.text);
    expect(f.aliveThroughout, f.text).toEqual({ api: true, volume: true });
    expect(f.maxMs, f.text).toBeLessThanOrEqual((rpcTimeout + 1) * 1000);
    expectNothingLeft(f.audit, f.text);
    expect(f.slowerThanCaller, f.text).toBeGreaterThanOrEqual(1);
    // The volume-manager reports each call whose command outlived its caller (one per hang at least).
    expect(f.outlivedLogged, f.text).toBeGreaterThanOrEqual(1);
  }, 80_000);
});
