// Issue 10: the cinder-scheduler process between the API and the volume-manager. The API casts a
// create to it, it places the volume on the pool the manager reported (update_service_capabilities,
// from `vgs`), and it answers get_pools; the manager answers get_capabilities. python-cinderclient's
// `cinder get-pools --detail` shows the pool with Cinder's fields.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { runCli } from '../python/py-helper.js';

const PROJECT = '5c4ed01e000000000000000000005c4e';
let cluster: Cluster;
let api: CinderClient;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT, 'admin');
});
afterAll(async () => {
  await cluster?.stop();
});

async function pools(query = '?detail=true', version = '3.0') {
  const r = await api.request('GET', `/v3/${PROJECT}/scheduler-stats/get_pools${query}`, undefined, { 'OpenStack-API-Version': `volume ${version}` });
  return r;
}

/** Until the scheduler has the manager's report (it asks for one at start). */
async function firstPool(): Promise<any> {
  const end = Date.now() + 20_000;
  for (;;) {
    const r = await pools();
    if (r.status === 200 && r.json.pools.length > 0) return r.json.pools[0];
    if (Date.now() > end) throw new Error(`no pool reported: ${r.status} ${r.text}`);
    await sleep(200);
  }
}

/** Until the scheduler's log (read from its stdout pipe, which may lag the DB write) has `text`. */
async function schedulerLogged(text: string): Promise<string> {
  const end = Date.now() + 10_000;
  for (;;) {
    const log = cluster.logs.scheduler.join('\n');
    if (log.includes(text) || Date.now() > end) return log;
    await sleep(100);
  }
}

/** The volume once it left 'creating' and its workers row is gone (removed just after the status). */
async function settle(id: string): Promise<any> {
  const end = Date.now() + 20_000;
  for (;;) {
    const row = cluster.volumeRow(id);
    if (row && row.status !== 'creating' && cluster.sql('SELECT id FROM workers').length === 0) return row;
    if (Date.now() > end) throw new Error(`volume ${id} still creating`);
    await sleep(50);
  }
}

