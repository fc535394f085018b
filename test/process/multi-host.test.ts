// Several storage hosts behind one API and one scheduler (test/support/hosts.ts), on the run's DB
// engine: three cinder-volume processes, each with its own config (`host = host<k>`), stand-in
// LVM/LIO state and lock_path. (a) The scheduler spreads creates by free capacity as Cinder's
// CapacityWeigher does (most free first, following the capacity the volumes consume). (b) An
// attach/detach touches only the volume's host: its stand-in runs every cinder-rtstool command under
// its own cinder-lioadm lock, the other hosts run none. (c) A SIGKILLed volume-manager: the others go
// on; a call to the dead host times out into a state Nova's rollback recovers; once its service is
// down no create goes there; restarted, its volumes attach and detach again.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { HostsCluster } from '../support/hosts.js';
import { CinderClient, sleep } from '../support/cluster.js';

const PROJECT = '4d1e2f3a4b5c4d6e8f90a1b2c3d4e5f6';
const SERVICE = { 'X-Service-Roles': 'service' };
// VG sizes with different remainders modulo the volume size, so two hosts never tie on free space.
const VG = [31, 24, 17];
const SIZE = 4;
const RPC_TIMEOUT = 8;
const PERIODIC = 2;

let c: HostsCluster;
let api: CinderClient;
/** Volumes of test (a), by host index (1-based). */
const onHost: Record<number, string[]> = { 1: [], 2: [], 3: [] };
/** Whether the API has get_pools (cinder get-pools); without it capacity reports are waited for by time. */
let hasGetPools = false;

async function pools(): Promise<Record<string, number> | undefined> {
  const r = await api.request('GET', `/v3/${PROJECT}/scheduler-stats/get_pools?detail=true`);
  if (r.status !== 200) return undefined;
  return Object.fromEntries((r.json?.pools ?? []).map((p: any) => [p.name, Number(p.capabilities?.free_capacity_gb)]));
}

/** Until the scheduler's view shows host<k> with `free` GiB free (bounded; a miss shows in the assertions). */
async function schedulerSees(expected: Record<number, number>, timeoutMs = 20_000) {
  if (!hasGetPools) {
    // A stats poll and a capability report after the change, and the message's way to the scheduler.
    await sleep(PERIODIC * 2500 + 1000);
    return;
  }
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const p = (await pools()) ?? {};
    if (Object.entries(expected).every(([k, free]) => Math.abs((p[c.poolHost(Number(k))] ?? NaN) - free) < 0.01)) return;
    await sleep(200);
  }
}

let seq = 0;
function connector() {
  seq += 1;
  return { initiator: `iqn.1994-05.com.redhat:mh-${seq}`, host: `compute-${seq}`, ip: `192.0.2.${100 + seq}`, platform: 'x86_64', os_type: 'linux', multipath: false };
}

async function createdVolume(size: number): Promise<string> {
  const r = await api.create({ volume: { size } });
  expect(r.status, r.text).toBe(202);
  const id = r.json.volume.id;
  const s = await c.waitStatus(id, (st) => st !== 'creating', 30_000);
  expect(s, `volume ${id} (host ${c.volumeRow(id)?.host})`).toBe('available');
  return id;
}

