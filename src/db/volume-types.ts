// volume_types, volume_type_extra_specs and volume_type_projects (cinder/db/sqlalchemy/api.py
// volume_type_*): reads filter deleted=0 unless told otherwise; a non-admin sees public types and the
// private ones shared with its project (_volume_type_get_query).
import { and, asc, eq, exists, isNull, like, ne, notExists, or, sql, type SQL } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Db, Q, Tables } from './client.js';
import { dbNow } from './client.js';
import type { VolumeTypeRow } from './schema.js';
import { paginate, processSortParams, TIMESTAMP_KINDS, type PageOptions, type PagingKinds } from './pagination.js';
import {
  VolumeTypeAccessExists,
  VolumeTypeAccessNotFound,
  VolumeTypeDeletionError,
  VolumeTypeExists,
  VolumeTypeExtraSpecsNotFound,
  VolumeTypeInUse,
  VolumeTypeNotFound,
} from '../common/exceptions.js';

/** A volume type with its live extra specs as key → value (_dict_with_extra_specs_if_authorized). */
export type VolumeType = VolumeTypeRow & { extra_specs: Record<string, string>; projects?: string[] };

/** Who is asking: the access filter of _volume_type_get_query applies to non-admins. */
export type TypeReader = { is_admin: boolean; project_id?: string | null };

/** volume_types.DEFAULT_VOLUME_TYPE */
export const DEFAULT_VOLUME_TYPE = '__DEFAULT__';

/** _volume_type_get_query's or_(is_public == true, projects.any(project_id=…)) for a non-admin. */
export function typeAccessFilter(q: Q, t: Tables, reader: TypeReader | null | undefined): SQL | undefined {
  if (!reader || reader.is_admin) return undefined;
  const { volumeTypes: vt, volumeTypeProjects: vtp } = t;
  const shared = q
    .select({ one: vtp.id })
    .from(vtp)
    .where(and(eq(vtp.volume_type_id, vt.id), eq(vtp.project_id, reader.project_id ?? ''), eq(vtp.deleted, 0)));
  return or(eq(vt.is_public, true), exists(shared));
}

/** The type row plus its live extra specs (and its projects when asked: expected_fields). */
export async function withSpecs(q: Q, t: Tables, row: VolumeTypeRow, projects = false): Promise<VolumeType> {
  const { volumeTypeExtraSpecs: es, volumeTypeProjects: vtp } = t;
  const specs = await q
    .select({ key: es.key, value: es.value })
    .from(es)
    .where(and(eq(es.volume_type_id, row.id), eq(es.deleted, false)));
  const out: VolumeType = { ...row, extra_specs: {} };
  for (const s of specs) if (s.key !== null) out.extra_specs[s.key] = s.value ?? '';
  if (projects) {
    const ps = await q
      .select({ project_id: vtp.project_id })
      .from(vtp)
      .where(and(eq(vtp.volume_type_id, row.id), eq(vtp.deleted, 0)));
    out.projects = ps.map((p) => p.project_id ?? '');
  }
  return out;
}

/**
 * volume_type_get: by id, with extra specs; null when there is none the reader may see. `inactive`
 * reads deleted rows too (a volume keeps the type it was created with).
 */
export function volumeTypeGet(
  db: Db,
  id: string,
  opts: { reader?: TypeReader | null; inactive?: boolean; projects?: boolean } = {},
): Promise<VolumeType | null> {
  const { volumeTypes: vt } = db.t;
  return db.run(async (q) => {
    const where = [eq(vt.id, id), opts.inactive ? undefined : eq(vt.deleted, false), typeAccessFilter(q, db.t, opts.reader)];
    const [row] = await q.select().from(vt).where(and(...where)).limit(1);
    return row ? withSpecs(q, db.t, row, opts.projects) : null;
  });
}

