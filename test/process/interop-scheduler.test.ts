// Issue 10, interop both ways with Debian's real Cinder 21.3.1 (test/python/real_cinder.py runs the
// unmodified service code; only the processes started here, on this cluster's private vhost):
// (a) a real Python cinder-volume (LVM driver on the stand-ins) reports its capabilities on the
//     scheduler fanout, and OUR scheduler shows its pool in get_pools;
// (b) OUR volume-manager's reports reach a real Python cinder-scheduler, whose get_pools answer our
//     API relays (GET /scheduler-stats/get_pools goes to whichever scheduler serves the topic).
import { describe, it, expect } from 'vitest';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { transportUrl } from '../support/rabbit.js';
import { interopProcesses, RealCinder, realScheduler } from '../support/real-cinder.js';

const PROJECT = '1e7e0c0a00000000000000000000e7e0';

const run = interopProcesses();

async function poolsUntil(api: CinderClient, pred: (pools: any[]) => boolean, what: string, ms = 90_000): Promise<any[]> {
  const end = Date.now() + ms;
  let last: any;
  for (;;) {
    const r = await api.request('GET', `/v3/${PROJECT}/scheduler-stats/get_pools?detail=true`);
    last = r.status === 200 ? r.json.pools : `${r.status} ${r.text}`;
    if (Array.isArray(last) && pred(last)) return last;
    if (Date.now() > end) throw new Error(`${what}: get_pools answered ${JSON.stringify(last)}`);
    await sleep(1000);
  }
}

// A cold, loaded CI machine needs up to ~90 s for a real Cinder service to come up (its
// migrations, eventlet start), beside our cluster's start and the polls below.
describe('interop with real Cinder 21.3.1', () => {
  it('(a) a real Python cinder-volume’s capability reports are understood by our scheduler', async () => {
    const cluster = (run.cluster = new Cluster({ rpcResponseTimeout: 30 }));
    await cluster.start();
    // Our scheduler counts a backend only while its service row is up in our database (the real
    // volume heartbeats into its own): keep one there, as a shared database would have it.
    const beat = () => {
      const now = cluster.db.timestamp(new Date());
      cluster.write(
        "UPDATE services SET updated_at = ? WHERE host = 'realhost@lvm' AND `binary` = 'cinder-volume'",
        now,
      );
    };
    cluster.write(
      "INSERT INTO services (created_at, updated_at, deleted, uuid, host, `binary`, topic, report_count, disabled, availability_zone, rpc_current_version, object_current_version) VALUES (?, ?, 0, 'f2a4b0c6-0000-4000-8000-00000000000a', 'realhost@lvm', 'cinder-volume', 'cinder-volume', 1, 0, 'nova', '3.18', '1.39')",
      cluster.db.timestamp(new Date()),
      cluster.db.timestamp(new Date()),
    );
    const timer = setInterval(beat, 5000);
    try {
      const real = (run.real = new RealCinder([
        'volume', '--transport-url', transportUrl(cluster.vhost), '--host', 'realhost', '--backend', 'lvm',
        '--option', 'periodic_interval=2', '--option', 'periodic_fuzzy_delay=0', '--option', 'backend_stats_polling_interval=3',
      ]));
      await real.start();
      const api = new CinderClient(cluster.baseUrl, PROJECT, 'admin');
      const pools = await poolsUntil(api, (p) => p.some((x) => x.name === 'realhost@lvm#lvm'), 'the real volume’s pool never appeared');
      const pool = pools.find((x) => x.name === 'realhost@lvm#lvm');
      expect(pool.capabilities).toMatchObject({
        pool_name: 'lvm',
        volume_backend_name: 'lvm',
        vendor_name: 'Open Source',
        storage_protocol: 'iSCSI',
        total_capacity_gb: 1000,
        free_capacity_gb: 1000,
        reserved_percentage: 0,
        thick_provisioning_support: true,
        location_info: expect.stringMatching(/^LVMVolumeDriver:.*:cinder-volumes:default:0$/),
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
      });
      // Our own manager's pool is there beside it.
      expect(pools.map((x) => x.name)).toContain(`${cluster.host}@${cluster.backend}#lvm`);
    } finally {
      clearInterval(timer);
    }
  }, 300_000);

  it('(b) our volume-manager’s reports are understood by a real Python cinder-scheduler', async () => {
    const cluster = (run.cluster = new Cluster({ rpcResponseTimeout: 30, scheduler: false }));
    await cluster.start();
    const ours = `${cluster.host}@${cluster.backend}`;
    await (run.real = realScheduler(cluster.vhost, ours)).start();
    const api = new CinderClient(cluster.baseUrl, PROJECT, 'admin');
    // At start the real scheduler fans out publish_service_capabilities; our manager answers.
    const pools = await poolsUntil(api, (p) => p.some((x) => x.name === `${ours}#lvm`), 'our pool never reached the real scheduler');
    const pool = pools.find((x) => x.name === `${ours}#lvm`);
    expect(pool.capabilities).toMatchObject({
      pool_name: 'lvm',
      volume_backend_name: 'lvm',
      vendor_name: 'Open Source',
      storage_protocol: 'iSCSI',
      total_capacity_gb: 1000,
      allocated_capacity_gb: 0,
      multiattach: true,
      backend_state: 'up',
      location_info: expect.stringMatching(/^LVMVolumeDriver:.*:cinder-volumes:default:0$/),
    });
    // The real scheduler's own bookkeeping ran on our report (BackendState.update_from_volume_capability).
    expect(pool.capabilities.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  }, 300_000);
});