async function attach(id: string, conn = connector()) {
  expect((await api.action(id, { 'os-reserve': null })).status).toBe(202);
  const init = await api.action(id, { 'os-initialize_connection': { connector: conn } });
  expect(init.status, init.text).toBe(200);
  const a = await api.action(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rw' } });
  expect(a.status, a.text).toBe(202);
  expect(c.volumeRow(id).status).toBe('in-use');
  return conn;
}

/** Nova's legacy three-call detach. */
async function detach(id: string, conn: Record<string, unknown>) {
  const attachmentId = c.liveAttachments(id)[0]?.id;
  expect((await api.action(id, { 'os-begin_detaching': null })).status).toBe(202);
  const t = await api.action(id, { 'os-terminate_connection': { connector: conn } });
  expect(t.status, t.text).toBe(202);
  const d = await api.action(id, { 'os-detach': { attachment_id: attachmentId } });
  expect(d.status, d.text).toBe(202);
  expect(c.volumeRow(id).status).toBe('available');
  expect(c.liveAttachments(id)).toEqual([]);
}

const RTSTOOL_CHANGES = new Set(['create', 'add-initiator', 'delete-initiator', 'delete']);
const rtstoolCalls = (k: number) => c.standinCalls(k).filter((x) => x.argv[0].endsWith('cinder-rtstool') && RTSTOOL_CHANGES.has(x.argv[1]));

/** Attach and detach `id` (on host<k>): its LIO state and call log only on host<k>, under its lock. */
async function attachDetachOn(k: number, id: string) {
  expect(c.hostIndex(c.volumeRow(id).host)).toBe(k);
  c.clearStandinLog();
  const conn = await attach(id);
  expect(c.target(k, id).acls).toEqual([conn.initiator]);
  await detach(id, conn);
  expect(c.target(k, id).exists).toBe(false);
  const mine = rtstoolCalls(k);
  expect(mine.map((x) => x.argv[1])).toEqual(expect.arrayContaining(['create', 'add-initiator', 'delete-initiator']));
  expect(mine.filter((x) => x.lock_held !== true), `host${k}: rtstool calls without host${k}'s cinder-lioadm lock`).toEqual([]);
  for (let o = 1; o <= c.n; o++) if (o !== k) expect(rtstoolCalls(o), `host${o} ran rtstool for host${k}'s volume`).toEqual([]);
}

beforeAll(async () => {
  c = new HostsCluster({
    hosts: VG.map((vgSizeG) => ({ vgSizeG })),
    rpcResponseTimeout: RPC_TIMEOUT,
    reportInterval: 2,
    periodicInterval: PERIODIC,
    statsPollingInterval: PERIODIC,
    serviceDownTime: 8,
  });
  const t0 = Date.now();
  try {
    await c.start();
  } catch (e) {
    await c.stop();
    throw e;
  }
  api = new CinderClient(c.baseUrl, PROJECT, 'user1', SERVICE);
  const started = Date.now() - t0;
  hasGetPools = (await pools()) !== undefined;
  await schedulerSees({ 1: VG[0], 2: VG[1], 3: VG[2] }, 30_000);
  console.log(`multi-host: started in ${started} ms, every pool reported after ${Date.now() - t0} ms (get_pools: ${hasGetPools})`);
  // Eight processes (four API workers on MariaDB runs) beside the other test files' clusters.
}, 180_000);
afterAll(async () => {
  await c?.stop();
});

describe('several storage hosts, one scheduler', () => {
  it('(a) spreads creates by free capacity: most free first, following what is consumed', async () => {
    const free = [...VG];
    const expected: number[] = [];
    const actual: number[] = [];
    for (let i = 0; i < 8; i++) {
      expected.push(free.indexOf(Math.max(...free)) + 1);
      const id = await createdVolume(SIZE);
      const row = c.volumeRow(id);
      const k = c.hostIndex(row.host);
      expect(row.host).toBe(c.poolHost(k));
      actual.push(k);
      onHost[k].push(id);
      free[k - 1] -= SIZE;
      await schedulerSees({ [k]: free[k - 1] });
    }
    console.log(`multi-host (a): get_pools=${hasGetPools} hosts chosen ${actual.join(',')} (expected ${expected.join(',')}); free GiB after: ${free.join(',')}`);
    // 31/24/17 GiB, 4 GiB each: host1 twice, then host2, host1, host2, host1, host3, host2.
    expect(actual).toEqual(expected);
    expect(new Set(actual)).toEqual(new Set([1, 2, 3]));
  }, 180_000);

  it('(b) an attach and detach on each host runs rtstool only there, under that host\'s lock', async () => {
    for (let k = 1; k <= 3; k++) {
      expect(onHost[k].length, `test (a) put no volume on host${k}`).toBeGreaterThan(0);
      await attachDetachOn(k, onHost[k][0]);
    }
  }, 90_000);

  it('(c) a SIGKILLed volume-manager: others go on, its calls fail cleanly, no create goes there; restarted it serves again', async () => {
    const victim = 1;
    expect(onHost[victim].length).toBeGreaterThanOrEqual(3);
    const [, inUse, idle] = onHost[victim];
    const inUseConn = await attach(inUse);

    await c.stopHost(victim, 'SIGKILL');
    const killedAt = Date.now();
    for (const k of [2, 3]) await attachDetachOn(k, onHost[k][0]);

    // Attach on the dead host: reserve is the API's alone; initialize_connection is an RPC call
    // that times out. The volume stays `attaching`, which Nova's rollback (os-unreserve) undoes.
    expect((await api.action(idle, { 'os-reserve': null })).status).toBe(202);
    let t0 = Date.now();
    const init = await api.action(idle, { 'os-initialize_connection': { connector: connector() } });
    console.log(`multi-host (c): initialize_connection on the dead host: ${init.status} after ${Date.now() - t0} ms: ${init.text.slice(0, 200)}`);
    expect(init.status).toBeGreaterThanOrEqual(500);
    expect(c.volumeRow(idle).status).toBe('attaching');
    expect((await api.action(idle, { 'os-unreserve': null })).status).toBe(202);
    expect(c.volumeRow(idle).status).toBe('available');

    // Detach on the dead host: begin_detaching is the API's; terminate_connection times out; the
    // volume stays `detaching` with its attachment, which os-roll_detaching brings back to in-use.
    expect((await api.action(inUse, { 'os-begin_detaching': null })).status).toBe(202);
    t0 = Date.now();
    const term = await api.action(inUse, { 'os-terminate_connection': { connector: inUseConn } });
    console.log(`multi-host (c): terminate_connection on the dead host: ${term.status} after ${Date.now() - t0} ms: ${term.text.slice(0, 200)}`);
    expect(term.status).toBeGreaterThanOrEqual(500);
    expect(c.volumeRow(inUse).status).toBe('detaching');
    expect(c.liveAttachments(inUse)).toHaveLength(1);
    expect((await api.action(inUse, { 'os-roll_detaching': null })).status).toBe(202);
    expect(c.volumeRow(inUse).status).toBe('in-use');

    // Once the heartbeat is older than service_down_time (whole seconds on MariaDB: +2 s), the
    // dead host, which has the most free space, gets no create.
    await sleep(Math.max(0, killedAt + (c.serviceDownTime + 2) * 1000 - Date.now()));
    const placed: number[] = [];
    for (let i = 0; i < 4; i++) placed.push(c.hostIndex(c.volumeRow(await createdVolume(1)).host));
    console.log(`multi-host (c): creates while host${victim} is down went to hosts ${placed.join(',')}`);
    expect(placed.filter((k) => k === victim)).toEqual([]);

    await c.startHost(victim);
    // The calls that timed out must not have been run late by the restarted manager (their
    // messages expired in its queue): no export for the volume that was unreserved.
    await sleep(2000);
    expect(c.target(victim, idle).exists).toBe(false);
    c.clearStandinLog();
    await detach(inUse, inUseConn);
    expect(c.target(victim, inUse).exists).toBe(false);
    expect(rtstoolCalls(victim).every((x) => x.lock_held === true)).toBe(true);
    await attachDetachOn(victim, idle);
  }, 180_000);
});
