// cinder/volume/qos_specs.py with the QualityOfServiceSpecs object's rules (cinder/objects/qos_specs.py):
// the QoS specs' logic between the API and the db layer. The object only writes what changed, so a
// key given the value it already has is not rewritten, and a new key whose value is null is not
// written at all (obj_get_changes compares with `_init_specs.get(key)`, None for a missing key).
import type { Db } from '../db/client.js';
import {
  qosSpecsAssociate,
  qosSpecsAssociationsGet,
  qosSpecsCreate,
  qosSpecsDelete,
  qosSpecsDisassociate,
  qosSpecsDisassociateAll,
  qosSpecsGetAll,
  qosSpecsGetOrRaise,
  qosSpecsItemDelete,
  qosSpecsUpdate,
  volumeTypeQosSpecsGet,
  type QosListOptions,
  type QosSpecs,
} from '../db/qos-specs.js';
import {
  InvalidInput,
  InvalidQoSSpecs,
  InvalidVolumeType,
  QoSSpecsInUse,
  QoSSpecsKeyNotFound,
} from '../common/exceptions.js';
import { pyLen } from '../common/python.js';

export type { QosSpecs };

/** fields.QoSConsumerValues.ALL */
export const QOS_CONSUMERS = ['back-end', 'front-end', 'both'] as const;

/** QualityOfServiceSpecs.__setattr__: the text of an invalid consumer (str() of the field itself). */
const CONSUMER_MSG =
  "Valid consumer of QoS specs are: QoSConsumerValues(default=<class 'oslo_versionedobjects.fields.UnspecifiedDefault'>," +
  "nullable=False,valid_values=('back-end', 'front-end', 'both'))";

/** Setting `consumer`: None takes the field's default (back-end), anything not valid is InvalidQoSSpecs. */
function coerceConsumer(v: unknown): string {
  if (v === null || v === undefined) return 'back-end';
  if (typeof v !== 'string' || !(QOS_CONSUMERS as readonly string[]).includes(v)) throw new InvalidQoSSpecs({ reason: CONSUMER_MSG });
  return v;
}

/** strutils.check_string_length as cinder.utils.check_string_length raises it (InvalidInput). */
function checkStringLength(value: unknown, name: string, min: number, max: number): void {
  if (typeof value !== 'string') throw new InvalidInput({ reason: `${name} is not a string or unicode` });
  const len = pyLen(value);
  if (len < min) throw new InvalidInput({ reason: `${name} has ${len} characters, less than ${min}.` });
  if (len > max) throw new InvalidInput({ reason: `${name} has ${len} characters, more than ${max}.` });
}

/** utils.validate_dictionary_string_length: every key 1..255, every non-null value 0..255. */
export function validateDictionaryStringLength(specs: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(specs)) {
    checkStringLength(key, `Key "${key}"`, 1, 255);
    if (value !== null && value !== undefined) checkStringLength(value, `Value for key "${key}"`, 0, 255);
  }
}

/** get_qos_specs: QoSSpecsNotFound (404) for an unknown id. */
export function getQosSpecs(db: Db, id: string | null | undefined): Promise<QosSpecs> {
  if (id === null || id === undefined) throw new InvalidQoSSpecs({ reason: 'id cannot be None' });
  return qosSpecsGetOrRaise(db, id);
}

/** get_all_specs */
export function getAllSpecs(db: Db, opts: QosListOptions): Promise<QosSpecs[]> {
  return qosSpecsGetAll(db, opts);
}

/**
 * create: the specs' strings checked, the consumer (when truthy) taken out of them, null values
 * dropped (never a change of the new object), then qos_specs_create (QoSSpecsExists). Returns the
 * object as Cinder's create leaves it.
 */
export async function createQosSpecs(db: Db, name: string, specs: Record<string, unknown>): Promise<QosSpecs> {
  validateDictionaryStringLength(specs);
  const rest: Record<string, unknown> = { ...specs };
  const given = specs.consumer;
  if (given) delete rest.consumer;
  const consumer = coerceConsumer(given);
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== null && v !== undefined) kept[k] = v as string;
  const row = await qosSpecsCreate(db, { name, consumer, specs: kept });
  return { id: row.id, name: row.name, consumer, specs: kept, created_at: row.created_at };
}

