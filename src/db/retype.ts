// The DB side of os-retype: the conditional update that moves a volume to 'retyping'
// (cinder/volume/api.py retype with db.volume_qos_allows_retype, cinder/db/sqlalchemy/api.py), and
// the three parts of a volume type that volume_types.volume_types_diff compares (extra specs, QoS
// specs, encryption).
import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db, Tables } from './client.js';
import { dbNow } from './client.js';
import { condition, Not, type Expected } from './conditional.js';
import { volumeTypeEncryptionGet } from './encryption.js';
import { qosSpecsGet } from './qos-specs.js';
import { volumeTypeGet } from './volume-types.js';
import { VolumeTypeNotFound } from '../common/exceptions.js';
import { AVAILABLE_MIGRATION_STATUS } from '../objects/volume.js';

/**
 * db.volume_qos_allows_retype(new_type_id): true for an 'available' volume; for any other, only
 * when both types have the same qos_specs_id, or neither type's QoS has a consumer other than
 * 'back-end' (front-end QoS of an attached volume cannot change: Nova applied it). The same SQL as
 * Cinder's: `value != 'back-end'` is false for NULL too, so only 'back-end' and NULL consumers pass.
 */
export function qosAllowsRetype(t: Tables, newTypeId: string): SQL {
  const { volumes: v, volumeTypes: vt, qualityOfServiceSpecs: qs } = t;
  // The inner SELECT's volume_types is its own FROM (the nearest scope), as in Cinder's SQL.
  const newQos = sql`(SELECT ${vt.qos_specs_id} FROM ${vt} WHERE ${and(eq(vt.deleted, false), eq(vt.id, newTypeId))})`;
  const frontEndConsumer = (typeId: SQL | SQLiteColumn | string) =>
    sql`EXISTS (SELECT 1 FROM ${vt}, ${qs} WHERE ${and(
      eq(vt.deleted, false),
      typeof typeId === 'string' ? eq(vt.id, typeId) : sql`${vt.id} = ${typeId}`,
      sql`${vt.qos_specs_id} = ${qs.specs_id}`,
      eq(qs.key, 'consumer'),
      sql`${qs.value} != 'back-end'`,
    )})`;
  return or(
    eq(v.status, 'available'),
    sql`EXISTS (SELECT 1 FROM ${vt} WHERE ${and(eq(vt.deleted, false), sql`${vt.id} = ${v.volume_type_id}`, sql`${vt.qos_specs_id} = ${newQos}`)})`,
    and(sql`NOT ${frontEndConsumer(v.volume_type_id)}`, sql`NOT ${frontEndConsumer(newTypeId)}`),
  )!;
}

/**
 * volume.conditional_update({'status': 'retyping', 'previous_status': Volume.model.status},
 * expected, [volume_qos_allows_retype(new_type_id)]) as Cinder's retype builds it: available or
 * in-use, not migrating, in no consistency group or group, another type, QoS allowing it. One
 * UPDATE, whose SET names previous_status before status (MariaDB evaluates the assignments in
 * order; Cinder's _conditional_update orders the ORM-valued ones first for the same reason, which
 * drizzle's column-ordered SET cannot). True iff the row matched.
 */
export async function volumeRetypeConditionalUpdate(db: Db, volumeId: string, newTypeId: string): Promise<boolean> {
  const { volumes: v } = db.t;
  const expected: [SQLiteColumn, Expected][] = [
    [v.status, ['available', 'in-use']],
    [v.migration_status, AVAILABLE_MIGRATION_STATUS],
    [v.consistencygroup_id, [null, '']],
    [v.group_id, [null, '']],
    [v.volume_type_id, new Not(newTypeId)],
  ];
  const where = and(
    eq(v.deleted, false),
    ...expected.map(([col, e]) => condition(col, e)),
    qosAllowsRetype(db.t, newTypeId),
    eq(v.id, volumeId),
  );
  const stmt = sql`UPDATE ${v} SET ${sql.identifier('previous_status')} = ${v.status}, ${sql.identifier('status')} = ${'retyping'}, ${sql.identifier('updated_at')} = ${dbNow()} WHERE ${where}`;
  const res = await db.run((q) =>
    db.dialect === 'sqlite' ? Promise.resolve(q.run(stmt)) : (q as unknown as { execute(s: SQL): Promise<unknown> }).execute(stmt),
  );
  return db.matched(res) > 0;
}

