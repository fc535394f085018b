// The volume manager's decision trees (Cinder's detach_volume, attach_volume, initialize/terminate
// connection, delete_volume) with the real LVM driver, LIO target, locks and SQLite; only the
// command executor is a recording fake.
import pino from 'pino';
import { MessageApi } from '../../src/message/api.js';
import { messageGetAll } from '../../src/db/messages.js';
import { DEFAULT_VOLUME_TYPE, volumeTypeGetByName } from '../../src/db/volume-types.js';
import { qosSpecsAssociate, qosSpecsCreate } from '../../src/db/qos-specs.js';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { openDb, type Db } from '../../src/db/client.js';
import * as dbapi from '../../src/db/api.js';
import type { volumes } from '../../src/db/schema.js';
import type { LVMVolumeDriver } from '../../src/drivers/lvm.js';
import type { VolumeManager } from '../../src/manager/manager.js';
import { makeContext } from '../../src/common/context.js';
import { FakeExecutor } from '../support/fake-executor.js';
import { capturingLogger, lvmDriver, lvmManager } from '../support/lvm-manager.js';
import { loggedNotifications } from '../support/notifications.js';

const IQN = (id: string) => `iqn.2010-10.org.openstack:volume-${id}`;
const CONNECTOR = { initiator: 'iqn.1994-05.com.redhat:compute1', host: 'compute1', ip: '192.168.0.20' };

let dir: string;
let db: Db;
let exec: FakeExecutor;
let driver: LVMVolumeDriver;
let manager: VolumeManager;
let logLines: Record<string, unknown>[];
const ctx = makeContext({ user_id: 'u1', project_id: 'p1', roles: ['member'] });

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-mgr-'));
  db = await openDb(`sqlite:///${dir}/cinder.sqlite`);
  exec = new FakeExecutor();
  logLines = [];
  const logger = capturingLogger(logLines);
  driver = await lvmDriver(dir, exec, logger);
  manager = lvmManager(dir, { db, driver }, logger);
  await manager.initHost();
});
afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A volume of the `__DEFAULT__` type the migrations create. */
async function volume(over: Partial<typeof volumes.$inferInsert> = {}) {
  return dbapi.volumeCreate(db, {
    id: randomUUID(),
    volume_type_id: (await volumeTypeGetByName(db, DEFAULT_VOLUME_TYPE))!.id,
    project_id: 'p1',
    user_id: 'u1',
    size: 1,
    status: 'available',
    attach_status: 'detached',
    host: 'node1@lvm#lvm',
    ...over,
  });
}

/** The legacy attach path as Nova drives it: reserve (DB), initialize_connection, attach. */
async function attached(over: Partial<typeof volumes.$inferInsert> = {}) {
  const v = await volume({ status: 'attaching', ...over });
  await dbapi.adminMetadataSet(db, v.id, { readonly: 'False' });
  await manager.initializeConnection(ctx, await dbapi.volumeGetOrThrow(db, v.id), CONNECTOR);
  const att = await manager.attachVolume(ctx, v.id, randomUUID(), null, '/dev/vdb', 'rw');
  return { volume: await dbapi.volumeGetOrThrow(db, v.id), attachment: att };
}

const notifications = () => loggedNotifications(logLines).map((n) => n.event_type);

