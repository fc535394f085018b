// Reduced CI form of chaos (g), test/chaos/db-outage.ts: a 30 s MariaDB outage during Nova-style
// detaches and volume lists, longer than the db layer's 25 s of retries, so that requests fail
// with a 500 and Nova's retries and roll-backs have to converge afterwards. Acceptance: both services alive
// throughout, every call answered within the retry budget + rpc_response_timeout, every 5xx with
// Cinder's fault body, report_state's two lines per service, and after recovery nothing stuck or
// leaked. Runs in the MariaDB tier; SQLite has no database server to lose.
import { describe, it, expect } from 'vitest';
import { dbEngine } from '../support/mariadb.js';
import { expectNothingLeft } from './lib/expect-clean.js';
import { run } from './db-outage.js';

describe.skipIf(dbEngine() !== 'mysql')('chaos: database outage (reduced)', () => {
  it('a 30 s outage: every call answered in time and cleanly, services alive, nothing stuck or leaked', async () => {
    const f = await run({ outageS: 30, volumes: 6, clients: 3, rpcTimeout: 10 });
    console.log(f.text);
    expect(f.aliveThroughout, f.text).toEqual({ api: true, volume: true });
    expect(f.late, f.text).toBe(0);
    expect(f.unclean, f.text).toEqual([]);
    expect(f.reportLines, f.text).toEqual({ volume: { wentAway: 1, recovered: 1 }, scheduler: { wentAway: 1, recovered: 1 } });
    expectNothingLeft(f.audit, f.text);
  }, 240_000);
});