/** volume_type_get_by_name: the live type of that name the reader may see, or null. */
export function volumeTypeGetByName(db: Db, name: string, opts: { reader?: TypeReader | null; projects?: boolean } = {}): Promise<VolumeType | null> {
  const { volumeTypes: vt } = db.t;
  return db.run(async (q) => {
    const where = [eq(vt.name, name), eq(vt.deleted, false), typeAccessFilter(q, db.t, opts.reader)];
    const [row] = await q.select().from(vt).where(and(...where)).limit(1);
    return row ? withSpecs(q, db.t, row, opts.projects) : null;
  });
}

/** default_volume_types: the project's own default type id (3.62), if one is set. */
export function projectDefaultTypeId(db: Db, projectId: string): Promise<string | null> {
  const { defaultVolumeTypes: d } = db.t;
  return db.run(async (q) => {
    const [row] = await q
      .select({ id: d.volume_type_id })
      .from(d)
      .where(and(eq(d.project_id, projectId), eq(d.deleted, false)))
      .limit(1);
    return row?.id ?? null;
  });
}

// ---- the volume types API's db functions (cinder/db/sqlalchemy/api.py) --------------------------

/** A type as the API hands it on: extra spec values may be NULL (extra_specs_with_null). */
export type TypeRecord = Omit<VolumeType, 'extra_specs'> & { extra_specs: Record<string, string | null> };

/** The row, its live extra specs (NULL values kept) and, when asked, its live projects. */
export async function typeRecord(q: Q, t: Tables, row: VolumeTypeRow, projects = false): Promise<TypeRecord> {
  const { volumeTypeExtraSpecs: es, volumeTypeProjects: vtp } = t;
  const specs = await q
    .select({ key: es.key, value: es.value })
    .from(es)
    .where(and(eq(es.volume_type_id, row.id), eq(es.deleted, false)))
    .orderBy(asc(es.id));
  const out: TypeRecord = { ...row, extra_specs: {} };
  for (const s of specs) if (s.key !== null) out.extra_specs[s.key] = s.value;
  if (projects) {
    const ps = await q
      .select({ project_id: vtp.project_id })
      .from(vtp)
      .where(and(eq(vtp.volume_type_id, row.id), eq(vtp.deleted, 0)))
      .orderBy(asc(vtp.id));
    out.projects = ps.map((p) => p.project_id ?? '');
  }
  return out;
}

/** _volume_type_get(context, id, expected_fields): as the reader may see it, NULL spec values kept. */
export function volumeTypeRecordGet(
  db: Db,
  id: string,
  opts: { reader?: TypeReader | null; projects?: boolean } = {},
): Promise<TypeRecord | null> {
  const { volumeTypes: vt } = db.t;
  return db.run(async (q) => {
    const [row] = await q
      .select()
      .from(vt)
      .where(and(eq(vt.id, id), eq(vt.deleted, false), typeAccessFilter(q, db.t, opts.reader)))
      .limit(1);
    return row ? typeRecord(q, db.t, row, opts.projects) : null;
  });
}

/** _volume_type_get_by_name: no access filter (Cinder's model_query on the name only). */
export function volumeTypeRecordGetByName(db: Db, name: string): Promise<TypeRecord | null> {
  const { volumeTypes: vt } = db.t;
  return db.run(async (q) => {
    const [row] = await q
      .select()
      .from(vt)
      .where(and(eq(vt.name, name), eq(vt.deleted, false)))
      .limit(1);
    return row ? typeRecord(q, db.t, row) : null;
  });
}

/** A write that hit a unique key (oslo.db's DBDuplicateEntry), on either engine. */
function isDuplicateEntry(e: unknown): boolean {
  for (let x = e as { code?: unknown; errno?: unknown; cause?: unknown } | undefined, i = 0; x && i < 4; x = x.cause as typeof x, i++) {
    if (x.code === 'SQLITE_CONSTRAINT_UNIQUE' || x.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || x.code === 'ER_DUP_ENTRY' || x.errno === 1062) {
      return true;
    }
  }
  return false;
}

export interface NewVolumeType {
  id?: string;
  name: string;
  description?: string | null;
  is_public?: boolean;
  extra_specs?: Record<string, string | null>;
}

