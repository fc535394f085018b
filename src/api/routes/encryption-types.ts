// /v3/{project_id}/types/{type_id}/encryption (cinder/api/contrib/volume_type_encryption.py
// VolumeTypeEncryptionController, schemas in api/schemas/volume_type_encryption.py): a volume
// type's encryption specs. index shows the row (or {}), show one of its columns, create/update
// answer the request body, delete 202. A type with live volumes (any project's) can have its
// encryption neither created, updated nor deleted. Rules: policies/volume_type.py (admin_api).
// The volumeTypeEncryption notifications Cinder emits on create/update are not (no bus here).
import type { FastifyInstance } from 'fastify';
import { VolumeTypeEncryptionExists, VolumeTypeEncryptionNotFound } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import type { Db } from '../../db/client.js';
import {
  volumeTypeEncryptionCreate,
  volumeTypeEncryptionDelete,
  volumeTypeEncryptionGet,
  volumeTypeEncryptionUpdate,
  volumeTypeEncryptionVolumeCount,
  type EncryptionValues,
  type VolumeTypeEncryption,
} from '../../db/encryption.js';
import { getVolumeType } from '../../volume-api/volume-types.js';
import { HttpFault } from '../faults.js';
import { compile } from '../jsonschema.js';
import { resourceRoutes, type Controller, type ResourceMethod } from '../resource.js';
import { DB_MAX_INT, validateBody } from '../schemas.js';
import { apiDateTime } from '../views.js';

const POLICY = {
  create: 'volume_extension:volume_type_encryption:create',
  get: 'volume_extension:volume_type_encryption:get',
  update: 'volume_extension:volume_type_encryption:update',
  delete: 'volume_extension:volume_type_encryption:delete',
} as const;

// ---- schemas -----------------------------------------------------------------------------------

/** parameter_types.key_size */
const keySize = { type: ['string', 'integer', 'null'], minimum: 0, maximum: DB_MAX_INT, format: 'key_size' } as const;

function encryptionSchema<R extends readonly string[]>(required: R) {
  return {
    type: 'object',
    properties: {
      encryption: {
        type: 'object',
        properties: {
          key_size: keySize,
          provider: { type: 'string', minLength: 0, maxLength: 255 },
          control_location: { enum: ['front-end', 'back-end'] },
          cipher: { type: ['string', 'null'], minLength: 0, maxLength: 255 },
        },
        required,
        additionalProperties: true,
      },
    },
    required: ['encryption'],
    additionalProperties: false,
  } as const;
}

const createSchema = compile(encryptionSchema(['provider', 'control_location'] as const));
const updateSchema = compile(encryptionSchema([] as const));

type EncryptionBody = { encryption: Record<string, unknown> };

// ---- the controller ----------------------------------------------------------------------------

/** The row as `encryption_ref.items()` gives it (the model's columns, in its order). */
function encryptionDict(row: VolumeTypeEncryption | null): Record<string, unknown> {
  if (!row) return {};
  return {
    created_at: apiDateTime(row.created_at),
    updated_at: apiDateTime(row.updated_at),
    deleted_at: apiDateTime(row.deleted_at),
    deleted: row.deleted,
    encryption_id: row.encryption_id,
    cipher: row.cipher,
    key_size: row.key_size,
    provider: row.provider,
    control_location: row.control_location,
    volume_type_id: row.volume_type_id,
  };
}

/** `body['encryption']['key_size'] = int(key_size)` (the schema let only integer-like values through). */
function intKeySize(enc: Record<string, unknown>): void {
  const k = enc.key_size;
  if (k !== null && k !== undefined) enc.key_size = typeof k === 'string' ? Number(BigInt(k)) : Number(k);
}

/** The columns the request names, for the DB (other keys of the request are left out). */
function values(enc: Record<string, unknown>): EncryptionValues {
  const out: EncryptionValues = {};
  for (const k of ['provider', 'cipher', 'key_size', 'control_location'] as const) {
    if (k in enc) (out as Record<string, unknown>)[k] = enc[k];
  }
  return out;
}

const UPDATABLE = ['provider', 'cipher', 'key_size', 'control_location'];

