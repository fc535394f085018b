// The DB functions the attach/detach path uses, one per cinder/db/sqlalchemy/api.py function it
// mirrors. Every read filters deleted=0; "delete" is a soft delete. Conditional updates are ONE
// `UPDATE … WHERE` statement (Cinder's conditional_update) and report whether a row matched.
import { and, asc, eq, getTableColumns, inArray, isNull, notLike, or, sql, type SQL } from 'drizzle-orm';
import { isUuidLike } from '../common/uuid.js';
import { pyJsonDumps } from '../common/pyjson.js';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { randomUUID } from 'node:crypto';
import type { Db } from './client.js';
import { dbNow } from './client.js';
import {
  services,
  volumeAdminMetadata,
  volumeAttachment,
  volumeMetadata,
  volumes,
  workers,
  type AttachmentRow,
  type NewVolumeRow,
  type VolumeRow,
} from './schema.js';
import type { Volume, VolumeAttachment } from '../objects/volume.js';
import { parseJsonColumn } from '../objects/volume.js';
import { InvalidInput, InvalidUUID, VolumeAttachmentNotFound, VolumeNotFound } from '../common/exceptions.js';

// ---------------------------------------------------------------------------------------------
// conditional_update's expected-value language (cinder/db/sqlalchemy/api.py _process_expected…)

/** db.Not(v): "different from v", where NULL counts as different unless v contains None. */
export class Not {
  constructor(readonly value: Expected) {}
}
export type Scalar = string | number | boolean | null;
export type Expected = Scalar | readonly Scalar[] | Not;

function condition(col: SQLiteColumn, expected: Expected): SQL {
  if (expected instanceof Not) {
    const v = expected.value;
    if (v === null) return sql`${col} IS NOT NULL`;
    if (Array.isArray(v)) {
      if (v.includes(null)) return sql`NOT (${condition(col, v)})`;
      return sql`(${col} NOT IN ${v} OR ${col} IS NULL)`;
    }
    return sql`(${col} != ${v} OR ${col} IS NULL)`;
  }
  if (expected === null) return isNull(col);
  if (Array.isArray(expected)) {
    const values = expected.filter((v) => v !== null) as (string | number | boolean)[];
    if (expected.includes(null)) return or(isNull(col), ...values.map((v) => eq(col, v)))!;
    return inArray(col, values);
  }
  return eq(col, expected as string | number | boolean);
}

type VolumeColumn = keyof typeof volumes.$inferSelect;

/**
 * objects.Volume.conditional_update(values, expected): UPDATE volumes SET values, updated_at=now
 * WHERE deleted=0 AND id=? AND <expected…> [AND <extra filters>]. True iff a row matched
 * (SQLite's changes() counts matched rows, as Cinder relies on).
 */
export function volumeConditionalUpdate(
  db: Db,
  volumeId: string,
  values: Partial<Record<VolumeColumn, unknown>> | SQLValues,
  expected: Partial<Record<VolumeColumn, Expected>>,
  filters: SQL[] = [],
): boolean {
  const where = [eq(volumes.deleted, false)];
  for (const [k, v] of Object.entries(expected)) {
    where.push(condition(volumes[k as VolumeColumn] as SQLiteColumn, v as Expected));
  }
  where.push(...filters, eq(volumes.id, volumeId));
  const res = db
    .update(volumes)
    .set({ ...(values as Record<string, unknown>), updated_at: dbNow() })
    .where(and(...where))
    .run();
  return res.changes > 0;
}
type SQLValues = Record<string, SQL | unknown>;

/**
 * The unreserve CASE (volume/api.py unreserve_volume): in-use when a live attachment with
 * attach_status != 'detached' exists, else available — evaluated inside the same UPDATE.
 */
export const STATUS_FROM_LIVE_ATTACHMENTS = sql`CASE WHEN EXISTS (SELECT 1 FROM volume_attachment WHERE volume_attachment.volume_id = volumes.id AND volume_attachment.attach_status != 'detached' AND NOT volume_attachment.deleted) THEN 'in-use' ELSE 'available' END`;

// ---------------------------------------------------------------------------------------------
// Reads

