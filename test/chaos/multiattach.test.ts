// Reduced CI form of test/chaos/multiattach.ts (issue 8, acceptance 2): concurrent deletes of a
// multiattach volume's attachments leave exactly the ACLs and targets the remaining attachments
// need. The full-size run (≥ 50 tries) is `npx tsx test/chaos/multiattach.ts --tries 60`.
import { describe, expect, it } from 'vitest';
import { print, run } from './multiattach.js';

describe('chaos: concurrent multiattach detaches (reduced)', () => {
  it('leaks no ACL or target and removes none still in use', async () => {
    const f = await run({ tries: 10, seed: Date.now() % 1000 });
    console.log(print(f));
    expect(f.badTries).toEqual([]);
    expect(f.audit.aclsLeaked).toEqual([]);
    expect(f.audit.targetsLeaked).toEqual([]);
    expect(f.audit.aclsMissing).toEqual([]);
    expect(f.audit.stuck).toEqual([]);
    expect(f.alive).toEqual({ api: true, volume: true });
    expect(f.requests.count((s) => Number(s) >= 400)).toBe(0);
  }, 240_000);
});
