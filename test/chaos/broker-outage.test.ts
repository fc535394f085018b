// Reduced CI form of chaos (a), test/chaos/broker-outage.ts: a 5 s broker outage during Nova-style
// detaches. Acceptance: both services alive throughout, every call answered within
// rpc_response_timeout + 1 s, and after recovery no volume stuck, no attachment row lost or
// leaked, no ACL or target leaked.
import { describe, it, expect } from 'vitest';
import { expectNothingLeft } from './lib/expect-clean.js';
import { run } from './broker-outage.js';

describe('chaos: broker outage (reduced)', () => {
  it('a 5 s outage: every call answered in time, services alive, nothing stuck or leaked', async () => {
    const [f] = await run({ outages: [5], volumes: 6, clients: 3, rpcTimeout: 10 });
    console.log(f.text);
    expect(f.aliveThroughout, f.text).toEqual({ api: true, volume: true });
    expect(f.allAnsweredInTime, f.text).toBe(true);
    expectNothingLeft(f.audit, f.text);
  }, 80_000);
});