describe('initialize_connection', () => {
  // _parse_connection_options: the type's front-end QoS, per-GB options scaled by the size.
  it.each([
    ['front-end', { total_iops_sec_per_gb: '10', total_iops_sec_per_gb_min: '50', read_bytes_sec_per_gb: '1000', read_bytes_sec_max: '2500', write_iops_sec: '7' },
      { total_iops_sec: 50, read_bytes_sec: 2500, write_iops_sec: '7' }],
    ['both', { total_iops_sec_per_gb: '30' }, { total_iops_sec: 90 }],
    ['back-end', { total_iops_sec: '100' }, null],
  ] as const)('a type whose QoS consumer is %s gives qos_specs %j', async (consumer, specs, expected) => {
    const typeId = (await volumeTypeGetByName(db, DEFAULT_VOLUME_TYPE))!.id;
    const qos = await qosSpecsCreate(db, { name: `qos-${consumer}`, consumer, specs: { ...specs } });
    await qosSpecsAssociate(db, qos.id, typeId);
    const v = await volume({ size: 3 });
    const info = (await manager.initializeConnection(ctx, v, CONNECTOR)) as { data: Record<string, unknown> };
    expect(info.data.qos_specs).toEqual(expected);
  });

  it('exports, saves provider_location/auth and returns connection_info with manager keys', async () => {
    const v = await volume();
    exec.calls = [];
    const info = (await manager.initializeConnection(ctx, v, CONNECTOR)) as { driver_volume_type: string; data: Record<string, unknown> };
    const row = await dbapi.volumeGetOrThrow(db, v.id);
    expect(row.provider_location).toBe(`192.168.0.10:3260,${IQN(v.id)} ${IQN(v.id)} 0`);
    expect(row.provider_auth).toMatch(/^CHAP \S{20} \S{16}$/);
    const [, user, pass] = row.provider_auth!.split(' ');
    expect(info.driver_volume_type).toBe('iscsi');
    expect(info.data).toEqual({
      target_discovered: false,
      target_portal: '192.168.0.10:3260',
      target_iqn: IQN(v.id),
      target_lun: 0,
      volume_id: v.id,
      auth_method: 'CHAP',
      auth_username: user,
      auth_password: pass,
      encrypted: false,
      qos_specs: null,
      access_mode: 'rw',
      cacheable: false,
    });
    expect(exec.lines()).toEqual([
      `lvchange -a y --yes -K cinder-volumes/volume-${v.id}`,
      `cinder-rtstool create /dev/cinder-volumes/volume-${v.id} ${IQN(v.id)} ${user} ${pass} False -p3260 -a192.168.0.10`,
      'cinder-rtstool get-targets',
      'cinder-rtstool save',
      `cinder-rtstool add-initiator ${IQN(v.id)} ${user} ${pass} ${CONNECTOR.initiator}`,
      'cinder-rtstool save',
    ]);
    // CHAP secrets never reach the logs
    expect(JSON.stringify(logLines)).not.toContain(pass);
  });

  it('a connector without initiator is InvalidInput with the clean message', async () => {
    const v = await volume();
    await expect(manager.initializeConnection(ctx, v, { host: 'h' })).rejects.toMatchObject({
      name: 'InvalidInput',
      message: "Invalid input received: Connector doesn't have required information: initiator",
    });
  });

  it('a second connection reuses the CHAP pair in the DB row even when the RPC carried a stale volume', async () => {
    const v = await volume({ multiattach: true });
    const stale = await dbapi.volumeGetOrThrow(db, v.id); // provider_auth still NULL, as a concurrent call saw it
    await manager.initializeConnection(ctx, v, CONNECTOR);
    const [, user, pass] = (await dbapi.volumeGetOrThrow(db, v.id)).provider_auth!.split(' ');
    exec.calls = [];
    const other = { initiator: 'iqn.1994-05.com.redhat:compute2', host: 'compute2' };
    const info = (await manager.initializeConnection(ctx, stale, other)) as { data: Record<string, unknown> };
    expect(info.data).toMatchObject({ auth_username: user, auth_password: pass });
    expect((await dbapi.volumeGetOrThrow(db, v.id)).provider_auth).toBe(`CHAP ${user} ${pass}`);
    expect(exec.lines()).toContain(`cinder-rtstool add-initiator ${IQN(v.id)} ${user} ${pass} ${other.initiator}`);
  });

  it('an add-initiator failure removes the export and raises VolumeBackendAPIException', async () => {
    const v = await volume();
    exec.fail('cinder-rtstool add-initiator');
    await expect(manager.initializeConnection(ctx, v, CONNECTOR)).rejects.toMatchObject({ name: 'VolumeBackendAPIException' });
    expect(exec.lines().slice(-3)).toEqual(['cinder-rtstool get-targets', `cinder-rtstool delete ${IQN(v.id)}`, 'cinder-rtstool save']);
  });
});

