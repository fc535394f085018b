// volume_get / volume_get_all / volume_create / volume_update / volume_destroy and the volume's
// metadata tables (cinder/db/sqlalchemy/api.py). Every read filters deleted=0; "delete" is a soft
// delete.
import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import type { Db, Q, Tables } from './client.js';
import { dbNow, prepared } from './client.js';
import type { NewVolumeRow, VolumeRow } from './schema.js';
import type { Volume, VolumeTypeData } from '../objects/volume.js';
import { withSpecs } from './volume-types.js';
import { VolumeNotFound } from '../common/exceptions.js';
import { paginate, TIMESTAMP_KINDS, type PageOptions, processSortParams, type PagingKinds } from './pagination.js';
import { toAttachment } from './rows.js';
import type { VolumeColumn } from './conditional.js';
import { volumeFilterConditions, type VolumeFilters } from './volume-filters.js';

function kv(rows: { key: string | null; value: string | null }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) if (r.key !== null) out[r.key] = r.value ?? '';
  return out;
}

/** The reads of a volume load, prepared once (see `prepared`). */
function loadQueries(q: Q, t: Tables) {
  const { volumes, volumeAttachment: va, volumeAdminMetadata: vam, volumeMetadata: vm, volumeTypes: vt } = t;
  const id = sql.placeholder('id');
  return prepared(q, 'volumes.load', () => ({
    volume: q.select().from(volumes).where(and(eq(volumes.id, id), eq(volumes.deleted, false))).limit(1).prepare(),
    volumeOf: q
      .select()
      .from(volumes)
      .where(and(eq(volumes.id, id), eq(volumes.deleted, false), eq(volumes.project_id, sql.placeholder('project'))))
      .limit(1)
      .prepare(),
    attachments: q.select().from(va).where(and(eq(va.volume_id, id), eq(va.deleted, false))).orderBy(asc(va.created_at)).prepare(),
    admin: q.select({ key: vam.key, value: vam.value }).from(vam).where(and(eq(vam.volume_id, id), eq(vam.deleted, false))).prepare(),
    meta: q.select({ key: vm.key, value: vm.value }).from(vm).where(and(eq(vm.volume_id, id), eq(vm.deleted, false))).prepare(),
    // deleted or not: a volume keeps the type it was made with
    type: q.select().from(vt).where(eq(vt.id, id)).limit(1).prepare(),
  }));
}

/** The Volume object: the row with its live attachments, admin metadata and metadata (joined loads). */
async function hydrate(q: Q, t: Tables, row: VolumeRow): Promise<Volume> {
  const p = loadQueries(q, t);
  const atts = await p.attachments.execute({ id: row.id });
  const admin = await p.admin.execute({ id: row.id });
  const meta = await p.meta.execute({ id: row.id });
  return { ...row, volume_attachment: atts.map(toAttachment), admin_metadata: kv(admin), metadata: kv(meta), volume_type: await typeOf(q, t, row) };
}

/** The volume's type and its extra specs, NULL values kept as Cinder's volume.volume_type carries them. */
async function typeOf(q: Q, t: Tables, row: VolumeRow): Promise<VolumeTypeData | null> {
  const [type] = await loadQueries(q, t).type.execute({ id: row.volume_type_id });
  return type ? withSpecs(q, t, type) : null;
}

/** volume_get: a live volume, optionally restricted to a project (model_query project_only). */
export function volumeGet(db: Db, volumeId: string, opts: { projectId?: string | null } = {}): Promise<Volume | null> {
  return db.run(async (q) => {
    const p = loadQueries(q, db.t);
    const project = opts.projectId;
    const [row] = project !== undefined && project !== null ? await p.volumeOf.execute({ id: volumeId, project }) : await p.volume.execute({ id: volumeId });
    return row ? hydrate(q, db.t, row) : null;
  });
}

export async function volumeGetOrThrow(db: Db, volumeId: string, opts: { projectId?: string | null } = {}): Promise<Volume> {
  const v = await volumeGet(db, volumeId, opts);
  if (!v) throw new VolumeNotFound({ volume_id: volumeId });
  return v;
}

export const VOLUME_PAGING: PagingKinds = {
  ...TIMESTAMP_KINDS,
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
};

/**
 * volume_get_all / volume_get_all_by_project through _generate_paginate_query: live volumes,
 * optionally of one project, sorted (default created_at desc, id desc); a marker is a volume id
 * (VolumeNotFound when there is no such volume) and the page starts after it.
 */
export async function volumeGetAll(
  db: Db,
  opts: PageOptions & { projectId?: string | null; marker?: string | null; filters?: VolumeFilters } = {},
): Promise<Volume[]> {
  processSortParams(opts.sortKeys, opts.sortDirs);
  const { volumes } = db.t;
  const where: SQL[] = [eq(volumes.deleted, false)];
  if (opts.projectId) where.push(eq(volumes.project_id, opts.projectId));
  // _process_volume_filters (src/db/volume-filters.ts): None there means an empty list.
  const conds = opts.filters && Object.keys(opts.filters).length ? volumeFilterConditions(db, opts.filters) : [];
  if (conds === null) return [];
  where.push(...conds);
  return db.run(async (q) => {
    let marker: VolumeRow | undefined;
    if (opts.marker !== undefined && opts.marker !== null) {
      [marker] = await q.select().from(volumes).where(and(eq(volumes.id, opts.marker), eq(volumes.deleted, false))).limit(1);
      if (!marker) throw new VolumeNotFound({ volume_id: opts.marker });
    }
    const rows = await paginate<VolumeRow>(q, volumes, VOLUME_PAGING, where, marker, opts);
    const out: Volume[] = [];
    for (const r of rows) out.push(await hydrate(q, db.t, r));
    return out;
  });
}

