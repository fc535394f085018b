// cinder/volume/volume_types.py: the volume types' logic between the API and the db layer.
import type { Db } from '../db/client.js';
import {
  DEFAULT_VOLUME_TYPE,
  projectDefaultTypeId,
  projectsWithDefaultType,
  volumeTypeAccessAdd,
  volumeTypeAccessRemove,
  volumeTypeCreate,
  volumeTypeDestroy,
  volumeTypeGet,
  volumeTypeGetAll,
  volumeTypeGetByName,
  volumeTypeRecordGet,
  volumeTypeRecordGetByName,
  volumeTypeUpdate,
  type TypeListOptions,
  type TypeReader,
  type TypeRecord,
  type VolumeType,
} from '../db/volume-types.js';
import {
  CinderException,
  InvalidVolumeType,
  VolumeTypeCreateFailed,
  VolumeTypeDefaultDeletionError,
  VolumeTypeDefaultMisconfiguredError,
  VolumeTypeNotFound,
  VolumeTypeNotFoundByName,
  VolumeTypeUpdateFailed,
} from '../common/exceptions.js';
import { pyRepr } from '../api/python.js';
import { isUuidLike } from '../common/uuid.js';

export { DEFAULT_VOLUME_TYPE };
export type { TypeListOptions, TypeRecord, VolumeType };

/** The caller as the type functions need it (a RequestContext fits). */
export type TypeContext = TypeReader & { project_id?: string | null };

/**
 * `[DEFAULT] default_volume_type` as the caller holds it: the option's value itself, or a config
 * (CinderConfig or its DEFAULT section) that carries it; unset means Cinder's default `__DEFAULT__`.
 */
export type DefaultTypeConfig =
  | string
  | null
  | undefined
  | { default_volume_type?: string | null }
  | { DEFAULT?: { default_volume_type?: string | null } | null };

export function defaultTypeName(config: DefaultTypeConfig): string {
  if (typeof config === 'string') return config;
  if (config && typeof config === 'object') {
    if ('default_volume_type' in config && typeof config.default_volume_type === 'string') return config.default_volume_type;
    if ('DEFAULT' in config && typeof config.DEFAULT?.default_volume_type === 'string') return config.DEFAULT.default_volume_type;
  }
  return DEFAULT_VOLUME_TYPE;
}

const ADMIN: TypeReader = { is_admin: true, project_id: null };

/** How a type is read: the db's VolumeType (what volumes carry), or the API's TypeRecord. */
interface TypeFetch<T> {
  byId(db: Db, id: string, reader: TypeReader, projects: boolean): Promise<T | null>;
  byName(db: Db, name: string): Promise<T | null>;
}
const AS_VOLUME_TYPE: TypeFetch<VolumeType> = {
  byId: (db, id, reader, projects) => volumeTypeGet(db, id, { reader, projects }),
  byName: (db, name) => volumeTypeGetByName(db, name),
};
const AS_RECORD: TypeFetch<TypeRecord> = {
  byId: (db, id, reader, projects) => volumeTypeRecordGet(db, id, { reader, projects }),
  byName: (db, name) => volumeTypeRecordGetByName(db, name),
};

async function getById<T>(f: TypeFetch<T>, db: Db, ctx: TypeContext | null | undefined, id: string | null | undefined, projects = false): Promise<T> {
  if (id === null || id === undefined) throw new InvalidVolumeType({ reason: 'id cannot be None' });
  const t = await f.byId(db, id, ctx ?? ADMIN, projects);
  if (!t) throw new VolumeTypeNotFound({ volume_type_id: id });
  return t;
}

/**
 * Cinder's _volume_type_get_by_name applies no is_public/projects filter (db/sqlalchemy/api.py),
 * so a private type is found by its name whoever asks.
 */
async function getByName<T>(f: TypeFetch<T>, db: Db, name: string | null | undefined): Promise<T> {
  if (name === null || name === undefined) throw new InvalidVolumeType({ reason: 'name cannot be None' });
  const t = await f.byName(db, name);
  if (!t) throw new VolumeTypeNotFoundByName({ volume_type_name: name });
  return t;
}