describe('attach_volume', () => {
  it('attaches, is idempotent for the same instance, and refuses a second instance', async () => {
    const { volume: v, attachment } = await attached();
    expect(v).toMatchObject({ status: 'in-use', attach_status: 'attached' });
    expect(v.admin_metadata).toEqual({ readonly: 'False', attached_mode: 'rw' });
    const again = await manager.attachVolume(ctx, v.id, attachment.instance_uuid, null, '/dev/vdb', 'rw');
    expect(again.id).toBe(attachment.id);
    await expect(manager.attachVolume(ctx, v.id, randomUUID(), null, '/dev/vdc', 'rw')).rejects.toMatchObject({
      message: 'Invalid volume: volume is already attached and multiple attachments are not enabled',
    });
    expect(notifications()).toEqual(['volume.attach.start', 'volume.attach.end']);
  });

  it('a non-uuid instance leaves an error_attaching row and raises InvalidUUID', async () => {
    const v = await volume({ status: 'attaching' });
    await expect(manager.attachVolume(ctx, v.id, 'nope', null, '/dev/vdb', 'rw')).rejects.toMatchObject({
      message: 'Expected a UUID but received nope.',
    });
    const a = db.t.volumeAttachment;
    const rows = await db.run((q) => q.select().from(a).where(eq(a.volume_id, v.id)));
    expect(rows.map((r) => r.attach_status)).toEqual(['error_attaching']);
  });

  it('with neither instance nor host name, an earlier row with no host is reused (IS NULL, as Cinder)', async () => {
    const v = await volume({ status: 'attaching' });
    const first = await manager.attachVolume(ctx, v.id, null, '', '/dev/sdb', 'rw');
    expect(first.attached_host).toBeNull();
    const again = await manager.attachVolume(ctx, v.id, null, null, '/dev/sdb', 'rw');
    expect(again.id).toBe(first.id);
    const a = db.t.volumeAttachment;
    expect(await db.run((q) => q.select().from(a).where(eq(a.volume_id, v.id)))).toHaveLength(1);
    expect((await dbapi.volumeGetOrThrow(db, v.id)).status).toBe('in-use');
  });

  it('host attach sanitizes the host name', async () => {
    const v = await volume({ status: 'attaching' });
    const att = await manager.attachVolume(ctx, v.id, null, 'My_Host .example.', '/dev/sdb', 'ro');
    expect(att.attached_host).toBe('my-host-.example');
  });
});

describe('attachment_update', () => {
  it("volume_attached gets connector.get('host', '') and .get('mountpoint', 'na'): a null host stays NULL", async () => {
    const rows = [];
    for (const connector of [
      { initiator: 'iqn.1994-05.com.redhat:c7', host: null, mountpoint: '/dev/vdc' },
      { initiator: 'iqn.1994-05.com.redhat:c8' },
    ]) {
      const v = await volume({ status: 'reserved' });
      const att = await dbapi.volumeAttach(db, { volume_id: v.id, attach_status: 'reserved', instance_uuid: randomUUID() });
      await manager.attachmentUpdate(ctx, await dbapi.volumeGetOrThrow(db, v.id), connector, att.id);
      const a = db.t.volumeAttachment;
      rows.push((await db.run((q) => q.select().from(a).where(eq(a.id, att.id))))[0]);
    }
    expect(rows.map((r) => [r.attached_host, r.mountpoint, r.attach_status])).toEqual([
      [null, '/dev/vdc', 'attaching'],
      ['', 'na', 'attaching'],
    ]);
  });
});

describe('terminate_connection', () => {
  it('removes the ACL and persists, changing nothing in the DB', async () => {
    const { volume: v } = await attached();
    await dbapi.volumeConditionalUpdate(db, v.id, { status: 'detaching' }, { status: 'in-use' });
    const before = await dbapi.volumeGetOrThrow(db, v.id);
    exec.calls = [];
    await manager.terminateConnection(ctx, v.id, CONNECTOR);
    expect(exec.lines()).toEqual([`cinder-rtstool delete-initiator ${IQN(v.id)} ${CONNECTOR.initiator}`, 'cinder-rtstool save']);
    expect(await dbapi.volumeGetOrThrow(db, v.id)).toEqual(before);
  });

  it('a failing delete-initiator becomes VolumeBackendAPIException', async () => {
    const { volume: v } = await attached();
    exec.fail('cinder-rtstool delete-initiator');
    await expect(manager.terminateConnection(ctx, v.id, CONNECTOR)).rejects.toMatchObject({
      name: 'VolumeBackendAPIException',
      message: expect.stringContaining('Terminate volume connection failed: Failed to detach iSCSI target for volume'),
    });
  });

  it('never exported (NULL provider_location): no command at all', async () => {
    const v = await volume({ status: 'in-use' });
    exec.calls = [];
    await manager.terminateConnection(ctx, v.id, CONNECTOR);
    expect(exec.calls).toEqual([]);
  });
});