/**
 * volume_type_create(values, projects): VolumeTypeExists when a live type has the name (or the id
 * is taken); the type, its extra specs and one volume_type_projects row per distinct project.
 */
export async function volumeTypeCreate(db: Db, values: NewVolumeType, projects: string[] = []): Promise<TypeRecord> {
  const id = values.id || randomUUID();
  const { volumeTypes: vt, volumeTypeExtraSpecs: es, volumeTypeProjects: vtp } = db.t;
  const now = dbNow();
  await db.tx(async (q) => {
    const [byName] = await q
      .select({ id: vt.id })
      .from(vt)
      .where(and(eq(vt.name, values.name), eq(vt.deleted, false)))
      .limit(1);
    if (byName) throw new VolumeTypeExists({ id: values.name });
    const [byId] = await q
      .select({ id: vt.id })
      .from(vt)
      .where(and(eq(vt.id, id), eq(vt.deleted, false)))
      .limit(1);
    if (byId) throw new VolumeTypeExists({ id });
    await q.insert(vt).values({
      id,
      name: values.name,
      description: values.description ?? null,
      is_public: values.is_public ?? true,
      created_at: now,
      deleted: false,
    });
    for (const [key, value] of Object.entries(values.extra_specs ?? {})) {
      await q.insert(es).values({ key, value, volume_type_id: id, created_at: now, deleted: false });
    }
    for (const project of new Set(projects)) {
      await q.insert(vtp).values({ volume_type_id: id, project_id: project, created_at: now, deleted: 0 });
    }
  });
  const created = await volumeTypeRecordGet(db, id, { projects: true });
  if (!created) throw new VolumeTypeNotFound({ volume_type_id: id });
  return created;
}

/**
 * volume_type_update (_type_update): null/undefined leaves a field alone; a new name that another
 * live type has is VolumeTypeExists; no live type with the id is VolumeTypeNotFound. updated_at is
 * bumped (the ORM's onupdate).
 */
export async function volumeTypeUpdate(
  db: Db,
  id: string,
  values: { name?: string | null; description?: string | null; is_public?: boolean | null },
): Promise<void> {
  const { volumeTypes: vt } = db.t;
  const set: Partial<VolumeTypeRow> = {};
  if (values.description !== null && values.description !== undefined) set.description = values.description;
  if (values.is_public !== null && values.is_public !== undefined) set.is_public = values.is_public;
  await db.tx(async (q) => {
    if (values.name !== null && values.name !== undefined) {
      const [other] = await q
        .select({ id: vt.id })
        .from(vt)
        .where(and(eq(vt.name, values.name), ne(vt.id, id), eq(vt.deleted, false)))
        .limit(1);
      if (other) throw new VolumeTypeExists({ id: values.name });
      set.name = values.name;
    }
    const res = await q
      .update(vt)
      .set({ ...set, updated_at: dbNow() })
      .where(and(eq(vt.id, id), eq(vt.deleted, false)));
    if (db.matched(res) === 0) throw new VolumeTypeNotFound({ volume_type_id: id });
  });
}

/**
 * volume_type_destroy: VolumeTypeDeletionError when it is the only live type, VolumeTypeNotFound,
 * VolumeTypeInUse while live volumes have it; then the type, its extra specs and its encryption are
 * soft-deleted (updated_at kept) and its projects soft-deleted (deleted = the row's id).
 */