function toAttachment(r: AttachmentRow): VolumeAttachment {
  return {
    ...r,
    connector: parseJsonColumn(r.connector),
    connection_info: parseJsonColumn(r.connection_info),
  };
}

function kv(rows: { key: string | null; value: string | null }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) if (r.key !== null) out[r.key] = r.value ?? '';
  return out;
}

function hydrate(db: Db, row: VolumeRow): Volume {
  const atts = db
    .select()
    .from(volumeAttachment)
    .where(and(eq(volumeAttachment.volume_id, row.id), eq(volumeAttachment.deleted, false)))
    .orderBy(asc(volumeAttachment.created_at))
    .all();
  const admin = db
    .select({ key: volumeAdminMetadata.key, value: volumeAdminMetadata.value })
    .from(volumeAdminMetadata)
    .where(and(eq(volumeAdminMetadata.volume_id, row.id), eq(volumeAdminMetadata.deleted, false)))
    .all();
  const meta = db
    .select({ key: volumeMetadata.key, value: volumeMetadata.value })
    .from(volumeMetadata)
    .where(and(eq(volumeMetadata.volume_id, row.id), eq(volumeMetadata.deleted, false)))
    .all();
  return { ...row, volume_attachment: atts.map(toAttachment), admin_metadata: kv(admin), metadata: kv(meta) };
}

/** volume_get: a live volume, optionally restricted to a project (model_query project_only). */
export function volumeGet(db: Db, volumeId: string, opts: { projectId?: string | null } = {}): Volume | null {
  const where = [eq(volumes.id, volumeId), eq(volumes.deleted, false)];
  if (opts.projectId !== undefined && opts.projectId !== null) where.push(eq(volumes.project_id, opts.projectId));
  const row = db.select().from(volumes).where(and(...where)).get();
  return row ? hydrate(db, row) : null;
}

export function volumeGetOrThrow(db: Db, volumeId: string, opts: { projectId?: string | null } = {}): Volume {
  const v = volumeGet(db, volumeId, opts);
  if (!v) throw new VolumeNotFound({ volume_id: volumeId });
  return v;
}

/**
 * volume_get_all / volume_get_all_by_project through _generate_paginate_query: live volumes,
 * optionally of one project, sorted (default created_at desc, id desc); a marker is a volume id
 * (VolumeNotFound when there is no such volume) and the page starts after it.
 */
export function volumeGetAll(db: Db, opts: PageOptions & { projectId?: string | null; marker?: string | null } = {}): Volume[] {
  processSortParams(opts.sortKeys, opts.sortDirs);
  const where: SQL[] = [eq(volumes.deleted, false)];
  if (opts.projectId) where.push(eq(volumes.project_id, opts.projectId));
  let marker: VolumeRow | undefined;
  if (opts.marker !== undefined && opts.marker !== null) {
    marker = db.select().from(volumes).where(and(eq(volumes.id, opts.marker), eq(volumes.deleted, false))).get();
    if (!marker) throw new VolumeNotFound({ volume_id: opts.marker });
  }
  return paginate<VolumeRow>(db, VOLUME_PAGING, where, marker, opts).map((r) => hydrate(db, r));
}

/** volume_attachment_get: live rows only, of any volume (Cinder does not check the volume). */
export function attachmentGet(db: Db, attachmentId: string): VolumeAttachment | null {
  const row = db
    .select()
    .from(volumeAttachment)
    .where(and(eq(volumeAttachment.id, attachmentId), eq(volumeAttachment.deleted, false)))
    .get();
  return row ? toAttachment(row) : null;
}

// ---------------------------------------------------------------------------------------------
// Writes

export function volumeCreate(
  db: Db,
  values: Omit<NewVolumeRow, 'created_at' | 'updated_at' | 'deleted'>,
  metadata: Record<string, string> = {},
): Volume {
  const now = dbNow();
  db.transaction((tx) => {
    tx.insert(volumes).values({ ...values, created_at: now, deleted: false }).run();
    for (const [key, value] of Object.entries(metadata)) {
      tx.insert(volumeMetadata).values({ volume_id: values.id, key, value, created_at: now, deleted: false }).run();
    }
  });
  return volumeGetOrThrow(db, values.id);
}