describe('detach_volume (spec 2.3)', () => {
  it('removes the export, soft-deletes the attachment, recomputes the status, drops attached_mode', async () => {
    const { volume: v, attachment } = await attached();
    await dbapi.volumeConditionalUpdate(db, v.id, { status: 'detaching' }, { status: 'in-use' });
    exec.calls = [];
    logLines.length = 0;
    await manager.detachVolume(ctx, v.id, attachment.id, await dbapi.volumeGetOrThrow(db, v.id));
    expect(exec.lines()).toEqual(['cinder-rtstool get-targets', `cinder-rtstool delete ${IQN(v.id)}`, 'cinder-rtstool save']);
    const after = await dbapi.volumeGetOrThrow(db, v.id);
    expect(after).toMatchObject({ status: 'available', attach_status: 'detached' });
    expect(after.admin_metadata).toEqual({ readonly: 'False' });
    const a = db.t.volumeAttachment;
    const [row] = await db.run((q) => q.select().from(a).where(eq(a.id, attachment.id)));
    expect(row).toMatchObject({ deleted: true, attach_status: 'detached' });
    expect(notifications()).toEqual(['volume.detach.start', 'volume.detach.end']);
  });

  it('unknown attachment id: only finish_detach (back to in-use), no driver call, no notification', async () => {
    const { volume: v } = await attached();
    await dbapi.volumeConditionalUpdate(db, v.id, { status: 'detaching' }, { status: 'in-use' });
    exec.calls = [];
    logLines.length = 0;
    await manager.detachVolume(ctx, v.id, randomUUID());
    expect(exec.calls).toEqual([]);
    expect(await dbapi.volumeGetOrThrow(db, v.id)).toMatchObject({ status: 'in-use', attach_status: 'attached' });
    expect((await dbapi.volumeGetOrThrow(db, v.id)).admin_metadata).toEqual({ readonly: 'False' });
    expect(notifications()).toEqual([]);
  });

  it('no attachment id and no attachments: available/detached, unconditionally', async () => {
    const v = await volume({ status: 'detaching', attach_status: 'attached' });
    await manager.detachVolume(ctx, v.id, null);
    expect(await dbapi.volumeGetOrThrow(db, v.id)).toMatchObject({ status: 'available', attach_status: 'detached' });
  });

  it('no attachment id with two attachments: InvalidVolume and no change', async () => {
    const v = await volume({ status: 'in-use', attach_status: 'attached', multiattach: true });
    await manager.attachVolume(ctx, v.id, randomUUID(), null, '/dev/vdb', 'rw');
    await manager.attachVolume(ctx, v.id, randomUUID(), null, '/dev/vdb', 'rw');
    await expect(manager.detachVolume(ctx, v.id, null)).rejects.toMatchObject({
      message: 'Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.',
    });
    expect((await dbapi.volumeGetOrThrow(db, v.id)).volume_attachment).toHaveLength(2);
  });

  it('a failing rtstool delete: RemoveExportException, attachment still attached, volume still detaching', async () => {
    const { volume: v, attachment } = await attached();
    await dbapi.volumeConditionalUpdate(db, v.id, { status: 'detaching' }, { status: 'in-use' });
    exec.fail('cinder-rtstool delete', 1);
    await expect(manager.detachVolume(ctx, v.id, attachment.id)).rejects.toMatchObject({
      name: 'RemoveExportException',
      message: expect.stringContaining(`Failed to remove export for volume ${v.id}: Failed to remove iscsi target for volume ${v.id}.`),
    });
    expect(await dbapi.volumeGetOrThrow(db, v.id)).toMatchObject({ status: 'detaching', attach_status: 'attached' });
    expect(await dbapi.attachmentGet(db, attachment.id)).toMatchObject({ attach_status: 'attached' });
    // the retried detach converges
    await manager.detachVolume(ctx, v.id, attachment.id);
    expect(await dbapi.volumeGetOrThrow(db, v.id)).toMatchObject({ status: 'available', attach_status: 'detached' });
  });

  it('driver not initialized: attachment error_detaching, DriverNotInitialized', async () => {
    const { volume: v, attachment } = await attached();
    driver.initialized = false;
    await expect(manager.detachVolume(ctx, v.id, attachment.id)).rejects.toMatchObject({ name: 'DriverNotInitialized' });
    const a = db.t.volumeAttachment;
    expect((await db.run((q) => q.select().from(a).where(eq(a.id, attachment.id))))[0].attach_status).toBe('error_detaching');
  });

  it('export already gone out of band: detach still converges', async () => {
    const { volume: v, attachment } = await attached();
    exec.targets.clear();
    exec.calls = [];
    await manager.detachVolume(ctx, v.id, attachment.id);
    expect(exec.lines()).toEqual(['cinder-rtstool get-targets']);
    expect((await dbapi.volumeGetOrThrow(db, v.id)).status).toBe('available');
  });
});