async function byNameOrId<T>(f: TypeFetch<T>, db: Db, ctx: TypeContext | null | undefined, identity: string): Promise<T> {
  if (isUuidLike(identity)) {
    try {
      return await getById(f, db, ctx, identity);
    } catch (e) {
      if (!(e instanceof VolumeTypeNotFound)) throw e;
      try {
        return await getByName(f, db, identity);
      } catch (e2) {
        if (e2 instanceof VolumeTypeNotFoundByName) throw new VolumeTypeNotFound({ volume_type_id: identity });
        throw e2;
      }
    }
  }
  return getByName(f, db, identity);
}

async function defaultType<T>(f: TypeFetch<T>, db: Db, config: DefaultTypeConfig, ctx?: TypeContext | null): Promise<T> {
  if (ctx) {
    const projectDefault = await projectDefaultTypeId(db, ctx.project_id ?? '');
    if (projectDefault) return getById(f, db, ctx, projectDefault);
  }
  const name = defaultTypeName(config);
  try {
    return await getByName(f, db, name);
  } catch (e) {
    if (e instanceof VolumeTypeNotFoundByName || e instanceof InvalidVolumeType) {
      throw new VolumeTypeDefaultMisconfiguredError({ volume_type_name: name });
    }
    throw e;
  }
}

/** get_volume_type: by id, as the caller may see it; VolumeTypeNotFound (404) otherwise. */
export function getVolumeType(
  db: Db,
  ctx: TypeContext | null | undefined,
  id: string | null | undefined,
  opts: { projects?: boolean } = {},
): Promise<VolumeType> {
  return getById(AS_VOLUME_TYPE, db, ctx, id, opts.projects);
}

/** get_volume_type_by_name (VolumeTypeNotFoundByName, 404). */
export function getVolumeTypeByName(db: Db, _ctx: TypeContext | null | undefined, name: string | null | undefined): Promise<VolumeType> {
  return getByName(AS_VOLUME_TYPE, db, name);
}

/**
 * get_by_name_or_id: a uuid-like identity is tried as an id, then as a name (a type may be named
 * like a uuid), and reported as VolumeTypeNotFound; anything else is a name (VolumeTypeNotFoundByName).
 */
export function getByNameOrId(db: Db, ctx: TypeContext | null | undefined, identity: string): Promise<VolumeType> {
  return byNameOrId(AS_VOLUME_TYPE, db, ctx, identity);
}

/**
 * get_default_volume_type(ctx): the project's own default (3.62 default-types) when ctx is given
 * and one is set, read as ctx may see it; else the type named by `[DEFAULT] default_volume_type`
 * (read as admin). A configured name that does not exist is VolumeTypeDefaultMisconfiguredError (500).
 */
export function getDefaultVolumeType(db: Db, config: DefaultTypeConfig, ctx?: TypeContext | null): Promise<VolumeType> {
  return defaultType(AS_VOLUME_TYPE, db, config, ctx);
}

// ---- the same reads for the types API (extra spec values NULL where the row has NULL) ------------

export function getTypeRecord(db: Db, ctx: TypeContext | null | undefined, id: string | null | undefined, opts: { projects?: boolean } = {}): Promise<TypeRecord> {
  return getById(AS_RECORD, db, ctx, id, opts.projects);
}
export function getTypeRecordByName(db: Db, name: string | null | undefined): Promise<TypeRecord> {
  return getByName(AS_RECORD, db, name);
}
export function getTypeRecordByNameOrId(db: Db, ctx: TypeContext | null | undefined, identity: string): Promise<TypeRecord> {
  return byNameOrId(AS_RECORD, db, ctx, identity);
}
export function getDefaultTypeRecord(db: Db, config: DefaultTypeConfig, ctx?: TypeContext | null): Promise<TypeRecord> {
  return defaultType(AS_RECORD, db, config, ctx);
}

// ---- writes --------------------------------------------------------------------------------------

/** A db failure that is none of Cinder's own exceptions (oslo.db's DBError). */
function isDbError(e: unknown): boolean {
  return !(e instanceof CinderException);
}

/**
 * create: the type with its extra specs and projects. VolumeTypeExists (a live type has the name)
 * goes through; any other database failure is VolumeTypeCreateFailed.
 */
