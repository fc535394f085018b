// Issue 12's fidelity items beside Cinder 21.3.1, with the real LVM driver, LIO target, locks and
// SQLite (only the command executor is a recording fake):
// - access_mode in connection_info from the admin metadata (volume/manager.py
//   _parse_connection_options: attached_mode, else 'ro' when readonly is 'True', else 'rw'), on
//   initialize_connection and on attachment_update (_connection_create), and attached_mode written
//   by attach_volume (Volume.begin_attach);
// - volume_attachment_update: live rows only, VolumeAttachmentNotFound when none matched;
// - utils.api_clean_volume_file_locks: the API's cinder-attachment_update-<id>-* files;
// - os-reset_status's _remove_worker.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { makeContext } from '../../src/common/context.js';
import { VolumeAttachmentNotFound } from '../../src/common/exceptions.js';
import { LockManager } from '../../src/common/lock.js';
import * as dbapi from '../../src/db/api.js';
import { openDb, type Db } from '../../src/db/client.js';
import { DEFAULT_VOLUME_TYPE, volumeTypeGetByName } from '../../src/db/volume-types.js';
import type { volumes } from '../../src/db/schema.js';
import type { VolumeManager } from '../../src/manager/manager.js';
import type { VolumeRpcApi } from '../../src/rpc/volume-rpcapi.js';
import type { SchedulerRpcApi } from '../../src/rpc/scheduler-rpcapi.js';
import { VolumeAPI } from '../../src/volume-api/api.js';
import { FakeExecutor } from '../support/fake-executor.js';
import { capturingLogger, lvmDriver, lvmManager } from '../support/lvm-manager.js';

const CONNECTOR = { initiator: 'iqn.1994-05.com.redhat:compute1', host: 'compute1', ip: '192.168.0.20' };
const ctx = makeContext({ user_id: 'u1', project_id: 'p1', roles: ['member'] });
const admin = makeContext({ user_id: 'a1', project_id: 'p0', roles: ['admin'], is_admin: true });

let dir: string;
let db: Db;
let manager: VolumeManager;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-fidelity-'));
  db = await openDb(`sqlite:///${dir}/cinder.sqlite`);
  const logger = capturingLogger([]);
  manager = lvmManager(dir, { db, driver: await lvmDriver(dir, new FakeExecutor(), logger) }, logger);
  await manager.initHost();
});
afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

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

describe('access_mode and attached_mode (volume/manager.py)', () => {
  it.each([
    [{}, 'rw'],
    [{ readonly: 'False' }, 'rw'],
    [{ readonly: 'True' }, 'ro'],
    [{ readonly: 'true' }, 'rw'],
    [{ readonly: 'True', attached_mode: 'rw' }, 'rw'],
    [{ readonly: 'False', attached_mode: 'ro' }, 'ro'],
  ])('initialize_connection with admin metadata %j: access_mode %s', async (md, mode) => {
    const v = await volume();
    if (Object.keys(md).length) await dbapi.adminMetadataSet(db, v.id, md);
    const info = (await manager.initializeConnection(ctx, await dbapi.volumeGetOrThrow(db, v.id), CONNECTOR)) as { data: Record<string, unknown> };
    expect(info.data.access_mode).toBe(mode);
  });

  it('attachment_update (_connection_create): readonly True gives access_mode ro', async () => {
    const v = await volume({ status: 'reserved' });
    await dbapi.adminMetadataSet(db, v.id, { readonly: 'True' });
    const a = await dbapi.volumeAttach(db, { volume_id: v.id, attach_status: 'reserved', instance_uuid: randomUUID() });
    const info = await manager.attachmentUpdate(ctx, await dbapi.volumeGetOrThrow(db, v.id), { ...CONNECTOR }, a.id);
    expect(info.access_mode).toBe('ro');
  });

  it('attach_volume writes attached_mode = the mode (begin_attach); a read-only volume attaches ro only', async () => {
    const v = await volume({ status: 'attaching' });
    await dbapi.adminMetadataSet(db, v.id, { readonly: 'True' });
    await expect(manager.attachVolume(ctx, v.id, randomUUID(), null, '/dev/vdb', 'rw')).rejects.toMatchObject({ name: 'InvalidVolumeAttachMode' });
    const w = await volume({ status: 'attaching' });
    await dbapi.adminMetadataSet(db, w.id, { readonly: 'True' });
    await manager.attachVolume(ctx, w.id, randomUUID(), null, '/dev/vdb', 'ro');
    expect((await dbapi.volumeGetOrThrow(db, w.id)).admin_metadata).toEqual({ readonly: 'True', attached_mode: 'ro' });
  });
});