/** volume_update: a plain UPDATE (object save), bumping updated_at as the ORM does. */
export function volumeUpdate(db: Db, volumeId: string, values: Partial<Record<VolumeColumn, unknown>>): void {
  db.update(volumes)
    .set({ ...(values as Record<string, unknown>), updated_at: dbNow() })
    .where(and(eq(volumes.id, volumeId), eq(volumes.deleted, false)))
    .run();
}

/**
 * Not an object save (updated_at is left alone): the manager's record of the export it is about to
 * create (exportAndConnect), or the restore of the previous value when creating it failed.
 */
export function volumeSetExportIntent(db: Db, volumeId: string, providerLocation: string | null): void {
  db.update(volumes)
    .set({ provider_location: providerLocation, updated_at: sql`${volumes.updated_at}` })
    .where(and(eq(volumes.id, volumeId), eq(volumes.deleted, false)))
    .run();
}

export function attachmentUpdate(
  db: Db,
  attachmentId: string,
  values: Partial<Omit<AttachmentRow, 'connector' | 'connection_info'>> & {
    connector?: unknown;
    connection_info?: unknown;
  },
): void {
  const v: Record<string, unknown> = { ...values, updated_at: dbNow() };
  // Written as oslo jsonutils.dumps writes them, so the stored text is the one Cinder would store.
  if ('connector' in values) v.connector = values.connector == null ? null : pyJsonDumps(values.connector);
  if ('connection_info' in values)
    v.connection_info = values.connection_info == null ? null : pyJsonDumps(values.connection_info);
  db.update(volumeAttachment).set(v).where(eq(volumeAttachment.id, attachmentId)).run();
}

/** Volume.begin_attach(mode): INSERT an 'attaching' attachment, then admin md attached_mode=mode. */
export function beginAttach(db: Db, volumeId: string, mode: string): VolumeAttachment {
  const id = randomUUID();
  const now = dbNow();
  db.transaction((tx) => {
    tx.insert(volumeAttachment)
      .values({ id, volume_id: volumeId, attach_status: 'attaching', created_at: now, deleted: false })
      .run();
    adminMetadataSet(tx as unknown as Db, volumeId, { attached_mode: mode });
  });
  return attachmentGet(db, id)!;
}

/**
 * volume_attached (db/sqlalchemy/api.py): the attachment gets mountpoint, status, instance,
 * host, attach_time, attach_mode; the volume in-use/attached (or attaching/attaching when
 * mark_attached is false, the attachments API). A non-uuid instance raises InvalidUUID.
 */
export function volumeAttached(
  db: Db,
  attachmentId: string,
  instanceUuid: string | null,
  hostName: string | null,
  mountpoint: string | null,
  attachMode: string | null,
  markAttached = true,
): { volume: Volume; attachment: VolumeAttachment } {
  if (instanceUuid && !isUuidLike(instanceUuid)) throw new InvalidUUID({ uuid: instanceUuid });
  const status = markAttached ? 'attached' : 'attaching';
  let volumeId = '';
  db.transaction(
    (tx) => {
      const att = tx.select().from(volumeAttachment).where(eq(volumeAttachment.id, attachmentId)).get();
      if (!att) throw new Error(`attachment ${attachmentId} vanished`);
      volumeId = att.volume_id;
      const now = dbNow();
      tx.update(volumeAttachment)
        .set({
          mountpoint,
          attach_status: status,
          instance_uuid: instanceUuid,
          attached_host: hostName,
          attach_time: now,
          attach_mode: attachMode,
          updated_at: now,
        })
        .where(eq(volumeAttachment.id, attachmentId))
        .run();
      tx.update(volumes)
        .set({ status: markAttached ? 'in-use' : 'attaching', attach_status: status, updated_at: now })
        .where(eq(volumes.id, volumeId))
        .run();
    },
    { behavior: 'immediate' },
  );
  return { volume: volumeGetOrThrow(db, volumeId), attachment: attachmentGet(db, attachmentId)! };
}

/**
 * _get_statuses_from_attachments: the alphabetically first non-error attach_status among the
 * volume's live attachments (attached > attaching > detaching > reserved), 'detached' if none;
 * status maps attached→in-use, detached→available, else the same string.
 */
