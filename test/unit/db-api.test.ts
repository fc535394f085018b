// The DB layer against a real database, on both engines (a SQLite file; a MariaDB database on the
// run's server): conditional updates are one statement and report matches; volume_detached
// recomputes statuses as Cinder's _get_statuses_from_attachments does.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { dbNow, type Db } from '../../src/db/client.js';
import * as dbapi from '../../src/db/api.js';
import type { volumes } from '../../src/db/schema.js';
import { DB_ENGINES, openFreshDb } from '../support/db.js';

describe.each(DB_ENGINES)('%s', (engine) => {
  let db: Db;

  /** A fresh database for the enclosing suite. */
  function useFreshDb() {
    let handle: Awaited<ReturnType<typeof openFreshDb>> | undefined;
    beforeAll(async () => {
      handle = await openFreshDb(engine);
      db = handle.db;
    });
    afterAll(async () => {
      await handle?.remove();
    });
  }

  function newVolume(over: Partial<typeof volumes.$inferInsert> = {}) {
    return dbapi.volumeCreate(db, {
      id: randomUUID(), volume_type_id: '6d3a2b1c-0f9e-4d8c-b7a6-5e4d3c2b1a09',
      project_id: 'p1',
      user_id: 'u1',
      size: 1,
      status: 'available',
      attach_status: 'detached',
      host: 'h@lvm#LVM',
      ...over,
    });
  }

  async function addAttachment(volumeId: string, attach_status: string) {
    const id = randomUUID();
    await db.run((q) => q.insert(db.t.volumeAttachment).values({ id, volume_id: volumeId, attach_status, deleted: false }));
    return id;
  }

  async function attachmentRow(id: string) {
    const a = db.t.volumeAttachment;
    return (await db.run((q) => q.select().from(a).where(eq(a.id, id))))[0];
  }

  async function volumeRow(id: string) {
    const v = db.t.volumes;
    return (await db.run((q) => q.select().from(v).where(eq(v.id, id))))[0];
  }

  describe('errors', () => {
    useFreshDb();

    it("a failed statement's error leaves the db layer without the statement's parameters (a CHAP secret)", async () => {
      const v = await newVolume({ provider_auth: 'CHAP user1 s3cretChapPassw0rd' });
      const again = newVolume({ id: v.id, provider_auth: 'CHAP user1 s3cretChapPassw0rd' });
      const err = await again.then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(Error);
      expect(`${err!.message} ${String(err)}`).not.toContain('s3cretChapPassw0rd');
      expect(err!.message).toMatch(/UNIQUE|Duplicate/i);
    });
  });

  describe('volumeConditionalUpdate', () => {
    useFreshDb();

    it('updates only when every expected value matches, and bumps updated_at', async () => {
      const v = await newVolume({ status: 'in-use', attach_status: 'attached' });
      const expected = { status: 'in-use', attach_status: 'attached', migration_status: [null, 'deleting', 'error', 'success'] } as const;
      expect(await dbapi.volumeConditionalUpdate(db, v.id, { status: 'detaching' }, expected)).toBe(true);
      const row = (await dbapi.volumeGet(db, v.id))!;
      expect(row.status).toBe('detaching');
      expect(row.updated_at).not.toBeNull();
      // a second begin_detaching finds nothing to update
      expect(await dbapi.volumeConditionalUpdate(db, v.id, { status: 'detaching' }, expected)).toBe(false);
    });

    it('treats a migrating volume as not matching the not-migrating list', async () => {
      const v = await newVolume({ status: 'in-use', attach_status: 'attached', migration_status: 'migrating' });
      expect(
        await dbapi.volumeConditionalUpdate(db, v.id, { status: 'detaching' }, { migration_status: [null, 'deleting', 'error', 'success'] }),
      ).toBe(false);
      expect((await dbapi.volumeGet(db, v.id))!.status).toBe('in-use');
    });

    it('Not(value) counts NULL as different', async () => {
      const v = await newVolume({ attach_status: null });
      expect(await dbapi.volumeConditionalUpdate(db, v.id, { status: 'deleting' }, { attach_status: new dbapi.Not('attached') })).toBe(true);
      const w = await newVolume({ attach_status: 'attached' });
      expect(await dbapi.volumeConditionalUpdate(db, w.id, { status: 'deleting' }, { attach_status: new dbapi.Not('attached') })).toBe(false);
    });

    it('never touches a soft-deleted row', async () => {
      const v = await newVolume();
      await dbapi.volumeDestroy(db, v.id);
      expect(await dbapi.volumeConditionalUpdate(db, v.id, { status: 'attaching' }, { status: 'deleted' })).toBe(false);
    });

    it('unreserve CASE: in-use with a live non-detached attachment, else available', async () => {
      const a = await newVolume({ status: 'attaching' });
      await addAttachment(a.id, 'attaching');
      expect(await dbapi.volumeConditionalUpdate(db, a.id, { status: dbapi.STATUS_FROM_LIVE_ATTACHMENTS }, { status: 'attaching' })).toBe(true);
      expect((await dbapi.volumeGet(db, a.id))!.status).toBe('in-use');
      const b = await newVolume({ status: 'attaching' });
      expect(await dbapi.volumeConditionalUpdate(db, b.id, { status: dbapi.STATUS_FROM_LIVE_ATTACHMENTS }, { status: 'attaching' })).toBe(true);
      expect((await dbapi.volumeGet(db, b.id))!.status).toBe('available');
    });

    it('a row that matches but whose values are already the ones set still counts as matched (CLIENT_FOUND_ROWS)', async () => {
      const v = await newVolume({ status: 'available' });
      // A plain UPDATE setting a column to its own value: one row matched, none changed.
      const vt = db.t.volumes;
      expect(db.matched(await db.run((q) => q.update(vt).set({ status: 'available' }).where(eq(vt.id, v.id))))).toBe(1);
      // conditional_update sets updated_at=now as well: with the clock held still, the second
      // update writes exactly what the row already holds (on MariaDB, whose DATETIME keeps whole
      // seconds, and on SQLite alike).
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(new Date('2030-01-02T03:04:05.000Z'));
        expect(await dbapi.volumeConditionalUpdate(db, v.id, { status: 'available' }, { status: 'available' })).toBe(true);
        const before = await volumeRow(v.id);
        expect(before.updated_at?.slice(0, 19)).toBe(dbNow().slice(0, 19));
        expect(await dbapi.volumeConditionalUpdate(db, v.id, { status: 'available' }, { status: 'available' })).toBe(true);
        // nothing changed: a changed-rows count would have been 0
        expect(await volumeRow(v.id)).toEqual(before);
      } finally {
        vi.useRealTimers();
      }
      // and a row that does not match still reports no match
      expect(await dbapi.volumeConditionalUpdate(db, v.id, { status: 'available' }, { status: 'in-use' })).toBe(false);
    });
  });

  describe('volumeDetached / finishDetach', () => {
    useFreshDb();

    it('one attachment: available/detached, row soft-deleted with detach_time', async () => {
      const v = await newVolume({ status: 'detaching', attach_status: 'attached' });
      const att = await addAttachment(v.id, 'attached');
      const r = await dbapi.volumeDetached(db, v.id, att);
      expect(r.volumeUpdates).toEqual({ attach_status: 'detached', status: 'available' });
      expect(r.attachmentUpdates).toMatchObject({ attach_status: 'detached', deleted: true });
      const row = await attachmentRow(att);
      expect(row.deleted).toBe(true);
      expect(row.detach_time).not.toBeNull();
      expect(row.deleted_at).not.toBeNull();
      expect(await dbapi.attachmentGet(db, att)).toBeNull();
    });

    it('two attachments, detach one: in-use/attached', async () => {
      const v = await newVolume({ status: 'detaching', attach_status: 'attached', multiattach: true });
      const a1 = await addAttachment(v.id, 'attached');
      await addAttachment(v.id, 'attached');
      expect((await dbapi.volumeDetached(db, v.id, a1)).volumeUpdates).toEqual({ attach_status: 'attached', status: 'in-use' });
    });

    it('unknown attachment id while detaching with one attached row rolls back to in-use', async () => {
      const v = await newVolume({ status: 'detaching', attach_status: 'attached' });
      await addAttachment(v.id, 'attached');
      const r = await dbapi.volumeDetached(db, v.id, randomUUID());
      expect(r.attachmentUpdates).toBeNull();
      expect((await dbapi.volumeGet(db, v.id))!.status).toBe('in-use');
    });

    it('alphabetical precedence and error rows ignored', async () => {
      const v = await newVolume({ status: 'detaching', attach_status: 'attached' });
      const a = await addAttachment(v.id, 'attached');
      await addAttachment(v.id, 'reserved');
      await addAttachment(v.id, 'error_detaching');
      expect((await dbapi.volumeDetached(db, v.id, a)).volumeUpdates).toEqual({ attach_status: 'reserved', status: 'reserved' });
    });

    it('leaves the status of an uploading volume alone when the last attachment goes', async () => {
      const v = await newVolume({ status: 'uploading', attach_status: 'attached' });
      const a = await addAttachment(v.id, 'attached');
      expect((await dbapi.volumeDetached(db, v.id, a)).volumeUpdates).toEqual({ attach_status: 'detached' });
      expect((await dbapi.volumeGet(db, v.id))!.status).toBe('uploading');
    });

    it('finishDetach always soft-deletes attached_mode without touching updated_at', async () => {
      const v = await newVolume({ status: 'detaching', attach_status: 'attached', multiattach: true });
      await dbapi.adminMetadataSet(db, v.id, { readonly: 'False', attached_mode: 'rw' });
      const a1 = await addAttachment(v.id, 'attached');
      await addAttachment(v.id, 'attached');
      const md = db.t.volumeAdminMetadata;
      const [before] = await db.run((q) =>
        q
          .select()
          .from(md)
          .where(and(eq(md.volume_id, v.id), eq(md.key, 'attached_mode'))),
      );
      const after = await dbapi.finishDetach(db, v.id, a1);
      expect(after.admin_metadata).toEqual({ readonly: 'False' });
      expect(after.status).toBe('in-use');
      const [row] = await db.run((q) => q.select().from(md).where(eq(md.id, before.id)));
      expect(row.deleted).toBe(true);
      expect(row.updated_at).toBe(before.updated_at);
    });
  });

  describe('volumeAttached', () => {
    useFreshDb();

    it('marks attachment and volume attached; a non-uuid instance raises InvalidUUID', async () => {
      const v = await newVolume({ status: 'attaching' });
      const att = await dbapi.beginAttach(db, v.id, 'rw');
      expect((await dbapi.volumeGet(db, v.id))!.admin_metadata.attached_mode).toBe('rw');
      const inst = randomUUID();
      const r = await dbapi.volumeAttached(db, att.id, inst, null, '/dev/vdb', 'rw');
      expect(r.attachment).toMatchObject({ attach_status: 'attached', instance_uuid: inst, mountpoint: '/dev/vdb', attach_mode: 'rw' });
      expect(r.volume).toMatchObject({ status: 'in-use', attach_status: 'attached' });
      await expect(dbapi.volumeAttached(db, att.id, 'not-a-uuid', null, '/dev/vdb', 'rw')).rejects.toThrow(
        'Expected a UUID but received not-a-uuid.',
      );
    });

    it('volumeAttached takes every instance id oslo calls uuid-like (dashless, braced, urn:, uuid:)', async () => {
      const v = await newVolume();
      for (const inst of ['0d9c8b7a6f5e4d3c9b2a1f0e9d8c7b6a', '{0D9C8B7A-6F5E-4D3C-9B2A-1F0E9D8C7B6A}', `urn:${randomUUID()}`, `uuid:${randomUUID()}`]) {
        const att = await dbapi.beginAttach(db, v.id, 'rw');
        if (engine === 'mysql' && inst.length > 36) {
          // instance_uuid is String(36) in Cinder's models: MariaDB in oslo.db's TRADITIONAL mode
          // refuses the longer forms (DBDataError, a 500 in Cinder) and the transaction changes nothing.
          await expect(dbapi.volumeAttached(db, att.id, inst, null, '/dev/vdb', 'rw')).rejects.toThrow();
          expect((await dbapi.attachmentGet(db, att.id))!.attach_status).toBe('attaching');
          continue;
        }
        expect((await dbapi.volumeAttached(db, att.id, inst, null, '/dev/vdb', 'rw')).attachment.instance_uuid).toBe(inst);
      }
    });
  });

  describe('attachmentUpdate', () => {
    useFreshDb();

    it('stores connector and connection_info as oslo jsonutils.dumps writes them', async () => {
      const v = await newVolume();
      const a = await addAttachment(v.id, 'attaching');
      await dbapi.attachmentUpdate(db, a, {
        connector: { initiator: 'iqn.1994-05.com.redhat:c1', multipath: false, mountpoint: null },
        connection_info: { driver_volume_type: 'iscsi', data: { target_lun: 0 } },
      });
      const row = await attachmentRow(a);
      expect(row.connector).toBe('{"initiator": "iqn.1994-05.com.redhat:c1", "multipath": false, "mountpoint": null}');
      expect(row.connection_info).toBe('{"driver_volume_type": "iscsi", "data": {"target_lun": 0}}');
      expect((await dbapi.attachmentGet(db, a))!.connector).toEqual({ initiator: 'iqn.1994-05.com.redhat:c1', multipath: false, mountpoint: null });
    });
  });

  describe('volumeDestroy', () => {
    useFreshDb();

    it('soft-deletes the volume and everything hanging off it', async () => {
      const v = await newVolume();
      await dbapi.adminMetadataSet(db, v.id, { readonly: 'False' });
      await dbapi.volumeDestroy(db, v.id);
      expect(await dbapi.volumeGet(db, v.id)).toBeNull();
      const row = await volumeRow(v.id);
      expect(row).toMatchObject({ status: 'deleted', deleted: true, migration_status: null });
    });

    it('soft-deletes attachment rows without touching their attach_status (as volume_destroy)', async () => {
      const v = await newVolume();
      const a = await addAttachment(v.id, 'error_detaching');
      await dbapi.volumeDestroy(db, v.id);
      const row = await attachmentRow(a);
      expect(row).toMatchObject({ deleted: true, attach_status: 'error_detaching' });
      expect(row.deleted_at).not.toBeNull();
    });
  });
});
