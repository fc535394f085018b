// Eight clients creating, attaching, detaching and deleting volumes at once (the benchmark in
// bench/churn.ts, smaller): no "database is locked" anywhere, every answer as expected, and no
// volume left creating or deleting. On SQLite the two processes' writes contend for one file lock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, CinderClient } from '../support/cluster.js';
import { churn } from '../support/churn.js';

const PROJECT = 'c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4';
let cluster: Cluster;
let api: CinderClient;

beforeAll(async () => {
  cluster = new Cluster({ logLevel: 'info', rpcResponseTimeout: 60 });
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT);
});
afterAll(async () => {
  await cluster?.stop();
});

describe('8 concurrent clients, 40 whole volume lifecycles', () => {
  it('no locked database, no unexpected answer, nothing stuck', async () => {
    const r = await churn(cluster, api, { clients: 8, volumes: 40 });
    expect(r.lockedLogLines).toEqual([]);
    expect(r.unexpected).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.stuck).toEqual([]);
    expect(r.lifecycles).toBe(40);
  }, 180_000);
});