describe('init_host', () => {
  it('a driver that fails to set up is retried reinit_driver_count times after 1, 2, 4 s; then it answers DriverNotInitialized', async () => {
    /** A new driver and manager on `ex`; each wait is recorded, then `onWait` runs. */
    const fresh = async (ex: FakeExecutor, onWait: (n: number) => void = () => {}) => {
      const d = await lvmDriver(dir, ex);
      const waits: number[] = [];
      const sleep = async (ms: number) => {
        waits.push(ms);
        onWait(waits.length);
      };
      const m = lvmManager(dir, { db, driver: d, sleep });
      return { d, m, waits };
    };
    const gone = new FakeExecutor();
    gone.vgExists = false;
    const a = await fresh(gone);
    await a.m.initHost();
    expect(a.waits).toEqual([1000, 2000, 4000]);
    expect(a.d.initialized).toBe(false);
    await expect(a.m.terminateConnection(ctx, (await volume()).id, CONNECTOR)).rejects.toMatchObject({ name: 'DriverNotInitialized' });

    // the VG shows up during the second wait: that retry succeeds
    const late = new FakeExecutor();
    late.vgExists = false;
    const b = await fresh(late, (n) => {
      if (n === 2) late.vgExists = true;
    });
    await b.m.initHost();
    expect(b.waits).toEqual([1000, 2000]);
    expect(b.d.initialized).toBe(true);
  });
});