export async function volumeTypeDestroy(db: Db, id: string, reader?: TypeReader | null): Promise<{ deleted: true; deleted_at: string }> {
  const { volumeTypes: vt, volumeTypeExtraSpecs: es, volumeTypeProjects: vtp, encryption: enc, volumes: v } = db.t;
  const now = dbNow();
  await db.tx(async (q) => {
    const live = await q
      .select({ id: vt.id })
      .from(vt)
      .where(and(eq(vt.deleted, false), typeAccessFilter(q, db.t, reader)));
    if (live.length <= 1) throw new VolumeTypeDeletionError({ volume_type_id: id });
    const [row] = await q
      .select({ id: vt.id })
      .from(vt)
      .where(and(eq(vt.id, id), eq(vt.deleted, false), typeAccessFilter(q, db.t, reader)))
      .limit(1);
    if (!row) throw new VolumeTypeNotFound({ volume_type_id: id });
    const [used] = await q
      .select({ id: v.id })
      .from(v)
      .where(and(eq(v.volume_type_id, id), eq(v.deleted, false)))
      .limit(1);
    if (used) throw new VolumeTypeInUse({ volume_type_id: id });
    await q
      .update(vt)
      .set({ deleted: true, deleted_at: now, updated_at: sql`${vt.updated_at}` })
      .where(and(eq(vt.id, id), eq(vt.deleted, false)));
    await q
      .update(es)
      .set({ deleted: true, deleted_at: now, updated_at: sql`${es.updated_at}` })
      .where(and(eq(es.volume_type_id, id), eq(es.deleted, false)));
    await q
      .update(enc)
      .set({ deleted: true, deleted_at: now, updated_at: sql`${enc.updated_at}` })
      .where(and(eq(enc.volume_type_id, id), eq(enc.deleted, false)));
    await q
      .update(vtp)
      .set({ deleted: sql`${vtp.id}`, deleted_at: now, updated_at: sql`${vtp.updated_at}` })
      .where(and(eq(vtp.volume_type_id, id), eq(vtp.deleted, 0)));
  });
  return { deleted: true, deleted_at: now };
}

/** volume_types columns as paginate_query sorts them and _get_default_column_value defaults them. */
const TYPE_PAGING: PagingKinds = {
  ...TIMESTAMP_KINDS,
  id: 'string',
  name: 'string',
  description: 'string',
  qos_specs_id: 'string',
  is_public: 'none',
};

/** VolumeType's column attributes, which filter_by compares for equality. */
const TYPE_FILTER_COLUMNS = ['created_at', 'updated_at', 'deleted_at', 'id', 'name', 'description', 'qos_specs_id'] as const;
/** Other attributes of the VolumeType model: valid filter keys (is_valid_model_filters), that filter_by cannot use. */
const TYPE_OTHER_ATTRIBUTES = ['is_public', 'volumes', 'projects', 'qos_specs', 'encryption', 'metadata', 'save', 'delete', 'soft_delete', 'update', 'get', 'items', 'iteritems', 'keys'];

export interface TypeListOptions extends PageOptions {
  /** Id of the last type of the previous page; one the reader cannot see is no marker at all. */
  marker?: string | null;
  /**
   * _process_volume_types_filters: `is_public` (true: public ones and the reader's project's
   * private ones; false: private ones; null: all), `extra_specs` (key → value, `RESKEY:availability_zones`
   * matched as a substring), any other column by equality.
   */
  filters?: Record<string, unknown>;
}

/**
 * volume_type_get_all(list_result=True) through _generate_paginate_query: the live types the reader
 * may see, filtered, sorted (default created_at desc, id desc), after the marker, limit, offset.
 * A filter key that is no attribute of the model yields no types.
 */