/**
 * update: the object's save(): the consumer when given (None is back-end), and the keys whose
 * value differs from the stored one (a stored null included).
 */
export async function updateQosSpecs(db: Db, id: string, specs: Record<string, string | null>): Promise<void> {
  try {
    validateDictionaryStringLength(specs);
  } catch (e) {
    if (e instanceof InvalidInput) throw new InvalidQoSSpecs({ reason: e.message });
    throw e;
  }
  const current = await getQosSpecs(db, id);
  const rest = { ...specs };
  let consumer: string | undefined;
  if ('consumer' in rest) {
    consumer = coerceConsumer(rest.consumer);
    delete rest.consumer;
  }
  const cur = current.specs as Record<string, string | null>;
  const changes: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(rest)) {
    const before = Object.prototype.hasOwnProperty.call(cur, k) ? cur[k] : null;
    if (v !== before) changes[k] = v;
  }
  if (consumer === undefined && !Object.keys(changes).length) return;
  await qosSpecsUpdate(db, id, { consumer, specs: changes });
}

/** The live volume types with these specs (QualityOfServiceSpecs.volume_types). */
async function associatedTypes(db: Db, id: string) {
  return qosSpecsAssociationsGet(db, id);
}

/**
 * delete: QoSSpecsInUse while a live type uses the specs, unless `force`, which first takes them
 * off every type; then the specs and their keys are soft-deleted.
 */
export async function deleteQosSpecs(db: Db, id: string | null | undefined, force: boolean): Promise<void> {
  if (id === null || id === undefined) throw new InvalidQoSSpecs({ reason: 'id cannot be None' });
  const spec = await getQosSpecs(db, id);
  if ((await associatedTypes(db, spec.id)).length) {
    if (!force) throw new QoSSpecsInUse({ specs_id: spec.id });
    await qosSpecsDisassociateAll(db, spec.id);
  }
  await qosSpecsDelete(db, spec.id);
}

/**
 * delete_keys: the keys are removed in order until one is not set (QoSSpecsKeyNotFound); those
 * removed before it stay removed (the object is saved in a `finally`).
 */
export async function deleteQosSpecsKeys(db: Db, id: string | null | undefined, keys: string[]): Promise<void> {
  if (id === null || id === undefined) throw new InvalidQoSSpecs({ reason: 'id cannot be None' });
  const spec = await getQosSpecs(db, id);
  const remaining: Record<string, unknown> = { ...spec.specs };
  const removed: string[] = [];
  try {
    for (const key of keys) {
      if (!Object.prototype.hasOwnProperty.call(remaining, key)) throw new QoSSpecsKeyNotFound({ specs_key: key, specs_id: id });
      delete remaining[key];
      removed.push(key);
    }
  } finally {
    for (const key of removed) await qosSpecsItemDelete(db, id, key);
  }
}

/** get_associations: `{association_type: 'volume_type', name, id}` per live type with these specs. */
export async function getAssociations(db: Db, id: string): Promise<{ association_type: string; name: string | null; id: string }[]> {
  const types = await associatedTypes(db, id);
  return types.map((t) => ({ association_type: 'volume_type', name: t.name, id: t.id }));
}

/**
 * associate_qos_with_type: QoSSpecsNotFound / VolumeTypeNotFound; a type that already has other
 * specs is an InvalidVolumeType; the same specs again change nothing.
 */
export async function associateQosWithType(db: Db, specsId: string, typeId: string): Promise<void> {
  await getQosSpecs(db, specsId);
  const res = await volumeTypeQosSpecsGet(db, typeId);
  if (res) {
    if (res.id !== specsId) {
      throw new InvalidVolumeType({
        reason: `Type ${typeId} is already associated with another qos specs: ${res.id}`,
      });
    }
    return;
  }
  await qosSpecsAssociate(db, specsId, typeId);
}

/** disassociate_qos_specs: QoSSpecsNotFound / VolumeTypeNotFound; a type without these specs is left alone. */
export async function disassociateQosSpecs(db: Db, specsId: string, typeId: string): Promise<void> {
  await getQosSpecs(db, specsId);
  await qosSpecsDisassociate(db, specsId, typeId);
}

/** disassociate_all: every type with these specs loses them. */
export async function disassociateAll(db: Db, specsId: string): Promise<void> {
  await getQosSpecs(db, specsId);
  await qosSpecsDisassociateAll(db, specsId);
}