describe('usage notifications (volume_utils._usage_from_volume)', () => {
  const payloads = (event: string) => loggedNotifications(logLines).filter((n) => n.event_type === event).map((n) => n.payload as Record<string, any>);

  it("host is the volume's host@backend#pool, dates are isoformat, metadata [{key, value}], the attachment rows as to_primitive renders them", async () => {
    const { volume: v } = await attached();
    const [p] = payloads('volume.attach.end');
    expect(v.created_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    // datetime.isoformat(): microseconds only when there are any
    const created = `${v.created_at!.replace(' ', 'T').replace(/\.000000$/, '')}+00:00`;
    expect(p).toMatchObject({ host: 'node1@lvm#lvm', volume_id: v.id, created_at: created, status: 'in-use', metadata: [] });
    expect(p.launched_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/); // unset: utcnow(), naive
    expect(p.volume_attachment).toHaveLength(1);
    expect(p.volume_attachment[0]).toMatchObject({ volume_id: v.id, attach_status: 'attached', mountpoint: '/dev/vdb' });
    // Every column of the row (the legacy attach path stores no connection_info: null).
    expect(p.volume_attachment[0]).toMatchObject({ connection_info: null, connector: null, deleted: false });
    expect(p.volume_attachment[0].attach_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(p.volume_attachment[0].volume).toMatchObject({ id: v.id, host: 'node1@lvm#lvm' });
    expect(JSON.stringify(p)).not.toMatch(/"auth_password": "(?!\*\*\*)/);
  });

  it('delete.end carries the destroyed object (status deleted, no attachments); unmanage and temporary volumes differ', async () => {
    const v = await volume({ status: 'deleting' });
    await manager.deleteVolume(ctx, v);
    expect(payloads('volume.delete.start').map((p) => p.status)).toEqual(['deleting']);
    expect(payloads('volume.delete.end').map((p) => [p.status, p.volume_attachment])).toEqual([['deleted', []]]);
    const u = await volume({ status: 'unmanaging' });
    await manager.deleteVolume(ctx, u, true);
    expect(notifications().filter((e) => String(e).startsWith('volume.unmanage'))).toEqual(['volume.unmanage.start', 'volume.unmanage.end']);
    const t = await volume({ status: 'deleting' });
    await dbapi.adminMetadataSet(db, t.id, { temporary: 'True' });
    const before = notifications().length;
    await manager.deleteVolume(ctx, await dbapi.volumeGetOrThrow(db, t.id));
    expect(await dbapi.volumeGet(db, t.id)).toBeNull();
    expect(notifications().length).toBe(before);
  });
});

describe('workers: cleanable work survives a crash (CleanableManager)', () => {
  const workerRows = () => db.run((q) => q.select().from(db.t.workers));
  /** The volume's LV and its device node exist, so delete clears and removes it. */
  const withLv = (id: string) => {
    exec.lvs.set(`volume-${id}`, '-wi-a-----');
    exec.devices.add(`/dev/mapper/cinder--volumes-volume--${id.replace(/-/g, '--')}`);
  };
  /** A services row, as the volume service's first heartbeat writes it. */
  const serviceRow = async () =>
    (await dbapi.serviceReport(db, { host: 'node1@lvm', binary: 'cinder-volume', topic: 'cinder-volume', availability_zone: 'nova', rpc: '3.18', objects: '1.39' })).id;
  /** A second manager on the same DB and executor: what a restarted cinder-volume runs. */
  const restarted = async (serviceId: number | null) => {
    const m = lvmManager(dir, { db, driver });
    m.serviceId = serviceId;
    await m.initHost();
    return m;
  };

  it('create and delete leave no row behind, whether they succeed or fail', async () => {
    manager.serviceId = await serviceRow();
    const v = await volume({ status: 'creating' });
    await manager.createVolume(ctx, v);
    exec.fail('env LC_ALL=C lvcreate');
    const bad = await volume({ status: 'creating' });
    await manager.createVolume(ctx, bad);
    expect((await dbapi.volumeGetOrThrow(db, bad.id)).status).toBe('error');
    withLv(v.id);
    exec.fail('lvremove');
    await dbapi.volumeUpdate(db, v.id, { status: 'deleting' });
    await manager.deleteVolume(ctx, await dbapi.volumeGetOrThrow(db, v.id));
    expect((await dbapi.volumeGetOrThrow(db, v.id)).status).toBe('error_deleting');
    expect(await workerRows()).toEqual([]);
  });

  it('a driver create failure is a user message (_create_raw_volume: CREATE_VOLUME_FROM_BACKEND, DRIVER_FAILED_CREATE)', async () => {
    const m = lvmManager(dir, { db, driver, messages: new MessageApi(db, pino({ level: 'silent' })) });
    await m.initHost();
    exec.fail('env LC_ALL=C lvcreate');
    const bad = await volume({ status: 'creating' });
    await m.createVolume(ctx, bad);
    expect((await dbapi.volumeGetOrThrow(db, bad.id)).status).toBe('error');
    const msgs = await messageGetAll(db, { projectId: null, filters: { resource_uuid: bad.id } });
    expect(msgs).toMatchObject([{ project_id: 'p1', event_id: 'VOLUME_VOLUME_008_012', action_id: '008', detail_id: '012' }]);
  });

  it('while the work runs the row names this service and the status', async () => {
    manager.serviceId = await serviceRow();
    const v = await volume({ status: 'deleting' });
    withLv(v.id);
    // onCall is synchronous: the read is queued on the DB as lvremove runs, ahead of the manager's
    // next statement, so it sees the rows as the command does.
    let seen: Promise<unknown[]> = Promise.resolve([]);
    exec.onCall = (argv) => {
      if (argv.includes('lvremove')) seen = workerRows().then((rows) => rows.map((w) => [w.resource_type, w.resource_id, w.status, w.service_id]));
    };
    await manager.deleteVolume(ctx, v);
    expect(await seen).toEqual([['Volume', v.id, 'deleting', manager.serviceId]]);
    expect(await workerRows()).toEqual([]);
  });

  it("at start-up this service's rows are finished: deleting → deleted, creating → error, mismatches dropped", async () => {
    const sid = await serviceRow();
    const other = db.insertId(
      await db.run((q) => q.insert(db.t.services).values({ host: 'node2@lvm', binary: 'cinder-volume', deleted: false, report_count: 1 })),
    );
    const deleting = await volume({ status: 'deleting' });
    const creating = await volume({ status: 'creating' });
    const movedOn = await volume({ status: 'available' });
    const elsewhere = await volume({ status: 'deleting' });
    withLv(deleting.id);
    for (const [v, status, service] of [[deleting, 'deleting', sid], [creating, 'creating', sid], [movedOn, 'creating', sid], [elsewhere, 'deleting', other]] as const) {
      await dbapi.workerSet(db, v.id, status, service);
    }
    exec.calls = [];
    await restarted(sid);
    expect(await dbapi.volumeGet(db, deleting.id)).toBeNull();
    expect(exec.lines().some((l) => l.startsWith('lvremove') && l.endsWith(`cinder-volumes/volume-${deleting.id}`))).toBe(true);
    expect((await dbapi.volumeGetOrThrow(db, creating.id)).status).toBe('error');
    expect((await dbapi.volumeGetOrThrow(db, movedOn.id)).status).toBe('available');
    expect((await dbapi.volumeGetOrThrow(db, elsewhere.id)).status).toBe('deleting');
    expect((await workerRows()).map((w) => w.resource_id)).toEqual([elsewhere.id]);
  });

  it('a cleanup that fails keeps the row for the next start; a first start (no service row) cleans nothing', async () => {
    const sid = await serviceRow();
    const v = await volume({ status: 'deleting' });
    withLv(v.id);
    await dbapi.workerSet(db, v.id, 'deleting', sid);
    await restarted(null);
    expect((await dbapi.volumeGetOrThrow(db, v.id)).status).toBe('deleting');
    exec.fail('lvremove');
    await restarted(sid);
    // delete_volume itself failed into error_deleting: its worker row went with it
    expect((await dbapi.volumeGetOrThrow(db, v.id)).status).toBe('error_deleting');
    expect(await workerRows()).toEqual([]);
  });
});

describe('create/delete', () => {
  it('create adds the pool to host and makes the volume available; delete removes the LV and soft-deletes', async () => {
    const v = await volume({ status: 'creating', host: 'node1@lvm' });
    await manager.createVolume(ctx, v);
    const row = await dbapi.volumeGetOrThrow(db, v.id);
    // LVM does not share targets; service_uuid is this service's row (none registered here yet)
    expect(row).toMatchObject({ status: 'available', host: 'node1@lvm#lvm', shared_targets: false, service_uuid: null });
    expect(row.launched_at).not.toBeNull();
    manager.serviceUuid = randomUUID();
    const w = await volume({ status: 'creating', host: 'node1@lvm' });
    await manager.createVolume(ctx, w);
    expect((await dbapi.volumeGetOrThrow(db, w.id)).service_uuid).toBe(manager.serviceUuid);
    expect(exec.lines()).toContain(`env LC_ALL=C lvcreate -n volume-${v.id} cinder-volumes -L 1g`);
    await dbapi.volumeUpdate(db, v.id, { status: 'deleting' });
    // the LV's device node, which the clear (dd) needs
    exec.devices.add(`/dev/mapper/cinder--volumes-volume--${v.id.replace(/-/g, '--')}`);
    await manager.deleteVolume(ctx, await dbapi.volumeGetOrThrow(db, v.id));
    expect(await dbapi.volumeGet(db, v.id)).toBeNull();
    expect(exec.lines().some((l) => l.startsWith('dd if=/dev/zero of=/dev/mapper/'))).toBe(true);
    expect(exec.lines().some((l) => l.startsWith('lvremove') && l.endsWith(`cinder-volumes/volume-${v.id}`))).toBe(true);
  });

  it('a failing lvremove leaves error_deleting', async () => {
    const v = await volume();
    await manager.createVolume(ctx, v);
    exec.fail('lvremove');
    exec.fail('env LC_ALL=C lvremove');
    await manager.deleteVolume(ctx, await dbapi.volumeGetOrThrow(db, v.id));
    expect((await dbapi.volumeGetOrThrow(db, v.id)).status).toBe('error_deleting');
  });
});