function statusesFromAttachments(db: Db, volumeId: string): { attach_status: string; status: string } {
  const row = db
    .select({ s: volumeAttachment.attach_status })
    .from(volumeAttachment)
    .where(
      and(
        eq(volumeAttachment.deleted, false),
        eq(volumeAttachment.volume_id, volumeId),
        notLike(volumeAttachment.attach_status, 'error_%'),
      ),
    )
    .orderBy(asc(volumeAttachment.attach_status))
    .limit(1)
    .get();
  const attach_status = row?.s ?? 'detached';
  const status = attach_status === 'attached' ? 'in-use' : attach_status === 'detached' ? 'available' : attach_status;
  return { attach_status, status };
}

export interface DetachedUpdates {
  volumeUpdates: { attach_status: string; status?: string };
  attachmentUpdates: { attach_status: 'detached'; detach_time: string; deleted: true; deleted_at: string } | null;
}

/**
 * volume_detached: one transaction (write lock first, Cinder's SELECT … FOR UPDATE): soft-delete
 * the attachment if it exists (of any volume), then recompute the volume's statuses from what
 * remains. The status is left alone when the last attachment goes during a migration or upload.
 */
export function volumeDetached(db: Db, volumeId: string, attachmentId: string | null): DetachedUpdates {
  return db.transaction(
    (tx) => {
      const t = tx as unknown as Db;
      const vol = t
        .select({ status: volumes.status, migration_status: volumes.migration_status })
        .from(volumes)
        .where(and(eq(volumes.id, volumeId), eq(volumes.deleted, false)))
        .get();
      if (!vol) throw new VolumeNotFound({ volume_id: volumeId });
      const now = dbNow();
      let attachmentUpdates: DetachedUpdates['attachmentUpdates'] = null;
      if (attachmentId) {
        const res = t
          .update(volumeAttachment)
          .set({ deleted: true, deleted_at: now, attach_status: 'detached', detach_time: now, updated_at: now })
          .where(and(eq(volumeAttachment.id, attachmentId), eq(volumeAttachment.deleted, false)))
          .run();
        if (res.changes > 0) {
          attachmentUpdates = { attach_status: 'detached', detach_time: now, deleted: true, deleted_at: now };
        }
      }
      const computed = statusesFromAttachments(t, volumeId);
      const volumeUpdates: DetachedUpdates['volumeUpdates'] = { attach_status: computed.attach_status };
      const ms = vol.migration_status;
      if (
        computed.attach_status !== 'detached' ||
        (!ms && vol.status !== 'uploading') ||
        ms === 'success' ||
        ms === 'error'
      ) {
        volumeUpdates.status = computed.status;
      }
      t.update(volumes)
        .set({ ...volumeUpdates, updated_at: now })
        .where(eq(volumes.id, volumeId))
        .run();
      return { volumeUpdates, attachmentUpdates };
    },
    { behavior: 'immediate' },
  );
}

/** volume_admin_metadata_update (delete=False): upsert keys, keeping other keys. */
export function adminMetadataSet(db: Db, volumeId: string, md: Record<string, string>): void {
  const now = dbNow();
  for (const [key, value] of Object.entries(md)) {
    const existing = db
      .select({ id: volumeAdminMetadata.id })
      .from(volumeAdminMetadata)
      .where(
        and(
          eq(volumeAdminMetadata.volume_id, volumeId),
          eq(volumeAdminMetadata.key, key),
          eq(volumeAdminMetadata.deleted, false),
        ),
      )
      .get();
    if (existing) {
      db.update(volumeAdminMetadata).set({ value, updated_at: now }).where(eq(volumeAdminMetadata.id, existing.id)).run();
    } else {
      db.insert(volumeAdminMetadata).values({ volume_id: volumeId, key, value, created_at: now, deleted: false }).run();
    }
  }
}

/**
 * volume_admin_metadata_delete: soft-delete every live row with that key; updated_at is left
 * unchanged (Cinder sets it to itself).
 */
export function adminMetadataDelete(db: Db, volumeId: string, key: string): void {
  db.update(volumeAdminMetadata)
    .set({ deleted: true, deleted_at: dbNow(), updated_at: sql`${volumeAdminMetadata.updated_at}` })
    .where(
      and(
        eq(volumeAdminMetadata.volume_id, volumeId),
        eq(volumeAdminMetadata.key, key),
        eq(volumeAdminMetadata.deleted, false),
      ),
    )
    .run();
}