export async function volumeTypeGetAll(db: Db, reader: TypeReader | null | undefined, opts: TypeListOptions = {}): Promise<TypeRecord[]> {
  processSortParams(opts.sortKeys, opts.sortDirs);
  const { volumeTypes: vt, volumeTypeExtraSpecs: es, volumeTypeProjects: vtp } = db.t;
  return db.run(async (q) => {
    const where: SQL[] = [eq(vt.deleted, false)];
    const access = typeAccessFilter(q, db.t, reader);
    if (access) where.push(access);
    const filters = { ...(opts.filters ?? {}) };
    if (filters.is_public !== null && filters.is_public !== undefined) {
      const isPublic = Boolean(filters.is_public);
      const byFlag = eq(vt.is_public, isPublic);
      if (isPublic && reader?.project_id !== null && reader?.project_id !== undefined) {
        const shared = q
          .select({ one: vtp.id })
          .from(vtp)
          .where(and(eq(vtp.volume_type_id, vt.id), eq(vtp.project_id, reader.project_id), eq(vtp.deleted, 0)));
        where.push(or(byFlag, exists(shared))!);
      } else where.push(byFlag);
    }
    delete filters.is_public;
    const keys = Object.keys(filters);
    if (keys.length) {
      const known = (k: string) => {
        const bare = k.replace(/~+$/, '');
        return bare === 'extra_specs' || bare === 'deleted' || (TYPE_FILTER_COLUMNS as readonly string[]).includes(bare) || TYPE_OTHER_ATTRIBUTES.includes(bare);
      };
      if (!keys.every(known)) return [];
      if (filters.extra_specs !== null && filters.extra_specs !== undefined) {
        const search = filters.extra_specs;
        delete filters.extra_specs;
        if (typeof search !== 'object' || Array.isArray(search)) {
          throw new Error(`AttributeError: '${Array.isArray(search) ? 'list' : typeof search === 'string' ? 'str' : typeof search}' object has no attribute 'items'`);
        }
        const entries = search instanceof Map ? [...search.entries()] : Object.entries(search as Record<string, unknown>);
        if (entries.length === 0) throw new Error('IndexError: list index out of range');
        for (const [k, value] of entries) {
          const match =
            k === 'RESKEY:availability_zones'
              ? like(es.value, `%${specText(value)}%`)
              : value === null || value === undefined
                ? isNull(es.value)
                : eq(es.value, specText(value));
          const spec = q
            .select({ one: es.id })
            .from(es)
            .where(and(eq(es.volume_type_id, vt.id), eq(es.key, k), match, eq(es.deleted, false)));
          where.push(exists(spec));
        }
      } else if ('extra_specs' in filters) {
        // filter_by(extra_specs=None): a type without any live extra spec.
        delete filters.extra_specs;
        where.push(notExists(q.select({ one: es.id }).from(es).where(and(eq(es.volume_type_id, vt.id), eq(es.deleted, false)))));
      }
      for (const [k, value] of Object.entries(filters)) {
        if (k === 'deleted') {
          // the Boolean column compared with the query's string as the database compares them
          where.push(value === null || value === undefined ? isNull(vt.deleted) : sql`${vt.deleted} = ${specText(value)}`);
          continue;
        }
        if (!(TYPE_FILTER_COLUMNS as readonly string[]).includes(k)) {
          throw new Error(`InvalidRequestError: filter_by(${k}=...) is not possible on VolumeType`);
        }
        const col = vt[k as (typeof TYPE_FILTER_COLUMNS)[number]];
        where.push(value === null || value === undefined ? isNull(col) : eq(col, specText(value)));
      }
    }
    let marker: VolumeTypeRow | undefined;
    if (opts.marker !== undefined && opts.marker !== null) {
      [marker] = await q
        .select()
        .from(vt)
        .where(and(eq(vt.id, opts.marker), eq(vt.deleted, false), typeAccessFilter(q, db.t, reader)))
        .limit(1);
    }
    const rows = await paginate<VolumeTypeRow>(q, vt, TYPE_PAGING, where, marker, opts);
    const out: TypeRecord[] = [];
    for (const r of rows) out.push(await typeRecord(q, db.t, r));
    return out;
  });
}

/** A filter value as the bound parameter compares it with a String column. */
function specText(v: unknown): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

/** volume_type_extra_specs_get: the live specs of a type (whatever the type's own state). */
export function volumeTypeExtraSpecsGet(db: Db, typeId: string): Promise<Record<string, string | null>> {
  const { volumeTypeExtraSpecs: es } = db.t;
  return db.run(async (q) => {
    const rows = await q
      .select({ key: es.key, value: es.value })
      .from(es)
      .where(and(eq(es.volume_type_id, typeId), eq(es.deleted, false)))
      .orderBy(asc(es.id));
    const out: Record<string, string | null> = {};
    for (const r of rows) if (r.key !== null) out[r.key] = r.value;
    return out;
  });
}

