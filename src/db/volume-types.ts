// volume_types (cinder/db/sqlalchemy/api.py volume_type_*): reads filter deleted=0 unless told
// otherwise; a non-admin sees public types and the private ones shared with its project
// (_volume_type_get_query). The type's other tables have their own files: type-extra-specs.ts,
// type-access.ts (volume_type_projects) and default-types.ts (default_volume_types).
import { and, asc, eq, exists, isNull, like, ne, notExists, or, sql, type SQL } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Db, Q, Tables } from './client.js';
import { dbNow, prepared } from './client.js';
import type { VolumeTypeRow } from './schema.js';
import { paginate, processSortParams, TIMESTAMP_KINDS, type PageOptions, type PagingKinds } from './pagination.js';
import { VolumeTypeDeletionError, VolumeTypeExists, VolumeTypeInUse, VolumeTypeNotFound } from '../common/exceptions.js';

/**
 * A volume type with its live extra specs as key → value (_dict_with_extra_specs_if_authorized);
 * a value may be NULL (extra_specs_with_null), as Cinder keeps None.
 */
export type VolumeType = VolumeTypeRow & { extra_specs: Record<string, string | null>; projects?: string[] };

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

/**
 * The type row plus its live extra specs and, when asked, its live projects (expected_fields), as
 * _dict_with_extra_specs_if_authorized builds them: a NULL value stays NULL (Cinder's None).
 */
export async function withSpecs(q: Q, t: Tables, row: VolumeTypeRow, projects = false): Promise<VolumeType> {
  const { volumeTypeExtraSpecs: es, volumeTypeProjects: vtp } = t;
  const specs = await prepared(q, 'volume_types.specs', () =>
    q
      .select({ key: es.key, value: es.value })
      .from(es)
      .where(and(eq(es.volume_type_id, sql.placeholder('id')), eq(es.deleted, false)))
      .orderBy(asc(es.id))
      .prepare(),
  ).execute({ id: row.id });
  const out: VolumeType = { ...row, extra_specs: {} };
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

/**
 * volume_type_get_by_name: the live type of that name, or null. Cinder's _volume_type_get_by_name
 * applies no access filter; a reader narrows it for callers that want one.
 */
export function volumeTypeGetByName(db: Db, name: string, opts: { reader?: TypeReader | null; projects?: boolean } = {}): Promise<VolumeType | null> {
  const { volumeTypes: vt } = db.t;
  return db.run(async (q) => {
    const where = [eq(vt.name, name), eq(vt.deleted, false), typeAccessFilter(q, db.t, opts.reader)];
    const [row] = await q.select().from(vt).where(and(...where)).limit(1);
    return row ? withSpecs(q, db.t, row, opts.projects) : null;
  });
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
export async function volumeTypeCreate(db: Db, values: NewVolumeType, projects: string[] = []): Promise<VolumeType> {
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
  const created = await volumeTypeGet(db, id, { projects: true });
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
export async function volumeTypeGetAll(db: Db, reader: TypeReader | null | undefined, opts: TypeListOptions = {}): Promise<VolumeType[]> {
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
    const out: VolumeType[] = [];
    for (const r of rows) out.push(await withSpecs(q, db.t, r));
    return out;
  });
}

/** A filter value as the bound parameter compares it with a String column. */
function specText(v: unknown): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
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