/**
 * Volume.finish_detach(attachment_id): volume_detached, then always drop admin md attached_mode
 * (even with other attachments left or an unknown id). Returns the refreshed volume.
 */
export function finishDetach(db: Db, volumeId: string, attachmentId: string | null): Volume {
  volumeDetached(db, volumeId, attachmentId);
  adminMetadataDelete(db, volumeId, 'attached_mode');
  return volumeGetOrThrow(db, volumeId);
}

/**
 * volume_destroy: status 'deleted', deleted=1, migration_status NULL, updated_at preserved, and
 * the same soft delete on the volume's metadata, admin metadata and attachments.
 */
export function volumeDestroy(db: Db, volumeId: string): void {
  const now = dbNow();
  db.transaction((tx) => {
    tx.update(volumes)
      .set({ status: 'deleted', deleted: true, deleted_at: now, migration_status: null, updated_at: sql`${volumes.updated_at}` })
      .where(eq(volumes.id, volumeId))
      .run();
    for (const t of [volumeMetadata, volumeAdminMetadata] as const) {
      tx.update(t)
        .set({ deleted: true, deleted_at: now, updated_at: sql`${t.updated_at}` })
        .where(and(eq(t.volume_id, volumeId), eq(t.deleted, false)))
        .run();
    }
    // Cinder only soft-deletes the dependent rows: an attachment keeps its attach_status.
    tx.update(volumeAttachment)
      .set({ deleted: true, deleted_at: now, updated_at: sql`${volumeAttachment.updated_at}` })
      .where(and(eq(volumeAttachment.volume_id, volumeId), eq(volumeAttachment.deleted, false)))
      .run();
  });
}

// ---------------------------------------------------------------------------------------------
// services (how Python peers and our API find live volume backends)

/** Insert or refresh this service's heartbeat row; returns the row's id and uuid (Cinder's service_uuid). */
export function serviceReport(
  db: Db,
  s: { host: string; binary: string; topic: string; availability_zone: string; rpc: string; objects: string },
): { id: number; uuid: string } {
  const now = dbNow();
  const existing = serviceRow(db, s.host, s.binary);
  if (existing) {
    db.update(services)
      .set({
        updated_at: now,
        report_count: existing.report_count + 1,
        rpc_current_version: s.rpc,
        object_current_version: s.objects,
      })
      .where(eq(services.id, existing.id))
      .run();
    if (existing.uuid) return { id: existing.id, uuid: existing.uuid };
    // A row written without one (Cinder fills it in the same way, manager.py _update_service_uuid).
    const uuid = randomUUID();
    db.update(services).set({ uuid }).where(eq(services.id, existing.id)).run();
    return { id: existing.id, uuid };
  } else {
    const uuid = randomUUID();
    const row = db
      .insert(services)
      .values({
        uuid,
        host: s.host,
        binary: s.binary,
        topic: s.topic,
        availability_zone: s.availability_zone,
        rpc_current_version: s.rpc,
        object_current_version: s.objects,
        created_at: now,
        updated_at: now,
        deleted: false,
        report_count: 1,
      })
      .returning({ id: services.id })
      .get();
    return { id: row.id, uuid };
  }
}

/** The live (not deleted) row of a service, if it ever registered. */
function serviceRow(db: Db, host: string, binary: string) {
  return db
    .select({ id: services.id, uuid: services.uuid, report_count: services.report_count })
    .from(services)
    .where(and(eq(services.host, host), eq(services.binary, binary), eq(services.deleted, false)))
    .get();
}

/** services.id of a live service row, or null when it never registered. */
export function serviceIdOf(db: Db, host: string, binary: string): number | null {
  return serviceRow(db, host, binary)?.id ?? null;
}

// ---------------------------------------------------------------------------------------------
// workers (objects/cleanable.py and db worker_*: cleanable work a volume-manager has in hand)

export type WorkerRow = typeof workers.$inferSelect;

