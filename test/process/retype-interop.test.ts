// os-retype with Debian's real cinder-scheduler (python3-cinder 21.3.1, test/python/real_cinder.py)
// between our API and our volume-manager: the real SchedulerManager.retype reads the request spec
// our API casts (a to_primitive dict beside the Volume object) and runs the real
// find_retype_backend on our manager's capability reports; the real volume_rpcapi.retype cast it
// sends (3.5: volume, new_type_id, host {host, cluster_name, capabilities}, migration_policy,
// reservations, old_reservations) is taken by our manager's RPC server, which retypes the volume.
import { describe, it, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { interopProcesses, realScheduler } from '../support/real-cinder.js';

const PROJECT = '1e7e0c0a0000000000000000000e7a9e';

const run = interopProcesses();

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) {
      throw new Error(`${what}\nreal scheduler: ${run.real?.logTail()}\nour volume: ${run.cluster?.logs.volume.slice(-10).join('\n')}`);
    }
    await sleep(250);
  }
}

describe('os-retype through a real Python cinder-scheduler', () => {
  it('our API → real scheduler → our volume-manager: the volume takes type B', async () => {
    const c = (run.cluster = new Cluster({ rpcResponseTimeout: 30, scheduler: false }));
    await c.start();
    const ours = `${c.host}@${c.backend}`;
    const real = (run.real = realScheduler(c.vhost, ours));
    await real.start();
    const api = new CinderClient(c.baseUrl, PROJECT, 'admin');
    // At start the real scheduler asks for capabilities; our manager's report must be in.
    await until('our pool never reached the real scheduler', async () => {
      const r = await api.request('GET', `/v3/${PROJECT}/scheduler-stats/get_pools`);
      return r.status === 200 && r.json.pools.some((p: { name: string }) => p.name === `${ours}#lvm`) ? true : undefined;
    });

    // The types and a volume of type A on our backend (the real scheduler cannot take creates:
    // its create flow writes the placement into its own database).
    const now = c.db.timestamp(new Date());
    const typeA = randomUUID();
    const typeB = randomUUID();
    for (const [id, name, specs] of [[typeA, 'A', { volume_backend_name: 'lvm' }], [typeB, 'B', { volume_backend_name: 'lvm', 'vendor:tier': 'gold' }]] as const) {
      c.write('INSERT INTO volume_types (created_at, deleted, id, name, description, is_public) VALUES (?, 0, ?, ?, NULL, 1)', now, id, name);
      for (const [k, v] of Object.entries(specs)) {
        c.write('INSERT INTO volume_type_extra_specs (created_at, deleted, `key`, value, volume_type_id) VALUES (?, 0, ?, ?, ?)', now, k, v, id);
      }
    }
    const volumeId = randomUUID();
    c.write(
      'INSERT INTO volumes (created_at, updated_at, deleted, id, user_id, project_id, host, size, availability_zone, status, attach_status, ' +
        "volume_type_id, bootable, multiattach, use_quota, shared_targets, replication_status) VALUES (?, ?, 0, ?, 'admin', ?, ?, 1, 'nova', 'available', 'detached', ?, 0, 0, 1, 1, 'disabled')",
      now, now, volumeId, PROJECT, `${ours}#lvm`, typeA,
    );

    const r = await api.action(volumeId, { 'os-retype': { new_type: 'B', migration_policy: 'never' } });
    expect(r.status, r.text).toBe(202);
    const row = await until('the volume was not retyped', () => {
      const v = c.volumeRow(volumeId);
      return v.status !== 'retyping' ? v : undefined;
    });
    expect([row.status, row.volume_type_id, row.previous_status, row.host]).toEqual(['available', typeB, 'available', `${ours}#lvm`]);
    await until('our manager did not complete the retype', () => c.logs.volume.find((l) => l.includes('Retype volume completed successfully.')));
    // Nothing failed on the Python side.
    expect(real.log()).not.toMatch(/Failed to schedule_retype|Traceback/);
  }, 300_000);
});
