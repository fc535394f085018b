// What an operator watches (issue 8): Prometheus /metrics on both processes, the stale report (API
// resource and manage command) for a volume a killed volume-manager left in `detaching`, and the
// volume-manager's record of a call whose storage command outlived its caller.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CINDER_TS, Cluster, CinderClient, REPO, freePort, sleep } from '../support/cluster.js';

const PROJECT = '0be7a7e50be7a7e50be7a7e50be7a7e5';
const CONNECTOR = { initiator: 'iqn.1994-05.com.redhat:ops1', host: 'ops1', ip: '192.0.2.77', multipath: false };
const NOVA = { 'X-Service-Roles': 'service' };

let cluster: Cluster;
let api: CinderClient;
let metricsPort = 0;

beforeAll(async () => {
  metricsPort = await freePort();
  cluster = new Cluster({ rpcResponseTimeout: 3, extraConfig: `[metrics]\nvolume_port = ${metricsPort}\nstale_after = 600` });
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT);
});
afterAll(async () => {
  await cluster?.stop();
});

async function text(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
}

/** The value of one sample line, e.g. `name{a="b"}` (0 when absent). */
function sample(body: string, series: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function legacyDetach(id: string, attachmentId: string) {
  for (const [body, code] of [
    [{ 'os-begin_detaching': null }, 202],
    [{ 'os-terminate_connection': { connector: CONNECTOR } }, 202],
    [{ 'os-detach': { attachment_id: attachmentId } }, 202],
  ] as const) {
    const r = await api.action(id, body, NOVA);
    expect(r.status, r.text).toBe(code);
  }
}

describe('/metrics', () => {
  it('both processes expose request, RPC, command, lock, detach and broker figures', async () => {
    const { id, attachmentId } = await cluster.attachedVolume(api, CONNECTOR);
    await legacyDetach(id, attachmentId);

    const a = await text(`${cluster.baseUrl}/metrics`);
    expect(a.status).toBe(200);
    expect(a.type).toMatch(/^text\/plain/);
    expect(sample(a.body, 'cinder_api_request_duration_seconds_count{method="POST",route="/v3/:project_id/volumes/:id/action",action="os-detach",status="202"}')).toBeGreaterThanOrEqual(1);
    expect(sample(a.body, 'cinder_rpc_call_duration_seconds_count{method="terminate_connection",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(sample(a.body, 'cinder_rpc_broker_connected')).toBe(1);
    expect(a.body).toContain('process_resident_memory_bytes');

    const v = await text(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(v.status).toBe(200);
    expect(sample(v.body, 'cinder_storage_command_duration_seconds_count{command="cinder-rtstool delete-initiator"}')).toBeGreaterThanOrEqual(1);
    expect(sample(v.body, 'cinder_storage_command_duration_seconds_count{command="lvcreate"}')).toBeGreaterThanOrEqual(1);
    expect(sample(v.body, 'cinder_lock_wait_seconds_count{lock="cinder-<id>-detach_volume"}')).toBeGreaterThanOrEqual(1);
    expect(sample(v.body, 'cinder_lock_wait_seconds_count{lock="cinder-lioadm"}')).toBeGreaterThanOrEqual(1);
    expect(sample(v.body, 'cinder_volume_detach_total{path="detach_volume",outcome="success"}')).toBe(1);
    expect(sample(v.body, 'cinder_rpc_broker_connected')).toBe(1);
    // A failing command is counted by command.
    cluster.injectFailure('once cinder-rtstool delete-initiator');
    const b = await cluster.attachedVolume(api, CONNECTOR);
    expect((await api.action(b.id, { 'os-begin_detaching': null }, NOVA)).status).toBe(202);
    expect((await api.action(b.id, { 'os-terminate_connection': { connector: CONNECTOR } }, NOVA)).status).toBe(500);
    const v2 = await text(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(sample(v2.body, 'cinder_storage_command_failures_total{command="cinder-rtstool delete-initiator"}')).toBe(1);
    const a2 = await text(`${cluster.baseUrl}/metrics`);
    expect(sample(a2.body, 'cinder_rpc_call_duration_seconds_count{method="terminate_connection",outcome="error"}')).toBe(1);
    expect((await api.action(b.id, { 'os-roll_detaching': null }, NOVA)).status).toBe(202);
  });
});

describe('a storage command that outlives its caller', () => {
  it('is logged with the volume, counted, and listed on /outlived', async () => {
    const { id } = await cluster.attachedVolume(api, CONNECTOR);
    expect((await api.action(id, { 'os-begin_detaching': null }, NOVA)).status).toBe(202);
    cluster.injectFailure('once hang=5 cinder-rtstool delete-initiator');
    const t0 = Date.now();
    const r = await api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } }, NOVA);
    expect(r.status).toBe(500);
    expect(Date.now() - t0).toBeLessThan(4500); // rpc_response_timeout (3 s) bounds the call
    // Nova's roll-back while the command still runs.
    expect((await api.action(id, { 'os-roll_detaching': null }, NOVA)).status).toBe(202);
    let outlived: any[] = [];
    for (let i = 0; i < 80 && outlived.length === 0; i++) {
      await sleep(100);
      outlived = JSON.parse((await text(`http://127.0.0.1:${metricsPort}/outlived`)).body);
    }
    expect(outlived).toHaveLength(1);
    expect(outlived[0]).toMatchObject({ host: 'testhost@lvm', method: 'terminate_connection', volume_id: id, outcome: 'done' });
    const v = await text(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(sample(v.body, 'cinder_rpc_outlived_caller_total{method="terminate_connection"}')).toBe(1);
    expect(cluster.logs.volume.some((l) => l.includes('RPC call outlived its caller') && l.includes(id))).toBe(true);
    // What the operator then sees: in-use, and the ACL the late command removed is gone.
    expect(cluster.volumeRow(id).status).toBe('in-use');
    expect(cluster.target(id).acls).toEqual([]);
  });
});

describe('stale report', () => {
  it('lists a volume a killed volume-manager left in detaching, with its recovery, until recovered', async () => {
    const { id } = await cluster.attachedVolume(api, CONNECTOR);
    expect((await api.action(id, { 'os-begin_detaching': null }, NOVA)).status).toBe(202);
    cluster.injectFailure('once hang=30 cinder-rtstool delete-initiator');
    const pending = api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } }, NOVA);
    for (let i = 0; i < 50 && !cluster.logs.volume.some((l) => l.includes('delete-initiator')); i++) await sleep(100);
    await sleep(300);
    await cluster.stopVolume('SIGKILL');
    expect((await pending).status).toBe(500);
    expect(cluster.volumeRow(id).status).toBe('detaching');

    const r = await api.request('GET', `/v3/${PROJECT}/stale?older_than=0`);
    expect(r.status, r.text).toBe(200);
    const entry = r.json.stale.volumes.find((e: any) => e.id === id);
    expect(entry).toMatchObject({ resource: 'volume', status: 'detaching', host: 'testhost@lvm#lvm' });
    expect(entry.recovery).toMatch(/os-roll_detaching/);
    // Not yet stale by the configured threshold (600 s).
    expect((await api.request('GET', `/v3/${PROJECT}/stale`)).json.stale.volumes).toEqual([]);
    expect((await api.request('GET', `/v3/${PROJECT}/stale?older_than=soon`)).status).toBe(400);

    const cmd = spawnSync(CINDER_TS, ['manage', '--config-file', cluster.configFile, 'stale', '--older-than', '0'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(cmd.status, cmd.stderr).toBe(3);
    expect(cmd.stdout).toContain(`volume ${id}: detaching for`);
    expect(cmd.stdout).toMatch(/recovery: .*os-roll_detaching/);

    const m = await text(`${cluster.baseUrl}/metrics`);
    expect(m.body).toContain('cinder_stale_resources');

    // The recovery it names brings the volume back, and it leaves the report.
    await cluster.startVolume();
    expect((await api.action(id, { 'os-roll_detaching': null }, NOVA)).status).toBe(202);
    expect(cluster.volumeRow(id).status).toBe('in-use');
    const after = await api.request('GET', `/v3/${PROJECT}/stale?older_than=0`);
    expect(after.json.stale.volumes.find((e: any) => e.id === id)).toBeUndefined();
  }, 60_000);
});

describe('a volume-manager killed while cinder-rtstool create runs', () => {
  it('leaves a target that the next delete still removes (Cinder leaks it)', async () => {
    const id = await cluster.newVolume(api);
    expect((await api.action(id, { 'os-reserve': null }, NOVA)).status).toBe(202);
    cluster.injectFailure('once hang=2 cinder-rtstool create');
    const pending = api.action(id, { 'os-initialize_connection': { connector: CONNECTOR } }, NOVA);
    // The stand-in drops a `once` line when its command starts (and then hangs): kill it there.
    const failFile = path.join(cluster.standinState, 'fail');
    const started = () => !fs.existsSync(failFile) || !fs.readFileSync(failFile, 'utf8').includes('hang=2 cinder-rtstool create');
    for (let i = 0; i < 100 && !started(); i++) await sleep(50);
    expect(started()).toBe(true);
    await cluster.stopVolume('SIGKILL');
    expect((await pending).status).toBe(500);
    // The orphaned command finishes after the manager is gone: a target nobody saved.
    for (let i = 0; i < 50 && !cluster.target(id).exists; i++) await sleep(100);
    expect(cluster.target(id).exists).toBe(true);
    await cluster.startVolume();
    // Nova's clean-up of a failed attach, then the user's delete.
    expect((await api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } }, NOVA)).status).toBe(202);
    expect((await api.action(id, { 'os-unreserve': null }, NOVA)).status).toBe(202);
    expect((await api.delete(id)).status).toBe(202);
    for (let i = 0; i < 100 && cluster.volumeRow(id).deleted !== 1; i++) await sleep(50);
    expect(cluster.volumeRow(id).deleted).toBe(1);
    expect(cluster.target(id).exists).toBe(false);
  }, 60_000);
});