/** volume_create with its metadata, in one transaction. */
export async function volumeCreate(
  db: Db,
  values: Omit<NewVolumeRow, 'created_at' | 'updated_at' | 'deleted'>,
  metadata: Record<string, string> = {},
  /** Run in the same transaction (the API's workers row for the create, see volume-api). */
  also?: (q: Q) => Promise<void>,
): Promise<Volume> {
  const now = dbNow();
  const { volumes, volumeMetadata } = db.t;
  await db.tx(async (q) => {
    await q.insert(volumes).values({ ...values, created_at: now, deleted: false });
    for (const [key, value] of Object.entries(metadata)) {
      await q.insert(volumeMetadata).values({ volume_id: values.id, key, value, created_at: now, deleted: false });
    }
    await also?.(q);
  });
  return volumeGetOrThrow(db, values.id);
}

/** volume_update: a plain UPDATE (object save), bumping updated_at as the ORM does. */
export async function volumeUpdate(db: Db, volumeId: string, values: Partial<Record<VolumeColumn, unknown>>): Promise<void> {
  const { volumes } = db.t;
  await db.run((q) =>
    q
      .update(volumes)
      .set({ ...(values as Record<string, unknown>), updated_at: dbNow() })
      .where(and(eq(volumes.id, volumeId), eq(volumes.deleted, false))),
  );
}

/**
 * Not an object save (updated_at is left alone): the manager's record of the export it is about to
 * create (exportAndConnect), or the restore of the previous value when creating it failed.
 */
export async function volumeSetExportIntent(db: Db, volumeId: string, providerLocation: string | null): Promise<void> {
  const { volumes } = db.t;
  await db.run((q) =>
    q
      .update(volumes)
      .set({ provider_location: providerLocation, updated_at: sql`${volumes.updated_at}` })
      .where(and(eq(volumes.id, volumeId), eq(volumes.deleted, false))),
  );
}

/**
 * volume_destroy: status 'deleted', deleted=1, migration_status NULL, updated_at preserved, and
 * the same soft delete on the volume's metadata, admin metadata and attachments.
 */
export async function volumeDestroy(db: Db, volumeId: string): Promise<void> {
  const now = dbNow();
  const { volumes, volumeMetadata, volumeAdminMetadata, volumeAttachment } = db.t;
  await db.tx(async (q) => {
    await q
      .update(volumes)
      .set({ status: 'deleted', deleted: true, deleted_at: now, migration_status: null, updated_at: sql`${volumes.updated_at}` })
      .where(eq(volumes.id, volumeId));
    for (const t of [volumeMetadata, volumeAdminMetadata] as const) {
      await q
        .update(t)
        .set({ deleted: true, deleted_at: now, updated_at: sql`${t.updated_at}` })
        .where(and(eq(t.volume_id, volumeId), eq(t.deleted, false)));
    }
    // Cinder only soft-deletes the dependent rows: an attachment keeps its attach_status.
    await q
      .update(volumeAttachment)
      .set({ deleted: true, deleted_at: now, updated_at: sql`${volumeAttachment.updated_at}` })
      .where(and(eq(volumeAttachment.volume_id, volumeId), eq(volumeAttachment.deleted, false)));
  });
}

/** volume_admin_metadata_get: the live admin metadata of a volume as key → value. */
export async function adminMetadataGet(db: Db, volumeId: string): Promise<Record<string, string>> {
  const { volumeAdminMetadata: t } = db.t;
  return kv(
    await db.run((q) =>
      q
        .select({ key: t.key, value: t.value })
        .from(t)
        .where(and(eq(t.volume_id, volumeId), eq(t.deleted, false))),
    ),
  );
}

/** volume_admin_metadata_update (delete=False): upsert keys, keeping other keys. */
export async function adminMetadataSet(db: Db, volumeId: string, md: Record<string, string>): Promise<void> {
  const now = dbNow();
  const { volumeAdminMetadata: t } = db.t;
  await db.run(async (q) => {
    for (const [key, value] of Object.entries(md)) {
      const [existing] = await q
        .select({ id: t.id })
        .from(t)
        .where(and(eq(t.volume_id, volumeId), eq(t.key, key), eq(t.deleted, false)))
        .limit(1);
      if (existing) await q.update(t).set({ value, updated_at: now }).where(eq(t.id, existing.id));
      else await q.insert(t).values({ volume_id: volumeId, key, value, created_at: now, deleted: false });
    }
  });
}

/**
 * volume_admin_metadata_delete: soft-delete every live row with that key; updated_at is left
 * unchanged (Cinder sets it to itself).
 */
export async function adminMetadataDelete(db: Db, volumeId: string, key: string): Promise<void> {
  const { volumeAdminMetadata: t } = db.t;
  await db.run((q) =>
    q
      .update(t)
      .set({ deleted: true, deleted_at: dbNow(), updated_at: sql`${t.updated_at}` })
      .where(and(eq(t.volume_id, volumeId), eq(t.key, key), eq(t.deleted, false))),
  );
}