/** What volume_types_diff compares for one type (None for each part of a missing type id). */
export interface TypeSpecs {
  extra_specs: Record<string, string | null> | null;
  /** The QoS as _fix_qos_specs leaves it: consumer and the keys (id, name and times dropped). */
  qos_specs: Record<string, string> | null;
  /** The encryption row without volume_type_id, encryption_id and the times. */
  encryption: Record<string, unknown> | null;
}

/** (value in the first type, value in the second) per key, as volume_types_diff reports it. */
export type SpecsDiff = Record<string, [unknown, unknown]>;
export interface TypesDiff {
  extra_specs: SpecsDiff;
  qos_specs: SpecsDiff;
  encryption: SpecsDiff;
}

/** The three parts of a type (get_volume_type, get_volume_type_qos_specs, get_volume_type_encryption). */
export async function typeSpecs(db: Db, typeId: string | null): Promise<TypeSpecs> {
  if (typeId === null) return { extra_specs: null, qos_specs: null, encryption: null };
  const type = await volumeTypeGet(db, typeId);
  if (!type) throw new VolumeTypeNotFound({ volume_type_id: typeId });
  const qos = type.qos_specs_id ? await qosSpecsGet(db, type.qos_specs_id) : null;
  const enc = await volumeTypeEncryptionGet(db, typeId);
  let encryption: Record<string, unknown> | null = null;
  if (enc) {
    const { volume_type_id: _t, created_at: _c, updated_at: _u, deleted_at: _d, encryption_id: _e, ...rest } = enc;
    encryption = rest;
  }
  return {
    extra_specs: type.extra_specs,
    // _fix_qos_specs: QOS_IGNORED_FIELDS out, the specs merged in beside the consumer.
    qos_specs: qos ? { consumer: qos.consumer, ...qos.specs } : null,
    encryption,
  };
}

/** _dict_diff: every key of either side with both values; equal when no key differs or is missing. */
function dictDiff(a: Record<string, unknown> | null, b: Record<string, unknown> | null): [SpecsDiff, boolean] {
  const d1 = a ?? {};
  const d2 = b ?? {};
  const res: SpecsDiff = {};
  let equal = true;
  for (const [k, v] of Object.entries(d1)) {
    res[k] = [v, Object.hasOwn(d2, k) ? d2[k] : null];
    if (!Object.hasOwn(d2, k) || res[k][0] !== res[k][1]) equal = false;
  }
  for (const [k, v] of Object.entries(d2)) {
    res[k] = [Object.hasOwn(d1, k) ? d1[k] : null, v];
    if (!Object.hasOwn(d1, k) || res[k][0] !== res[k][1]) equal = false;
  }
  return [res, equal];
}

/** volume_types.volume_types_diff(ctx, id1, id2) → [diff, all_equal]. */
export async function volumeTypesDiff(db: Db, typeId1: string | null, typeId2: string | null): Promise<[TypesDiff, boolean]> {
  const [s1, s2] = [await typeSpecs(db, typeId1), await typeSpecs(db, typeId2)];
  const [extra, e1] = dictDiff(s1.extra_specs, s2.extra_specs);
  const [qos, e2] = dictDiff(s1.qos_specs, s2.qos_specs);
  const [enc, e3] = dictDiff(s1.encryption, s2.encryption);
  return [{ extra_specs: extra, qos_specs: qos, encryption: enc }, e1 && e2 && e3];
}