/** Volume statuses whose work is cleaned up after a crash (Volume._is_cleanable). */
export const CLEANABLE_VOLUME_STATUSES: readonly string[] = ['creating', 'deleting', 'uploading', 'downloading'];

/**
 * CinderCleanableObject.set_worker: claim the volume's worker row for `serviceId` with the current
 * status, inserting it when there is none. Returns the row as it now stands.
 */
export function workerSet(db: Db, resourceId: string, status: string, serviceId: number | null): WorkerRow {
  const now = dbNow();
  // Read, then write: the write lock is taken at BEGIN (a deferred transaction upgraded to a write
  // gets SQLITE_BUSY_SNAPSHOT at once under a concurrent writer, which busy_timeout does not cover,
  // and the cast that called it was lost with the volume left 'deleting').
  return db.transaction((tx) => {
    const existing = tx
      .select()
      .from(workers)
      .where(and(eq(workers.resource_type, 'Volume'), eq(workers.resource_id, resourceId)))
      .get();
    if (!existing) {
      return tx
        .insert(workers)
        .values({ resource_type: 'Volume', resource_id: resourceId, status, service_id: serviceId, created_at: now, updated_at: now })
        .returning()
        .get();
    }
    if (existing.service_id === serviceId && existing.status === status) return existing;
    return tx
      .update(workers)
      .set({ service_id: serviceId, status, updated_at: now, race_preventer: existing.race_preventer + 1 })
      .where(eq(workers.id, existing.id))
      .returning()
      .get();
  }, { behavior: 'immediate' });
}

/** worker_destroy: the row goes for real. */
export function workerDestroy(db: Db, id: number): void {
  db.delete(workers).where(eq(workers.id, id)).run();
}

/** worker_get_all(service_id=…): what a service had in hand, oldest first. */
export function workersOfService(db: Db, serviceId: number): WorkerRow[] {
  return db.select().from(workers).where(eq(workers.service_id, serviceId)).orderBy(asc(workers.id)).all();
}

/**
 * list_availability_zones: the zones of the cinder-volume services (up or down, enabled or not),
 * which are the zones a volume may be created in.
 */
export function volumeServiceZones(db: Db): string[] {
  const rows = db
    .selectDistinct({ az: services.availability_zone })
    .from(services)
    .where(and(eq(services.topic, 'cinder-volume'), eq(services.deleted, false)))
    .all();
  return rows.map((r) => r.az).filter((az): az is string => az !== null);
}

/** Services of a binary whose heartbeat is newer than `downTimeS` (Cinder's service_down_time, 60). */
export function servicesUp(db: Db, binary: string, downTimeS = 60) {
  const since = dbNow(new Date(Date.now() - downTimeS * 1000));
  return db
    .select()
    .from(services)
    .where(
      and(
        eq(services.binary, binary),
        eq(services.deleted, false),
        eq(services.disabled, false),
        sql`${services.updated_at} >= ${since}`,
      ),
    )
    .orderBy(asc(services.host))
    .all();
}

// ---------------------------------------------------------------------------------------------
// new-style attachments (attachments API, os-reset_status)

/** volume_admin_metadata_get: the live admin metadata of a volume as key → value. */
export function adminMetadataGet(db: Db, volumeId: string): Record<string, string> {
  return kv(
    db
      .select({ key: volumeAdminMetadata.key, value: volumeAdminMetadata.value })
      .from(volumeAdminMetadata)
      .where(and(eq(volumeAdminMetadata.volume_id, volumeId), eq(volumeAdminMetadata.deleted, false)))
      .all(),
  );
}

/**
 * volume_attach (as _attachment_reserve calls it): INSERT a row {id: uuid4, volume_id,
 * attach_status, instance_uuid}; every other column stays NULL until the API saves the object.
 */
export function volumeAttach(
  db: Db,
  values: { volume_id: string; attach_status: string; instance_uuid: string | null },
): VolumeAttachment {
  const id = randomUUID();
  db.insert(volumeAttachment)
    .values({ id, ...values, created_at: dbNow(), deleted: false })
    .run();
  return attachmentGet(db, id)!;
}

/**
 * volume_attachment_get_all_by_volume_id: live rows of the volume whose attach_status is not
 * 'detached' (what os-reset_status detaches, and the in-use check counts).
 */