/** volume_type_extra_specs_delete: VolumeTypeExtraSpecsNotFound when the key is not live. */
export async function volumeTypeExtraSpecsDelete(db: Db, typeId: string, key: string): Promise<void> {
  const { volumeTypeExtraSpecs: es } = db.t;
  await db.tx(async (q) => {
    const res = await q
      .update(es)
      .set({ deleted: true, deleted_at: dbNow(), updated_at: sql`${es.updated_at}` })
      .where(and(eq(es.volume_type_id, typeId), eq(es.key, key), eq(es.deleted, false)));
    if (db.matched(res) === 0) throw new VolumeTypeExtraSpecsNotFound({ volume_type_id: typeId, extra_specs_key: key });
  });
}

/** volume_type_extra_specs_update_or_create: each key's live row gets the value, else a new row. */
export async function volumeTypeExtraSpecsUpdateOrCreate(db: Db, typeId: string, specs: Record<string, string | null>): Promise<void> {
  const { volumeTypeExtraSpecs: es } = db.t;
  await db.tx(async (q) => {
    for (const [key, value] of Object.entries(specs)) {
      const now = dbNow();
      const [row] = await q
        .select({ id: es.id })
        .from(es)
        .where(and(eq(es.volume_type_id, typeId), eq(es.key, key), eq(es.deleted, false)))
        .limit(1);
      if (row) await q.update(es).set({ value, updated_at: now }).where(eq(es.id, row.id));
      else await q.insert(es).values({ key, value, volume_type_id: typeId, created_at: now, deleted: false });
    }
  });
}

/** The live volume_type_projects rows of a type. */
export interface TypeAccess {
  volume_type_id: string;
  project_id: string;
}

/** _volume_type_get_id_from_volume_type: the live type's id, or VolumeTypeNotFound. */
async function liveTypeId(q: Q, t: Tables, typeId: string): Promise<string> {
  const { volumeTypes: vt } = t;
  const [row] = await q
    .select({ id: vt.id })
    .from(vt)
    .where(and(eq(vt.id, typeId), eq(vt.deleted, false)))
    .limit(1);
  if (!row) throw new VolumeTypeNotFound({ volume_type_id: typeId });
  return row.id;
}

/** volume_type_access_get_all: the projects a live type is shared with. */
export function volumeTypeAccessGetAll(db: Db, typeId: string): Promise<TypeAccess[]> {
  const { volumeTypeProjects: vtp } = db.t;
  return db.run(async (q) => {
    const id = await liveTypeId(q, db.t, typeId);
    const rows = await q
      .select({ volume_type_id: vtp.volume_type_id, project_id: vtp.project_id })
      .from(vtp)
      .where(and(eq(vtp.volume_type_id, id), eq(vtp.deleted, 0)))
      .orderBy(asc(vtp.id));
    return rows.map((r) => ({ volume_type_id: r.volume_type_id ?? id, project_id: r.project_id ?? '' }));
  });
}

/** volume_type_access_add: VolumeTypeNotFound, or VolumeTypeAccessExists for a live pair. */
export async function volumeTypeAccessAdd(db: Db, typeId: string, projectId: string): Promise<void> {
  const { volumeTypeProjects: vtp } = db.t;
  try {
    await db.tx(async (q) => {
      const id = await liveTypeId(q, db.t, typeId);
      const [dup] = await q
        .select({ id: vtp.id })
        .from(vtp)
        .where(and(eq(vtp.volume_type_id, id), eq(vtp.project_id, projectId), eq(vtp.deleted, 0)))
        .limit(1);
      if (dup) throw new VolumeTypeAccessExists({ volume_type_id: typeId, project_id: projectId });
      await q.insert(vtp).values({ volume_type_id: id, project_id: projectId, created_at: dbNow(), deleted: 0 });
    });
  } catch (e) {
    if (isDuplicateEntry(e)) throw new VolumeTypeAccessExists({ volume_type_id: typeId, project_id: projectId });
    throw e;
  }
}

