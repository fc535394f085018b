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
  volumeTypeUpdate,
  type TypeListOptions,
  type TypeReader,
  type VolumeType,
} from '../db/api.js';
import {
  CinderException,
  InvalidInput,
  InvalidVolumeType,
  VolumeTypeCreateFailed,
  VolumeTypeDefaultDeletionError,
  VolumeTypeDefaultMisconfiguredError,
  VolumeTypeNotFound,
  VolumeTypeNotFoundByName,
  VolumeTypeUpdateFailed,
} from '../common/exceptions.js';
import { pyRepr } from '../common/python.js';
import type { VolumeTypeData } from '../objects/volume.js';
import { isUuidLike } from '../common/uuid.js';

export { DEFAULT_VOLUME_TYPE };
export type { TypeListOptions, VolumeType };

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

/** get_volume_type: by id, as the caller may see it; VolumeTypeNotFound (404) otherwise. */
export async function getVolumeType(
  db: Db,
  ctx: TypeContext | null | undefined,
  id: string | null | undefined,
  opts: { projects?: boolean } = {},
): Promise<VolumeType> {
  if (id === null || id === undefined) throw new InvalidVolumeType({ reason: 'id cannot be None' });
  const t = await volumeTypeGet(db, id, { reader: ctx ?? ADMIN, projects: opts.projects });
  if (!t) throw new VolumeTypeNotFound({ volume_type_id: id });
  return t;
}

/**
 * get_volume_type_by_name (VolumeTypeNotFoundByName, 404). Cinder's _volume_type_get_by_name
 * applies no is_public/projects filter (db/sqlalchemy/api.py), so a private type is found by its
 * name whoever asks.
 */
export async function getVolumeTypeByName(db: Db, _ctx: TypeContext | null | undefined, name: string | null | undefined): Promise<VolumeType> {
  if (name === null || name === undefined) throw new InvalidVolumeType({ reason: 'name cannot be None' });
  const t = await volumeTypeGetByName(db, name);
  if (!t) throw new VolumeTypeNotFoundByName({ volume_type_name: name });
  return t;
}

/**
 * get_by_name_or_id: a uuid-like identity is tried as an id, then as a name (a type may be named
 * like a uuid), and reported as VolumeTypeNotFound; anything else is a name (VolumeTypeNotFoundByName).
 */
export async function getByNameOrId(db: Db, ctx: TypeContext | null | undefined, identity: string): Promise<VolumeType> {
  if (isUuidLike(identity)) {
    try {
      return await getVolumeType(db, ctx, identity);
    } catch (e) {
      if (!(e instanceof VolumeTypeNotFound)) throw e;
      try {
        return await getVolumeTypeByName(db, ctx, identity);
      } catch (e2) {
        if (e2 instanceof VolumeTypeNotFoundByName) throw new VolumeTypeNotFound({ volume_type_id: identity });
        throw e2;
      }
    }
  }
  return getVolumeTypeByName(db, ctx, identity);
}

/**
 * get_default_volume_type(ctx): the project's own default (3.62 default-types) when ctx is given
 * and one is set, read as ctx may see it; else the type named by `[DEFAULT] default_volume_type`
 * (read as admin). A configured name that does not exist is VolumeTypeDefaultMisconfiguredError (500).
 */
export async function getDefaultVolumeType(db: Db, config: DefaultTypeConfig, ctx?: TypeContext | null): Promise<VolumeType> {
  if (ctx) {
    const projectDefault = await projectDefaultTypeId(db, ctx.project_id ?? '');
    if (projectDefault) return getVolumeType(db, ctx, projectDefault);
  }
  const name = defaultTypeName(config);
  try {
    return await getVolumeTypeByName(db, ctx, name);
  } catch (e) {
    if (e instanceof VolumeTypeNotFoundByName || e instanceof InvalidVolumeType) {
      throw new VolumeTypeDefaultMisconfiguredError({ volume_type_name: name });
    }
    throw e;
  }
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
): Promise<VolumeType> {
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
  await getVolumeType(db, ADMIN, id);
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
  const dflt = await getDefaultVolumeType(db, config, null);
  if (id === dflt.id) throw new VolumeTypeDefaultDeletionError({ volume_type_id: id });
  return volumeTypeDestroy(db, id, ctx.is_admin ? ctx : ADMIN);
}

/** get_all_types(list_result=True): volume_type_get_all as the caller may see them. */
export function getAllTypes(db: Db, ctx: TypeContext, opts: TypeListOptions = {}): Promise<VolumeType[]> {
  return volumeTypeGetAll(db, ctx, opts);
}

/** is_public_volume_type (VolumeTypeNotFound when there is none). */
export async function isPublicVolumeType(db: Db, ctx: TypeContext, id: string): Promise<boolean> {
  return Boolean((await getVolumeType(db, ctx, id)).is_public);
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

// ---- provisioning --------------------------------------------------------------------------------

/** Python int() of an extra spec (a ValueError, i.e. a 500, when it is none). */
function pyInt(v: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(v)) throw new Error(`ValueError: invalid literal for int() with base 10: '${v}'`);
  return Number.parseInt(v, 10);
}

/**
 * provision_filter_on_size: the type's provisioning:min/max_vol_size bound the size (InvalidInput),
 * each read with int() as Cinder does.
 */
export function provisionFilterOnSize(type: VolumeTypeData, size: number): void {
  const specs = type.extra_specs ?? {};
  const min = specs['provisioning:min_vol_size'];
  if (min && size < pyInt(min)) {
    throw new InvalidInput({
      reason: `Specified volume size of '${size}' is less than the minimum required size of '${min}' for volume type '${type.name}'.`,
    });
  }
  const max = specs['provisioning:max_vol_size'];
  if (max && size > pyInt(max)) {
    throw new InvalidInput({
      reason: `Specified volume size of '${size}' is greater than the maximum allowable size of '${max}' for volume type '${type.name}'.`,
    });
  }
}