export async function createType(
  db: Db,
  _ctx: TypeContext,
  name: string,
  extraSpecs: Record<string, string | null> = {},
  isPublic = true,
  projects: string[] = [],
  description: string | null = null,
): Promise<TypeRecord> {
  try {
    return await volumeTypeCreate(db, { name, extra_specs: extraSpecs, is_public: isPublic, description }, projects);
  } catch (e) {
    if (isDbError(e)) throw new VolumeTypeCreateFailed({ name, extra_specs: pyRepr(extraSpecs) });
    throw e;
  }
}

/**
 * update: VolumeTypeNotFound for a type that is not there (read as admin), VolumeTypeExists for a
 * name another live type has; a database failure is VolumeTypeUpdateFailed. (Cinder also renames the
 * type's quota resources; this port keeps no quotas.)
 */
export async function updateType(
  db: Db,
  _ctx: TypeContext,
  id: string | null | undefined,
  name: string | null | undefined,
  description: string | null | undefined,
  isPublic: boolean | null | undefined = null,
): Promise<void> {
  if (id === null || id === undefined) throw new InvalidVolumeType({ reason: 'id cannot be None' });
  await getById(AS_RECORD, db, ADMIN, id);
  try {
    await volumeTypeUpdate(db, id, { name, description, is_public: isPublic });
  } catch (e) {
    if (isDbError(e)) throw new VolumeTypeUpdateFailed({ id });
    throw e;
  }
}

/**
 * destroy: a type some project has as its default (3.62), or the configured default type, is
 * VolumeTypeDefaultDeletionError; a configured default that does not exist is
 * VolumeTypeDefaultMisconfiguredError; then volume_type_destroy (the last type, in use, not found).
 */
export async function destroyType(db: Db, config: DefaultTypeConfig, ctx: TypeContext, id: string | null | undefined): Promise<{ deleted: true; deleted_at: string }> {
  if (id === null || id === undefined) throw new InvalidVolumeType({ reason: 'id cannot be None' });
  if ((await projectsWithDefaultType(db, id)).length > 0) throw new VolumeTypeDefaultDeletionError({ volume_type_id: id });
  const dflt = await defaultType(AS_RECORD, db, config, null);
  if (id === dflt.id) throw new VolumeTypeDefaultDeletionError({ volume_type_id: id });
  return volumeTypeDestroy(db, id, ctx.is_admin ? ctx : ADMIN);
}

/** get_all_types(list_result=True): volume_type_get_all as the caller may see them. */
export function getAllTypes(db: Db, ctx: TypeContext, opts: TypeListOptions = {}): Promise<TypeRecord[]> {
  return volumeTypeGetAll(db, ctx, opts);
}

/** is_public_volume_type (VolumeTypeNotFound when there is none). */
export async function isPublicVolumeType(db: Db, ctx: TypeContext, id: string): Promise<boolean> {
  return Boolean((await getById(AS_RECORD, db, ctx, id)).is_public);
}

const NOT_FOR_PUBLIC = 'Type access modification is not applicable to public volume type.';

/** add_volume_type_access: InvalidVolumeType for a public type; VolumeTypeAccessExists. */
export async function addVolumeTypeAccess(db: Db, _ctx: TypeContext, typeId: string | null | undefined, projectId: string): Promise<void> {
  if (typeId === null || typeId === undefined) throw new InvalidVolumeType({ reason: 'volume_type_id cannot be None' });
  if (await isPublicVolumeType(db, ADMIN, typeId)) throw new InvalidVolumeType({ reason: NOT_FOR_PUBLIC });
  await volumeTypeAccessAdd(db, typeId, projectId);
}

/** remove_volume_type_access: InvalidVolumeType for a public type; VolumeTypeAccessNotFound. */
export async function removeVolumeTypeAccess(db: Db, _ctx: TypeContext, typeId: string | null | undefined, projectId: string): Promise<void> {
  if (typeId === null || typeId === undefined) throw new InvalidVolumeType({ reason: 'volume_type_id cannot be None' });
  if (await isPublicVolumeType(db, ADMIN, typeId)) throw new InvalidVolumeType({ reason: NOT_FOR_PUBLIC });
  await volumeTypeAccessRemove(db, typeId, projectId);
}
