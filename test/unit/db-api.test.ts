// The DB layer against a real SQLite file: conditional updates are one statement and report
// matches; volume_detached recomputes statuses as Cinder's _get_statuses_from_attachments does.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { openDb, type Db } from '../../src/db/client.js';
import * as dbapi from '../../src/db/api.js';
import { volumeAdminMetadata, volumeAttachment, volumes } from '../../src/db/schema.js';

let dir: string;
let db: Db;

function newVolume(over: Partial<typeof volumes.$inferInsert> = {}) {
  return dbapi.volumeCreate(db, {
    id: randomUUID(),
    project_id: 'p1',
    user_id: 'u1',
    size: 1,
    status: 'available',
    attach_status: 'detached',
    host: 'h@lvm#LVM',
    ...over,
  });
}

function addAttachment(volumeId: string, attach_status: string) {
  const id = randomUUID();
  db.insert(volumeAttachment).values({ id, volume_id: volumeId, attach_status, deleted: false }).run();
  return id;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-db-'));
  db = openDb(`sqlite:///${dir}/cinder.sqlite`);
});
afterEach(() => {
  db.$client.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('volumeConditionalUpdate', () => {
  it('updates only when every expected value matches, and bumps updated_at', () => {
    const v = newVolume({ status: 'in-use', attach_status: 'attached' });
    const expected = { status: 'in-use', attach_status: 'attached', migration_status: [null, 'deleting', 'error', 'success'] } as const;
    expect(dbapi.volumeConditionalUpdate(db, v.id, { status: 'detaching' }, expected)).toBe(true);
    const row = dbapi.volumeGet(db, v.id)!;
    expect(row.status).toBe('detaching');
    expect(row.updated_at).not.toBeNull();
    // a second begin_detaching finds nothing to update
    expect(dbapi.volumeConditionalUpdate(db, v.id, { status: 'detaching' }, expected)).toBe(false);
  });

  it('treats a migrating volume as not matching the not-migrating list', () => {
    const v = newVolume({ status: 'in-use', attach_status: 'attached', migration_status: 'migrating' });
    expect(
      dbapi.volumeConditionalUpdate(db, v.id, { status: 'detaching' }, { migration_status: [null, 'deleting', 'error', 'success'] }),
    ).toBe(false);
    expect(dbapi.volumeGet(db, v.id)!.status).toBe('in-use');
  });

  it('Not(value) counts NULL as different', () => {
    const v = newVolume({ attach_status: null });
    expect(dbapi.volumeConditionalUpdate(db, v.id, { status: 'deleting' }, { attach_status: new dbapi.Not('attached') })).toBe(true);
    const w = newVolume({ attach_status: 'attached' });
    expect(dbapi.volumeConditionalUpdate(db, w.id, { status: 'deleting' }, { attach_status: new dbapi.Not('attached') })).toBe(false);
  });

  it('never touches a soft-deleted row', () => {
    const v = newVolume();
    dbapi.volumeDestroy(db, v.id);
    expect(dbapi.volumeConditionalUpdate(db, v.id, { status: 'attaching' }, { status: 'deleted' })).toBe(false);
  });

  it('unreserve CASE: in-use with a live non-detached attachment, else available', () => {
    const a = newVolume({ status: 'attaching' });
    addAttachment(a.id, 'attaching');
    expect(dbapi.volumeConditionalUpdate(db, a.id, { status: dbapi.STATUS_FROM_LIVE_ATTACHMENTS }, { status: 'attaching' })).toBe(true);
    expect(dbapi.volumeGet(db, a.id)!.status).toBe('in-use');
    const b = newVolume({ status: 'attaching' });
    expect(dbapi.volumeConditionalUpdate(db, b.id, { status: dbapi.STATUS_FROM_LIVE_ATTACHMENTS }, { status: 'attaching' })).toBe(true);
    expect(dbapi.volumeGet(db, b.id)!.status).toBe('available');
  });
});

describe('volumeDetached / finishDetach', () => {
  it('one attachment: available/detached, row soft-deleted with detach_time', () => {
    const v = newVolume({ status: 'detaching', attach_status: 'attached' });
    const att = addAttachment(v.id, 'attached');
    const r = dbapi.volumeDetached(db, v.id, att);
    expect(r.volumeUpdates).toEqual({ attach_status: 'detached', status: 'available' });
    expect(r.attachmentUpdates).toMatchObject({ attach_status: 'detached', deleted: true });
    const row = db.select().from(volumeAttachment).where(eq(volumeAttachment.id, att)).get()!;
    expect(row.deleted).toBe(true);
    expect(row.detach_time).not.toBeNull();
    expect(row.deleted_at).not.toBeNull();
    expect(dbapi.attachmentGet(db, att)).toBeNull();
  });

  it('two attachments, detach one: in-use/attached', () => {
    const v = newVolume({ status: 'detaching', attach_status: 'attached', multiattach: true });
    const a1 = addAttachment(v.id, 'attached');
    addAttachment(v.id, 'attached');
    expect(dbapi.volumeDetached(db, v.id, a1).volumeUpdates).toEqual({ attach_status: 'attached', status: 'in-use' });
  });

  it('unknown attachment id while detaching with one attached row rolls back to in-use', () => {
    const v = newVolume({ status: 'detaching', attach_status: 'attached' });
    addAttachment(v.id, 'attached');
    const r = dbapi.volumeDetached(db, v.id, randomUUID());
    expect(r.attachmentUpdates).toBeNull();
    expect(dbapi.volumeGet(db, v.id)!.status).toBe('in-use');
  });

  it('alphabetical precedence and error rows ignored', () => {
    const v = newVolume({ status: 'detaching', attach_status: 'attached' });
    const a = addAttachment(v.id, 'attached');
    addAttachment(v.id, 'reserved');
    addAttachment(v.id, 'error_detaching');
    expect(dbapi.volumeDetached(db, v.id, a).volumeUpdates).toEqual({ attach_status: 'reserved', status: 'reserved' });
  });

  it('leaves the status of an uploading volume alone when the last attachment goes', () => {
    const v = newVolume({ status: 'uploading', attach_status: 'attached' });
    const a = addAttachment(v.id, 'attached');
    expect(dbapi.volumeDetached(db, v.id, a).volumeUpdates).toEqual({ attach_status: 'detached' });
    expect(dbapi.volumeGet(db, v.id)!.status).toBe('uploading');
  });

  it('finishDetach always soft-deletes attached_mode without touching updated_at', () => {
    const v = newVolume({ status: 'detaching', attach_status: 'attached', multiattach: true });
    dbapi.adminMetadataSet(db, v.id, { readonly: 'False', attached_mode: 'rw' });
    const a1 = addAttachment(v.id, 'attached');
    addAttachment(v.id, 'attached');
    const before = db.select().from(volumeAdminMetadata).where(eq(volumeAdminMetadata.key, 'attached_mode')).get()!;
    const after = dbapi.finishDetach(db, v.id, a1);
    expect(after.admin_metadata).toEqual({ readonly: 'False' });
    expect(after.status).toBe('in-use');
    const md = db.select().from(volumeAdminMetadata).where(eq(volumeAdminMetadata.id, before.id)).get()!;
    expect(md.deleted).toBe(true);
    expect(md.updated_at).toBe(before.updated_at);
  });
});

describe('volumeAttached', () => {
  it('marks attachment and volume attached; a non-uuid instance raises InvalidUUID', () => {
    const v = newVolume({ status: 'attaching' });
    const att = dbapi.beginAttach(db, v.id, 'rw');
    expect(dbapi.volumeGet(db, v.id)!.admin_metadata.attached_mode).toBe('rw');
    const inst = randomUUID();
    const r = dbapi.volumeAttached(db, att.id, inst, null, '/dev/vdb', 'rw');
    expect(r.attachment).toMatchObject({ attach_status: 'attached', instance_uuid: inst, mountpoint: '/dev/vdb', attach_mode: 'rw' });
    expect(r.volume).toMatchObject({ status: 'in-use', attach_status: 'attached' });
    expect(() => dbapi.volumeAttached(db, att.id, 'not-a-uuid', null, '/dev/vdb', 'rw')).toThrow('Expected a UUID but received not-a-uuid.');
  });

  it('volumeAttached takes every instance id oslo calls uuid-like (dashless, braced, urn:, uuid:)', () => {
    const v = newVolume();
    for (const inst of ['0d9c8b7a6f5e4d3c9b2a1f0e9d8c7b6a', '{0D9C8B7A-6F5E-4D3C-9B2A-1F0E9D8C7B6A}', `urn:${randomUUID()}`, `uuid:${randomUUID()}`]) {
      const att = dbapi.beginAttach(db, v.id, 'rw');
      expect(dbapi.volumeAttached(db, att.id, inst, null, '/dev/vdb', 'rw').attachment.instance_uuid).toBe(inst);
    }
  });
});

describe('attachmentUpdate', () => {
  it('stores connector and connection_info as oslo jsonutils.dumps writes them', () => {
    const v = newVolume();
    const a = addAttachment(v.id, 'attaching');
    dbapi.attachmentUpdate(db, a, { connector: { initiator: 'iqn.1994-05.com.redhat:c1', multipath: false, mountpoint: null }, connection_info: { driver_volume_type: 'iscsi', data: { target_lun: 0 } } });
    const row = db.select().from(volumeAttachment).where(eq(volumeAttachment.id, a)).get()!;
    expect(row.connector).toBe('{"initiator": "iqn.1994-05.com.redhat:c1", "multipath": false, "mountpoint": null}');
    expect(row.connection_info).toBe('{"driver_volume_type": "iscsi", "data": {"target_lun": 0}}');
    expect(dbapi.attachmentGet(db, a)!.connector).toEqual({ initiator: 'iqn.1994-05.com.redhat:c1', multipath: false, mountpoint: null });
  });
});

describe('volumeDestroy', () => {
  it('soft-deletes the volume and everything hanging off it', () => {
    const v = newVolume();
    dbapi.adminMetadataSet(db, v.id, { readonly: 'False' });
    dbapi.volumeDestroy(db, v.id);
    expect(dbapi.volumeGet(db, v.id)).toBeNull();
    const row = db.select().from(volumes).where(eq(volumes.id, v.id)).get()!;
    expect(row).toMatchObject({ status: 'deleted', deleted: true, migration_status: null });
  });

  it('soft-deletes attachment rows without touching their attach_status (as volume_destroy)', () => {
    const v = newVolume();
    const a = addAttachment(v.id, 'error_detaching');
    dbapi.volumeDestroy(db, v.id);
    const row = db.select().from(volumeAttachment).where(eq(volumeAttachment.id, a)).get()!;
    expect(row).toMatchObject({ deleted: true, attach_status: 'error_detaching' });
    expect(row.deleted_at).not.toBeNull();
  });
});