describe('volume_attachment_update (db api)', () => {
  it('updates a live row; an unknown or soft-deleted one is VolumeAttachmentNotFound', async () => {
    const v = await volume();
    const a = await dbapi.volumeAttach(db, { volume_id: v.id, attach_status: 'attaching', instance_uuid: null });
    await dbapi.attachmentUpdate(db, a.id, { attach_status: 'attached' });
    expect((await dbapi.attachmentGet(db, a.id))!.attach_status).toBe('attached');
    const missing = randomUUID();
    await expect(dbapi.attachmentUpdate(db, missing, { attach_status: 'attached' })).rejects.toMatchObject({
      name: 'VolumeAttachmentNotFound',
      message: `Volume attachment could not be found with filter: attachment_id = ${missing}.`,
    });
    await dbapi.volumeDetached(db, v.id, a.id);
    await expect(dbapi.attachmentUpdate(db, a.id, { attach_status: 'error_detaching' })).rejects.toBeInstanceOf(VolumeAttachmentNotFound);
  });
});

describe('the API side of a volume delete and os-reset_status', () => {
  function api(locks?: LockManager) {
    const rpc = { deleteVolume: async () => undefined } as unknown as VolumeRpcApi;
    const scheduler = {} as SchedulerRpcApi;
    return new VolumeAPI({ db, rpc, scheduler, logger: capturingLogger([]), locks });
  }

  it('delete removes cinder-attachment_update-<id>-* and nothing else (with or without a host)', async () => {
    const lockDir = path.join(dir, 'api-locks');
    fs.mkdirSync(lockDir);
    const locks = new LockManager(lockDir);
    const a = await volume();
    const b = await volume({ host: null, status: 'error' });
    const files = [`cinder-attachment_update-${a.id}-compute1`, `cinder-attachment_update-${a.id}-compute2`, `cinder-attachment_update-${b.id}-compute1`, `cinder-${a.id}`];
    for (const f of files) fs.writeFileSync(path.join(lockDir, f), '');
    await api(locks).delete(admin, await dbapi.volumeGetOrThrow(db, a.id));
    expect(fs.readdirSync(lockDir).sort()).toEqual([`cinder-${a.id}`, `cinder-attachment_update-${b.id}-compute1`].sort());
    await api(locks).delete(admin, await dbapi.volumeGetOrThrow(db, b.id));
    expect(fs.readdirSync(lockDir)).toEqual([`cinder-${a.id}`]);
  });

  it('os-reset_status removes the volume\'s workers row (_remove_worker), not another volume\'s', async () => {
    const v = await volume({ status: 'deleting' });
    const other = await volume({ status: 'creating' });
    await db.tx(async (q) => {
      await dbapi.workerSetIn(db, q, v.id, 'deleting', null);
      await dbapi.workerSetIn(db, q, other.id, 'creating', null);
    });
    await api().resetStatus(admin, v.id, { status: 'error' });
    expect((await dbapi.volumeGetOrThrow(db, v.id)).status).toBe('error');
    const { workers } = db.t;
    const rows = await db.run((q) => q.select().from(workers));
    expect(rows.map((r) => r.resource_id)).toEqual([other.id]);
  });
});