export function attachmentGetAllByVolumeId(db: Db, volumeId: string): VolumeAttachment[] {
  return db
    .select()
    .from(volumeAttachment)
    .where(
      and(
        eq(volumeAttachment.volume_id, volumeId),
        eq(volumeAttachment.deleted, false),
        sql`${volumeAttachment.attach_status} != 'detached'`,
      ),
    )
    .orderBy(asc(volumeAttachment.created_at))
    .all()
    .map(toAttachment);
}

type AttachmentColumn = keyof AttachmentRow;
/** The volume_attachment columns a filter may name (is_valid_model_filters on the model). */
export const ATTACHMENT_FILTER_COLUMNS = Object.keys(getTableColumns(volumeAttachment)) as readonly AttachmentColumn[];

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

/**
 * process_sort_params (default keys created_at, id; default direction desc, as
 * _generate_paginate_query asks): checks the directions, pads them with the first one, and appends
 * the default keys that are missing.
 */
export function processSortParams(sortKeys: string[] = [], sortDirs: string[] = []): { keys: string[]; dirs: string[] } {
  const defaultDir = sortDirs.length ? sortDirs[0] : 'desc';
  for (const d of sortDirs) {
    if (d !== 'asc' && d !== 'desc') throw new InvalidInput({ reason: "Unknown sort direction, must be 'desc' or 'asc'." });
  }
  const keys = [...sortKeys];
  const dirs = sortDirs.length ? [...sortDirs] : keys.map(() => defaultDir);
  while (dirs.length < keys.length) dirs.push(defaultDir);
  if (dirs.length > keys.length) throw new InvalidInput({ reason: 'Sort direction array size exceeds sort key array size.' });
  for (const k of ['created_at', 'id']) {
    if (!keys.includes(k)) {
      keys.push(k);
      dirs.push(defaultDir);
    }
  }
  return { keys, dirs };
}

/** How a column's NULL compares in paginate_query's marker criteria (_get_default_column_value). */
type MarkerDefault = 'datetime' | 'string' | 'integer' | 'none';
const MARKER_DEFAULTS: Record<Exclude<MarkerDefault, 'none'>, string | number> = {
  datetime: '1900-01-01 00:00:00.000000',
  string: '',
  integer: 0,
};

/** The column kinds of a sortable table: DateTime, String, Integer; Boolean and Text have no default. */
interface Pageable {
  table: typeof volumes | typeof volumeAttachment;
  kinds: Record<string, MarkerDefault>;
}

const TIMESTAMPS = { created_at: 'datetime', updated_at: 'datetime', deleted_at: 'datetime', deleted: 'none' } as const;

const VOLUME_PAGING: Pageable = {
  table: volumes,
  kinds: {
    ...TIMESTAMPS,
    ...Object.fromEntries(
      ['id', '_name_id', 'ec2_id', 'user_id', 'project_id', 'snapshot_id', 'cluster_name', 'host', 'availability_zone', 'status',
        'attach_status', 'migration_status', 'display_name', 'display_description', 'provider_location', 'provider_auth',
        'provider_geometry', 'provider_id', 'volume_type_id', 'source_volid', 'encryption_key_id', 'consistencygroup_id',
        'group_id', 'replication_status', 'replication_extended_status', 'replication_driver_data', 'previous_status',
        'service_uuid'].map((k) => [k, 'string']),
    ),
    size: 'integer',
    scheduled_at: 'datetime',
    launched_at: 'datetime',
    terminated_at: 'datetime',
    bootable: 'none',
    multiattach: 'none',
    shared_targets: 'none',
    use_quota: 'none',
  },
};

const ATTACHMENT_PAGING: Pageable = {
  table: volumeAttachment,
  kinds: {
    ...TIMESTAMPS,
    ...Object.fromEntries(
      ['id', 'volume_id', 'attached_host', 'instance_uuid', 'mountpoint', 'attach_mode', 'attach_status'].map((k) => [k, 'string']),
    ),
    attach_time: 'datetime',
    detach_time: 'datetime',
    connection_info: 'none',
    connector: 'none',
  },
};

export interface PageOptions {
  limit?: number;
  offset?: number;
  /** As the API parsed them; process_sort_params adds created_at and id. Default created_at desc. */
  sortKeys?: string[];
  sortDirs?: string[];
}

