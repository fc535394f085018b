// volume_attachment: volume_attach / volume_attached / volume_detached and the attachments API's
// reads (cinder/db/sqlalchemy/api.py), with Volume.begin_attach / finish_detach on top.
import { and, asc, eq, getTableColumns, isNull, ne, notLike, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { randomUUID } from 'node:crypto';
import type { Db, Q, Tables } from './client.js';
import { dbNow, prepared } from './client.js';
import { volumeAttachment as attachmentColumns, type AttachmentRow } from './schema.js';
import type { Volume, VolumeAttachment } from '../objects/volume.js';
import { isUuidLike } from '../common/uuid.js';
import { pyJsonDumps } from '../common/pyjson.js';
import { InvalidUUID, VolumeAttachmentNotFound, VolumeNotFound } from '../common/exceptions.js';
import { paginate, processSortParams, TIMESTAMP_KINDS, type PageOptions, type PagingKinds } from './pagination.js';
import { toAttachment } from './rows.js';
import { adminMetadataDelete, adminMetadataSet, volumeGetOrThrow } from './volumes.js';

/** volume_attachment_get: live rows only, of any volume (Cinder does not check the volume). */
export async function attachmentGet(db: Db, attachmentId: string): Promise<VolumeAttachment | null> {
  const { volumeAttachment: a } = db.t;
  const [row] = await db.run((q) =>
    prepared(q, 'attachments.get', () =>
      q
        .select()
        .from(a)
        .where(and(eq(a.id, sql.placeholder('id')), eq(a.deleted, false)))
        .limit(1)
        .prepare(),
    ).execute({ id: attachmentId }),
  );
  return row ? toAttachment(row) : null;
}

/** volume_attachment_update: VolumeAttachmentNotFound when no live row has that id. */
export async function attachmentUpdate(
  db: Db,
  attachmentId: string,
  values: Partial<Omit<AttachmentRow, 'connector' | 'connection_info'>> & {
    connector?: unknown;
    connection_info?: unknown;
  },
): Promise<void> {
  const v: Record<string, unknown> = { ...values, updated_at: dbNow() };
  // Written as oslo jsonutils.dumps writes them, so the stored text is the one Cinder would store.
  if ('connector' in values) v.connector = values.connector == null ? null : pyJsonDumps(values.connector);
  if ('connection_info' in values)
    v.connection_info = values.connection_info == null ? null : pyJsonDumps(values.connection_info);
  const { volumeAttachment: a } = db.t;
  // volume_attachment_update: live rows only (model_query's deleted = 0); no match is an error.
  const res = await db.run((q) => q.update(a).set(v).where(and(eq(a.id, attachmentId), eq(a.deleted, false))));
  if (db.matched(res) === 0) throw new VolumeAttachmentNotFound({ filter: `attachment_id = ${attachmentId}` });
}

/** Volume.begin_attach(mode): INSERT an 'attaching' attachment, then admin md attached_mode=mode. */
export async function beginAttach(db: Db, volumeId: string, mode: string): Promise<VolumeAttachment> {
  const id = randomUUID();
  const now = dbNow();
  const { volumeAttachment: a } = db.t;
  await db.tx(async (q) => {
    await q.insert(a).values({ id, volume_id: volumeId, attach_status: 'attaching', created_at: now, deleted: false });
    await adminMetadataSet(db, volumeId, { attached_mode: mode });
  });
  return (await attachmentGet(db, id))!;
}

/**
 * The manager's attach_volume idempotency check: the volume's live (not detached) attachment of
 * this instance, or with no instance of this host (filter_by(attached_host=None) is IS NULL).
 */
export async function attachmentGetLiveOf(
  db: Db,
  volumeId: string,
  by: { instanceUuid: string | null; hostName: string | null },
): Promise<VolumeAttachment | null> {
  const { volumeAttachment: a } = db.t;
  const [row] = await db.run((q) =>
    q
      .select()
      .from(a)
      .where(
        and(
          eq(a.deleted, false),
          eq(a.volume_id, volumeId),
          ne(a.attach_status, 'detached'),
          by.instanceUuid
            ? eq(a.instance_uuid, by.instanceUuid)
            : by.hostName === null
              ? isNull(a.attached_host)
              : eq(a.attached_host, by.hostName),
        ),
      )
      .limit(1),
  );
  return row ? toAttachment(row) : null;
}

/**
 * volume_attached (db/sqlalchemy/api.py): the attachment gets mountpoint, status, instance,
 * host, attach_time, attach_mode; the volume in-use/attached (or attaching/attaching when
 * mark_attached is false, the attachments API). A non-uuid instance raises InvalidUUID.
 */
export async function volumeAttached(
  db: Db,
  attachmentId: string,
  instanceUuid: string | null,
  hostName: string | null,
  mountpoint: string | null,
  attachMode: string | null,
  markAttached = true,
): Promise<{ volume: Volume; attachment: VolumeAttachment }> {
  if (instanceUuid && !isUuidLike(instanceUuid)) throw new InvalidUUID({ uuid: instanceUuid });
  const status = markAttached ? 'attached' : 'attaching';
  const { volumeAttachment: a, volumes } = db.t;
  const volumeId = await db.tx(async (q) => {
    const [att] = await db.forUpdate(q.select().from(a).where(eq(a.id, attachmentId)));
    if (!att) throw new Error(`attachment ${attachmentId} vanished`);
    const now = dbNow();
    await q
      .update(a)
      .set({
        mountpoint,
        attach_status: status,
        instance_uuid: instanceUuid,
        attached_host: hostName,
        attach_time: now,
        attach_mode: attachMode,
        updated_at: now,
      })
      .where(eq(a.id, attachmentId));
    await q
      .update(volumes)
      .set({ status: markAttached ? 'in-use' : 'attaching', attach_status: status, updated_at: now })
      .where(eq(volumes.id, att.volume_id));
    return att.volume_id;
  });
  return { volume: await volumeGetOrThrow(db, volumeId), attachment: (await attachmentGet(db, attachmentId))! };
}

/**
 * _get_statuses_from_attachments: the alphabetically first non-error attach_status among the
 * volume's live attachments (attached > attaching > detaching > reserved), 'detached' if none;
 * status maps attached→in-use, detached→available, else the same string.
 */
async function statusesFromAttachments(q: Q, t: Tables, volumeId: string): Promise<{ attach_status: string; status: string }> {
  const a = t.volumeAttachment;
  const [row] = await q
    .select({ s: a.attach_status })
    .from(a)
    .where(and(eq(a.deleted, false), eq(a.volume_id, volumeId), notLike(a.attach_status, 'error_%')))
    .orderBy(asc(a.attach_status))
    .limit(1);
  const attach_status = row?.s ?? 'detached';
  const status = attach_status === 'attached' ? 'in-use' : attach_status === 'detached' ? 'available' : attach_status;
  return { attach_status, status };
}

export interface DetachedUpdates {
  volumeUpdates: { attach_status: string; status?: string };
  attachmentUpdates: { attach_status: 'detached'; detach_time: string; deleted: true; deleted_at: string } | null;
}

/**
 * volume_detached: one transaction, the volume row locked first (Cinder's SELECT … FOR UPDATE;
 * BEGIN IMMEDIATE on SQLite): soft-delete the attachment if it exists (of any volume), then
 * recompute the volume's statuses from what remains. The status is left alone when the last
 * attachment goes during a migration or upload.
 */
export function volumeDetached(db: Db, volumeId: string, attachmentId: string | null): Promise<DetachedUpdates> {
  const { volumes, volumeAttachment: a } = db.t;
  return db.tx(async (q) => {
    const [vol] = await db.forUpdate(
      q
        .select({ status: volumes.status, migration_status: volumes.migration_status })
        .from(volumes)
        .where(and(eq(volumes.id, volumeId), eq(volumes.deleted, false))),
    );
    if (!vol) throw new VolumeNotFound({ volume_id: volumeId });
    const now = dbNow();
    let attachmentUpdates: DetachedUpdates['attachmentUpdates'] = null;
    if (attachmentId) {
      const res = await q
        .update(a)
        .set({ deleted: true, deleted_at: now, attach_status: 'detached', detach_time: now, updated_at: now })
        .where(and(eq(a.id, attachmentId), eq(a.deleted, false)));
      if (db.matched(res) > 0) {
        attachmentUpdates = { attach_status: 'detached', detach_time: now, deleted: true, deleted_at: now };
      }
    }
    const computed = await statusesFromAttachments(q, db.t, volumeId);
    const volumeUpdates: DetachedUpdates['volumeUpdates'] = { attach_status: computed.attach_status };
    const ms = vol.migration_status;
    if (computed.attach_status !== 'detached' || (!ms && vol.status !== 'uploading') || ms === 'success' || ms === 'error') {
      volumeUpdates.status = computed.status;
    }
    await q
      .update(volumes)
      .set({ ...volumeUpdates, updated_at: now })
      .where(eq(volumes.id, volumeId));
    return { volumeUpdates, attachmentUpdates };
  });
}

/**
 * Volume.finish_detach(attachment_id): volume_detached, then always drop admin md attached_mode
 * (even with other attachments left or an unknown id). Returns the refreshed volume.
 */
export async function finishDetach(db: Db, volumeId: string, attachmentId: string | null): Promise<Volume> {
  // One transaction where Volume.finish_detach commits twice: the same rows in the end, one fsync
  // less per detach, and no reader sees an available volume that still has its attached_mode.
  await db.tx(async () => {
    await volumeDetached(db, volumeId, attachmentId);
    await adminMetadataDelete(db, volumeId, 'attached_mode');
  });
  return volumeGetOrThrow(db, volumeId);
}

/**
 * volume_attach (as _attachment_reserve calls it): INSERT a row {id: uuid4, volume_id,
 * attach_status, instance_uuid}; every other column stays NULL until the API saves the object.
 */
export async function volumeAttach(
  db: Db,
  values: { volume_id: string; attach_status: string; instance_uuid: string | null },
): Promise<VolumeAttachment> {
  const id = randomUUID();
  const { volumeAttachment: a } = db.t;
  await db.run((q) => q.insert(a).values({ id, ...values, created_at: dbNow(), deleted: false }));
  return (await attachmentGet(db, id))!;
}

/**
 * volume_attachment_get_all_by_volume_id: live rows of the volume whose attach_status is not
 * 'detached' (what os-reset_status detaches, and the in-use check counts).
 */
export async function attachmentGetAllByVolumeId(db: Db, volumeId: string): Promise<VolumeAttachment[]> {
  const { volumeAttachment: a } = db.t;
  const rows = await db.run((q) =>
    q
      .select()
      .from(a)
      .where(and(eq(a.volume_id, volumeId), eq(a.deleted, false), sql`${a.attach_status} != 'detached'`))
      .orderBy(asc(a.created_at)),
  );
  return rows.map(toAttachment);
}

type AttachmentColumn = keyof AttachmentRow;
/** The volume_attachment columns a filter may name (is_valid_model_filters on the model). */
export const ATTACHMENT_FILTER_COLUMNS = Object.keys(getTableColumns(attachmentColumns)) as readonly AttachmentColumn[];

export interface AttachmentListOptions extends PageOptions {
  /** Restrict to attachments of this project's volumes (volume_attachment_get_all_by_project). */
  projectId?: string | null;
  /**
   * Column filters, keys from ATTACHMENT_FILTER_COLUMNS: exact (filter_by), or `key~` for
   * `key LIKE '%value%'` (apply_like_filters).
   */
  filters?: Record<string, string>;
  marker?: string | null;
}

const ATTACHMENT_PAGING: PagingKinds = {
  ...TIMESTAMP_KINDS,
  ...Object.fromEntries(
    ['id', 'volume_id', 'attached_host', 'instance_uuid', 'mountpoint', 'attach_mode', 'attach_status'].map((k) => [k, 'string']),
  ),
  attach_time: 'datetime',
  detach_time: 'datetime',
  connection_info: 'none',
  connector: 'none',
};

/**
 * _attachment_get_all through _generate_paginate_query and sqlalchemyutils.paginate_query: live
 * rows, optionally of one project's volumes, exact and LIKE filters, ORDER BY the processed sort
 * keys; a marker is an attachment id (VolumeAttachmentNotFound when it does not exist) and the page
 * starts after it in that order, NULLs compared as their column's default.
 */
export async function attachmentGetAll(db: Db, opts: AttachmentListOptions = {}): Promise<VolumeAttachment[]> {
  // process_sort_params runs before the filters and the marker (a bad direction is a 400 first)
  processSortParams(opts.sortKeys, opts.sortDirs);
  const { volumeAttachment: a } = db.t;
  const where: SQL[] = [eq(a.deleted, false)];
  if (opts.projectId) {
    where.push(sql`EXISTS (SELECT 1 FROM volumes WHERE volumes.id = ${a.volume_id} AND volumes.project_id = ${opts.projectId})`);
  }
  const column = (k: string) => a[k as AttachmentColumn] as SQLiteColumn;
  for (const [k, v] of Object.entries(opts.filters ?? {})) {
    if (k.endsWith('~')) where.push(sql`${column(k.replace(/~+$/, ''))} LIKE ${`%${v}%`}`);
    else where.push(eq(column(k), v));
  }
  const rows = await db.run(async (q) => {
    let marker: AttachmentRow | undefined;
    if (opts.marker !== undefined && opts.marker !== null) {
      [marker] = await q
        .select()
        .from(a)
        .where(and(eq(a.id, opts.marker), eq(a.deleted, false)))
        .limit(1);
      if (!marker) throw new VolumeAttachmentNotFound({ filter: `attachment_id = ${opts.marker}` });
    }
    return paginate<AttachmentRow>(q, a, ATTACHMENT_PAGING, where, marker, opts);
  });
  return rows.map(toAttachment);
}