describe('cinder-scheduler', () => {
  it('get_pools: the manager’s pool with the LVM driver’s stats', async () => {
    const pool = await firstPool();
    expect(pool.name).toBe(`${cluster.host}@${cluster.backend}#lvm`);
    expect(pool.capabilities).toMatchObject({
      pool_name: 'lvm',
      volume_backend_name: 'lvm',
      vendor_name: 'Open Source',
      storage_protocol: 'iSCSI',
      total_capacity_gb: 1000,
      reserved_percentage: 0,
      thick_provisioning_support: true,
      thin_provisioning_support: false,
      multiattach: true,
      backend_state: 'up',
      location_info: expect.stringMatching(/^LVMVolumeDriver:.*:cinder-volumes:default:0$/),
    });
    expect(typeof pool.capabilities.free_capacity_gb).toBe('number');
    expect(typeof pool.capabilities.allocated_capacity_gb).toBe('number');
    expect(pool.capabilities.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    // Without detail only the name; a filter before 3.28 is ignored, from 3.31 an unknown one is a 400.
    expect((await pools('')).json).toEqual({ pools: [{ name: pool.name }] });
    expect((await pools('?name=nope', '3.0')).json.pools).toHaveLength(1);
    expect((await pools('?name=nope', '3.28')).json.pools).toHaveLength(0);
    const bad = await pools('?color=red', '3.33');
    expect(bad.status).toBe(400);
    expect(bad.json.badRequest.message).toBe('Invalid filters color are found in query options.');
    expect((await pools('?detail=maybe')).status).toBe(400);
  });

  it('create: the scheduler places the volume on host@backend#pool and the manager creates it', async () => {
    const r = await api.create({ volume: { size: 2, name: 'sched' } });
    expect(r.status).toBe(202);
    const row = await settle(r.json.volume.id);
    expect(row.status).toBe('available');
    expect(cluster.sql<any>('SELECT host, scheduled_at FROM volumes WHERE id = ?', r.json.volume.id)[0]).toMatchObject({
      host: `${cluster.host}@${cluster.backend}#lvm`,
      scheduled_at: expect.anything(),
    });
    expect(cluster.sql('SELECT id FROM workers')).toHaveLength(0);
  });

  it('no pool can hold it: the volume goes to error with no workers row (NoValidBackend)', async () => {
    const r = await api.create({ volume: { size: 5000 } });
    expect(r.status).toBe(202);
    const row = await settle(r.json.volume.id);
    expect(row.status).toBe('error');
    expect(cluster.sql<any>('SELECT host FROM volumes WHERE id = ?', r.json.volume.id)[0].host).toBeNull();
    expect(cluster.sql('SELECT id FROM workers')).toHaveLength(0);
    expect(await schedulerLogged('No valid backend was found.')).toContain('No valid backend was found.');
    // An errored volume without a host is deletable at once.
    expect((await api.delete(r.json.volume.id)).status).toBe(202);
  });

  it('a create that fails on the driver is rescheduled (filter_properties.retry) and succeeds on the next try', async () => {
    cluster.clearStandinLog();
    cluster.injectFailure('once env LC_ALL=C lvcreate');
    const r = await api.create({ volume: { size: 1 } });
    const row = await settle(r.json.volume.id);
    cluster.clearFailures();
    expect(row.status).toBe('available');
    expect(cluster.argvs().filter((a) => a.split(' ').includes('lvcreate'))).toHaveLength(2);
    // The scheduler logs the previous try's failure it got back in filter_properties.retry.
    const retried = `Error scheduling ${r.json.volume.id} from last vol-service: ${cluster.host}@${cluster.backend}#lvm`;
    expect(await schedulerLogged(retried)).toContain(retried);
  });

  it('scheduler_max_attempts (3) failed tries: the volume goes to error, "Exceeded max scheduling attempts"', async () => {
    cluster.clearStandinLog();
    cluster.injectFailure('env LC_ALL=C lvcreate');
    const r = await api.create({ volume: { size: 1 } });
    const id = r.json.volume.id;
    const row = await settle(id);
    cluster.clearFailures();
    expect(row.status).toBe('error');
    expect(cluster.argvs().filter((a) => a.split(' ').includes('lvcreate'))).toHaveLength(3);
    expect(await schedulerLogged(`Exceeded max scheduling attempts 3 for resource ${id}`)).toContain(`Exceeded max scheduling attempts 3 for resource ${id}`);
    expect((await api.delete(id)).status).toBe(202);
  });

  it('GET /capabilities/{host}: the backend’s capabilities, 404 for an unknown host', async () => {
    const r = await api.request('GET', `/v3/${PROJECT}/capabilities/${cluster.host}`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      namespace: `OS::Storage::Capabilities::${cluster.host}@${cluster.backend}`,
      vendor_name: 'Open Source',
      volume_backend_name: 'lvm',
      storage_protocol: 'iSCSI',
      replication_targets: [],
      properties: { thin_provisioning: expect.any(Object), qos: expect.any(Object) },
    });
    const missing = await api.request('GET', `/v3/${PROJECT}/capabilities/nosuchhost`);
    expect(missing.status).toBe(404);
    expect(missing.json.itemNotFound.message).toBe("Can't find service: nosuchhost");
  });

  it('`cinder get-pools --detail` (python-cinderclient) lists the pool with Cinder’s fields', async () => {
    if (!fs.existsSync('/usr/bin/cinder')) throw new Error('the cinder CLI is missing: run scripts/ensure-python-deps.sh');
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_') && !k.startsWith('CINDER')) env[k] = v;
    const out = await runCli(
      '/usr/bin/cinder',
      ['--os-auth-type', 'noauth', '--os-user-id', 'admin', '--os-project-id', PROJECT, '--os-endpoint', `${cluster.baseUrl}/v3`, 'get-pools', '--detail'],
      env,
    );
    expect(out.code, out.stderr).toBe(0);
    const rows = Object.fromEntries(
      out.stdout
        .split('\n')
        .filter((l) => l.startsWith('|'))
        .map((l) => l.split('|').slice(1, -1).map((c) => c.trim())),
    );
    expect(rows.name).toBe(`${cluster.host}@${cluster.backend}#lvm`);
    for (const k of ['total_capacity_gb', 'free_capacity_gb', 'allocated_capacity_gb', 'provisioned_capacity_gb', 'max_over_subscription_ratio', 'reserved_percentage', 'location_info', 'timestamp', 'volume_backend_name', 'storage_protocol', 'vendor_name', 'driver_version']) {
      expect(rows[k], `${k} in\n${out.stdout}`).toBeDefined();
    }
  });
});