/** The controller's methods over the database. */
export function encryptionTypeControllers(db: Db) {
  /** _check_type: volume_types.get_volume_type (VolumeTypeNotFound, 404). */
  const checkType = (c: Parameters<Controller>[0]) => getVolumeType(db, c.ctx, c.params.type_id);
  const inUse = async (typeId: string) => (await volumeTypeEncryptionVolumeCount(db, typeId)) > 0;

  const index: Controller = async (c) => {
    authorize(c.ctx, POLICY.get);
    await checkType(c);
    return { kind: 'object', status: 200, body: encryptionDict(await volumeTypeEncryptionGet(db, c.params.type_id)) };
  };

  const show: Controller = async (c) => {
    authorize(c.ctx, POLICY.get);
    await checkType(c);
    const specs = encryptionDict(await volumeTypeEncryptionGet(db, c.params.type_id));
    const key = c.params.key;
    if (!Object.prototype.hasOwnProperty.call(specs, key)) throw new VolumeTypeEncryptionNotFound({ type_id: c.params.type_id });
    return { kind: 'object', status: 200, body: { [key]: specs[key] } };
  };

  const create: Controller = async (c) => {
    const body = validateBody<EncryptionBody>(createSchema, c.body, c.bodyText);
    authorize(c.ctx, POLICY.create);
    const typeId = c.params.type_id;
    const enc = body.encryption;
    intKeySize(enc);
    if (await inUse(typeId)) throw new HttpFault(400, 'Cannot create encryption specs. Volume type in use.');
    await checkType(c);
    if (await volumeTypeEncryptionGet(db, typeId)) throw new VolumeTypeEncryptionExists({ type_id: typeId });
    // volume_type_encryption_create fills volume_type_id and encryption_id into the caller's dict,
    // which the controller then answers.
    const given = (k: string) => (typeof enc[k] === 'string' ? (enc[k] as string) : undefined);
    const row = await volumeTypeEncryptionCreate(db, given('volume_type_id') ?? typeId, values(enc), given('encryption_id'));
    if (!('volume_type_id' in enc)) enc.volume_type_id = typeId;
    if (!('encryption_id' in enc)) enc.encryption_id = row.encryption_id;
    return { kind: 'object', status: 200, body };
  };

  const update: Controller = async (c) => {
    const body = validateBody<EncryptionBody>(updateSchema, c.body, c.bodyText);
    authorize(c.ctx, POLICY.update);
    const typeId = c.params.type_id;
    const enc = body.encryption;
    intKeySize(enc);
    await checkType(c);
    if (await inUse(typeId)) throw new HttpFault(400, 'Cannot update encryption specs. Volume type in use.');
    // Query.update() with a key that is no column of `encryption` is an SQLAlchemy error (500).
    const unknown = Object.keys(enc).filter((k) => !UPDATABLE.includes(k));
    if (unknown.length) throw new Error(`InvalidRequestError: encryption has no column ${unknown.join(', ')} to update`);
    await volumeTypeEncryptionUpdate(db, typeId, values(enc));
    return { kind: 'object', status: 200, body };
  };

  const remove: Controller = async (c) => {
    authorize(c.ctx, POLICY.delete);
    const typeId = c.params.type_id;
    if (await inUse(typeId)) throw new HttpFault(400, 'Cannot delete encryption specs. Volume type in use.');
    await volumeTypeEncryptionDelete(db, typeId);
    return { kind: 'raw', status: 202 };
  };

  return { index, show, create, update, remove };
}

export function registerEncryptionTypeRoutes(app: FastifyInstance, db: Db): void {
  const c = encryptionTypeControllers(db);
  const m = {
    index: { kind: 'method', takesBody: 'none', controller: c.index },
    create: { kind: 'method', takesBody: 'required', controller: c.create },
    show: { kind: 'method', takesBody: 'none', controller: c.show },
    update: { kind: 'method', takesBody: 'required', controller: c.update },
    remove: { kind: 'method', takesBody: 'none', controller: c.remove },
    // routes.Mapper's `new` and `edit` name controller methods that do not exist.
    absent: { kind: 'absent' },
  } satisfies Record<string, ResourceMethod>;

  // The same parameter names as the /types routes (src/api/routes/types.ts): `id` is the type.
  const on = resourceRoutes(app, '/types/:id/encryption', (p) => ({ type_id: p.id!, ...(p.key !== undefined ? { key: p.key } : {}) }));
  on('GET', '', m.index);
  on('POST', '', m.create);
  on('GET', '/new', m.absent);
  on('GET', '/:key', m.show);
  on('PUT', '/:key', m.update);
  on('DELETE', '/:key', m.remove);
  on('GET', '/:key/edit', m.absent);
}