/**
 * sqlalchemyutils.paginate_query over `where`: ORDER BY the processed sort keys (InvalidInput
 * 'Invalid sort key' for a key that is no column), the rows after `marker` in that order
 * ((k1 > m1) OR (k1 = m1 AND k2 > m2) …, < for a descending key, NULLs as the column's default;
 * a Boolean or Text key has none, a KeyError and so a 500 in Cinder), then LIMIT and OFFSET.
 */
function paginate<R>(db: Db, p: Pageable, where: SQL[], marker: Record<string, unknown> | undefined, opts: PageOptions): R[] {
  const { keys, dirs } = processSortParams(opts.sortKeys, opts.sortDirs);
  const column = (k: string) => (p.table as unknown as Record<string, SQLiteColumn>)[k];
  for (const k of keys) if (!(k in p.kinds)) throw new InvalidInput({ reason: 'Invalid sort key' });
  if (marker) {
    const dflt = (k: string) => {
      const kind = p.kinds[k];
      if (kind === 'none') throw new Error(`no default value for sort key ${k} (KeyError in Cinder)`);
      return MARKER_DEFAULTS[kind];
    };
    const value = (k: string) => sql`COALESCE(${column(k)}, ${dflt(k)})`;
    const markerValue = (k: string) => {
      const v = marker[k] ?? dflt(k);
      return typeof v === 'boolean' ? Number(v) : v;
    };
    const criteria = keys.map((k, i) =>
      and(
        ...keys.slice(0, i).map((kj) => sql`${value(kj)} = ${markerValue(kj)}`),
        dirs[i] === 'desc' ? sql`${value(k)} < ${markerValue(k)}` : sql`${value(k)} > ${markerValue(k)}`,
      )!,
    );
    where.push(or(...criteria)!);
  }
  let q = db
    .select()
    .from(p.table)
    .where(and(...where))
    .orderBy(...keys.map((k, i) => (dirs[i] === 'desc' ? sql`${column(k)} DESC` : sql`${column(k)} ASC`)))
    .$dynamic();
  // query.limit(0) is a real LIMIT 0: an empty page
  if (opts.limit !== undefined) q = q.limit(opts.limit);
  if (opts.offset) q = q.offset(opts.offset);
  return q.all() as R[];
}

/**
 * _attachment_get_all through _generate_paginate_query and sqlalchemyutils.paginate_query: live
 * rows, optionally of one project's volumes, exact and LIKE filters, ORDER BY the processed sort
 * keys; a marker is an attachment id (VolumeAttachmentNotFound when it does not exist) and the page
 * starts after it in that order, NULLs compared as their column's default.
 */
export function attachmentGetAll(db: Db, opts: AttachmentListOptions = {}): VolumeAttachment[] {
  // process_sort_params runs before the filters and the marker (a bad direction is a 400 first)
  processSortParams(opts.sortKeys, opts.sortDirs);
  const where: SQL[] = [eq(volumeAttachment.deleted, false)];
  if (opts.projectId) {
    where.push(
      sql`EXISTS (SELECT 1 FROM volumes WHERE volumes.id = ${volumeAttachment.volume_id} AND volumes.project_id = ${opts.projectId})`,
    );
  }
  const column = (k: string) => volumeAttachment[k as AttachmentColumn] as SQLiteColumn;
  for (const [k, v] of Object.entries(opts.filters ?? {})) {
    if (k.endsWith('~')) where.push(sql`${column(k.replace(/~+$/, ''))} LIKE ${`%${v}%`}`);
    else where.push(eq(column(k), v));
  }
  let marker: AttachmentRow | undefined;
  if (opts.marker !== undefined && opts.marker !== null) {
    marker = db
      .select()
      .from(volumeAttachment)
      .where(and(eq(volumeAttachment.id, opts.marker), eq(volumeAttachment.deleted, false)))
      .get();
    if (!marker) throw new VolumeAttachmentNotFound({ filter: `attachment_id = ${opts.marker}` });
  }
  return paginate<AttachmentRow>(db, ATTACHMENT_PAGING, where, marker, opts).map(toAttachment);
}