/** volume_type_access_remove: soft-deletes the live pair (deleted = id); VolumeTypeAccessNotFound when none. */
export async function volumeTypeAccessRemove(db: Db, typeId: string, projectId: string): Promise<void> {
  const { volumeTypeProjects: vtp } = db.t;
  await db.tx(async (q) => {
    const id = await liveTypeId(q, db.t, typeId);
    const res = await q
      .update(vtp)
      .set({ deleted: sql`${vtp.id}`, deleted_at: dbNow(), updated_at: sql`${vtp.updated_at}` })
      .where(and(eq(vtp.volume_type_id, id), eq(vtp.project_id, projectId), eq(vtp.deleted, 0)));
    if (db.matched(res) === 0) throw new VolumeTypeAccessNotFound({ volume_type_id: typeId, project_id: projectId });
  });
}

/** A default_volume_types row (3.62). */
export interface ProjectDefaultType {
  project_id: string;
  volume_type_id: string | null;
  created_at: string | null;
  updated_at: string | null;
}

const defaultTypeColumns = (t: Tables) => ({
  project_id: t.defaultVolumeTypes.project_id,
  volume_type_id: t.defaultVolumeTypes.volume_type_id,
  created_at: t.defaultVolumeTypes.created_at,
  updated_at: t.defaultVolumeTypes.updated_at,
});

/** project_default_volume_type_get(project_id): the project's row, or null. */
export function projectDefaultVolumeTypeGet(db: Db, projectId: string): Promise<ProjectDefaultType | null> {
  const { defaultVolumeTypes: d } = db.t;
  return db.run(async (q) => {
    const [row] = await q
      .select(defaultTypeColumns(db.t))
      .from(d)
      .where(and(eq(d.project_id, projectId), eq(d.deleted, false)))
      .limit(1);
    return row ?? null;
  });
}

/** project_default_volume_type_get(): every project's row. */
export function projectDefaultVolumeTypeGetAll(db: Db): Promise<ProjectDefaultType[]> {
  const { defaultVolumeTypes: d } = db.t;
  return db.run((q) => q.select(defaultTypeColumns(db.t)).from(d).where(eq(d.deleted, false)));
}

/** get_all_projects_with_default_type: the rows naming this type. */
export function projectsWithDefaultType(db: Db, typeId: string): Promise<ProjectDefaultType[]> {
  const { defaultVolumeTypes: d } = db.t;
  return db.run((q) =>
    q
      .select(defaultTypeColumns(db.t))
      .from(d)
      .where(and(eq(d.volume_type_id, typeId), eq(d.deleted, false))),
  );
}

/** project_default_volume_type_set: updates the project's row, or creates it. */
export async function projectDefaultVolumeTypeSet(db: Db, typeId: string, projectId: string): Promise<ProjectDefaultType> {
  const { defaultVolumeTypes: d } = db.t;
  await db.tx(async (q) => {
    const now = dbNow();
    const [row] = await q
      .select({ project_id: d.project_id })
      .from(d)
      .where(and(eq(d.project_id, projectId), eq(d.deleted, false)))
      .limit(1);
    if (row) await q.update(d).set({ volume_type_id: typeId, updated_at: now }).where(eq(d.project_id, projectId));
    else await q.insert(d).values({ project_id: projectId, volume_type_id: typeId, created_at: now, deleted: false });
  });
  return (await projectDefaultVolumeTypeGet(db, projectId))!;
}

/** project_default_volume_type_unset: a hard delete of the project's row (none is fine). */
export async function projectDefaultVolumeTypeUnset(db: Db, projectId: string): Promise<void> {
  const { defaultVolumeTypes: d } = db.t;
  await db.run((q) => q.delete(d).where(eq(d.project_id, projectId)));
}

/** volume_get_all(admin, limit=1, filters={'volume_type_id': id}): whether a live volume has the type. */
export function volumesUseType(db: Db, typeId: string): Promise<boolean> {
  const { volumes: v } = db.t;
  return db.run(async (q) => {
    const [row] = await q
      .select({ id: v.id })
      .from(v)
      .where(and(eq(v.volume_type_id, typeId), eq(v.deleted, false)))
      .limit(1);
    return row !== undefined;
  });
}
