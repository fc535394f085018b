// os-retype end to end across the processes (API, scheduler, volume-manager; real RabbitMQ, the
// recording stand-ins): a volume of type A retyped to B on the same backend ends `available` (or
// `in-use`) with type B and no storage change (cinder/volume/api.py retype → scheduler/manager.py
// retype → volume/manager.py retype → drivers/lvm.py retype); a retype the scheduler refuses (no
// backend with the new type's capabilities) ends in the previous status with the old type.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { LOG_DRIVER_CONFIG, loggedNotifications } from '../support/notifications.js';

const PROJECT = 'c0ffee0000000000000000000000be7a';
const CONNECTOR = { initiator: 'iqn.2004-10.com.ubuntu:01:retype0001', host: 'compute-r', ip: '192.0.2.31', platform: 'x86_64', os_type: 'linux', multipath: false };

let cluster: Cluster;
let api: CinderClient;
const types: Record<string, string> = {};

/** A volume type and its extra specs, written as `cinder type-create` + `type-key` would leave them. */
function createType(name: string, specs: Record<string, string>): string {
  const id = randomUUID();
  const now = cluster.db.timestamp(new Date());
  cluster.write('INSERT INTO volume_types (created_at, deleted, id, name, description, is_public) VALUES (?, 0, ?, ?, NULL, 1)', now, id, name);
  for (const [k, v] of Object.entries(specs)) {
    cluster.write('INSERT INTO volume_type_extra_specs (created_at, deleted, `key`, value, volume_type_id) VALUES (?, 0, ?, ?, ?)', now, k, v, id);
  }
  return id;
}

beforeAll(async () => {
  // The log driver, so the notifications can be read from the services' logs.
  cluster = new Cluster({ extraConfig: LOG_DRIVER_CONFIG });
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT);
  types.A = createType('A', { volume_backend_name: 'lvm' });
  types.B = createType('B', { volume_backend_name: 'lvm', 'vendor:tier': 'gold' });
  types.C = createType('C', { volume_backend_name: 'nowhere' });
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});

async function until<T>(what: string, fn: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}\nscheduler: ${cluster.logs.scheduler.slice(-10).join('\n')}\nvolume: ${cluster.logs.volume.slice(-10).join('\n')}`);
    await sleep(50);
  }
}

/** The volume row once it has left 'retyping'. */
const settled = (id: string) =>
  until(`volume ${id} stayed retyping`, () => {
    const r = cluster.volumeRow(id);
    return r.status === 'retyping' ? undefined : r;
  });

/** Commands that change storage (the stats refresh after the retype only reads: vgs, lvs). */
const changingCommands = () => cluster.argvs().filter((a) => !/(^|\s|\/)(vgs|lvs|pvs|lvdisplay|vgdisplay)\s/.test(a));

describe('os-retype across the processes', () => {
  it('an available volume of type A becomes type B on its backend, with no storage change', async () => {
    const id = await cluster.newVolume(api, { size: 1, name: 'r1', volume_type: 'A' });
    expect(cluster.volumeRow(id).volume_type_id).toBe(types.A);
    cluster.clearStandinLog();
    const r = await api.action(id, { 'os-retype': { new_type: 'B', migration_policy: 'never' } });
    expect(r.status, r.text).toBe(202);
    expect(r.text).toBe('');
    const row = await settled(id);
    expect([row.status, row.volume_type_id, row.previous_status, row.migration_status, row.host]).toEqual(['available', types.B, 'available', null, `${cluster.host}@${cluster.backend}#lvm`]);
    const view = await api.get(id);
    expect(view.json.volume).toMatchObject({ status: 'available', volume_type: 'B' });
    // The notification and the capability report (a stats refresh: vgs/lvs) follow the DB write.
    await until('no retype notification', () => loggedNotifications(cluster.logs.volume).find((n) => n.event_type === 'volume.retype'));
    await until('no completion line', () => cluster.logs.volume.find((l) => l.includes('Retype volume completed successfully.')));
    expect(changingCommands()).toEqual([]);
  }, 60_000);

  it('an attached volume stays in-use, its target and ACL untouched', async () => {
    const { id } = await cluster.attachedVolume(api, CONNECTOR);
    const before = cluster.target(id);
    cluster.clearStandinLog();
    const r = await api.action(id, { 'os-retype': { new_type: 'B' } });
    expect(r.status, r.text).toBe(202);
    const row = await settled(id);
    expect([row.status, row.attach_status, row.volume_type_id, row.previous_status]).toEqual(['in-use', 'attached', types.B, 'in-use']);
    expect(cluster.target(id)).toEqual(before);
    expect(changingCommands()).toEqual([]);
  }, 60_000);

  it('a type no backend offers: the scheduler puts the volume back to its previous status', async () => {
    const id = await cluster.newVolume(api, { size: 1, name: 'r3', volume_type: 'A' });
    cluster.clearStandinLog();
    const r = await api.action(id, { 'os-retype': { new_type: types.C } });
    expect(r.status, r.text).toBe(202);
    const row = await settled(id);
    expect([row.status, row.volume_type_id]).toEqual(['available', types.A]);
    expect(changingCommands()).toEqual([]);
    await until('the scheduler never logged the failure', () =>
      cluster.logs.scheduler.find((l) => l.includes(`Failed to schedule_retype: No valid backend was found. No valid backends for volume ${id} with type`)),
    );
    expect((await api.get(id)).json.volume.volume_type).toBe('A');
  }, 60_000);

  it('refuses synchronously what the volume API refuses (same type: Cinder’s text)', async () => {
    const id = await cluster.newVolume(api, { size: 1, name: 'r4', volume_type: 'A' });
    const r = await api.action(id, { 'os-retype': { new_type: 'A' } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      badRequest: {
        code: 400,
        message:
          'Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, ' +
          'requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.',
      },
    });
    expect(cluster.volumeRow(id).status).toBe('available');
  }, 60_000);
});
