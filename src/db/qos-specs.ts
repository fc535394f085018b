// quality_of_service_specs (cinder/db/sqlalchemy/api.py qos_specs_* and volume_type_qos_*): an
// adjacency list. A spec's root row has specs_id NULL, key 'QoS_Specs_Name' and the name as value;
// its keys (the consumer among them) are rows whose specs_id is the root's id. Reads skip deleted
// roots; a root's children are read whatever their state and the deleted ones left out
// (_dict_with_children_specs), as the `specs` relationship loads them.
import { liveTypeId } from './type-access.js';
import { and, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { randomUUID } from 'node:crypto';
import type { Db, Q, Tables } from './client.js';
import { dbNow } from './client.js';
import type { QosSpecRow } from './schema.js';
import { paginate, TIMESTAMP_KINDS, type PageOptions, type PagingKinds } from './pagination.js';
import { withSpecs, type VolumeType } from './volume-types.js';
import { QoSSpecsExists, QoSSpecsNotFound, VolumeTypeNotFound } from '../common/exceptions.js';

/** The reserved key of a root row (qos_specs_create). */
export const QOS_NAME_KEY = 'QoS_Specs_Name';

/**
 * One QoS specs as _dict_with_qos_specs builds it. A spec's value may be NULL in the table (PUT
 * /qos-specs/{id} accepts null values, as Cinder's extra_specs_with_null schema does), so a value
 * read from `specs` can be null at run time even though the type says string.
 */
export interface QosSpecs {
  id: string;
  name: string;
  consumer: string;
  specs: Record<string, string>;
  created_at: string | null;
  /** The newest updated_at of its live keys, when one has one. */
  updated_at?: string | null;
}

/**
 * _dict_with_qos_specs for one root row and its children: the live children as key → value, the
 * consumer taken out of them (a root without one, never written by qos_specs_create, gets '').
 */
function toQosSpecs(root: QosSpecRow, children: QosSpecRow[]): QosSpecs {
  const specs: Record<string, string | null> = {};
  let updated: string | null = null;
  for (const c of children) {
    if (c.deleted) continue;
    if (c.updated_at && (!updated || c.updated_at > updated)) updated = c.updated_at;
    specs[c.key ?? ''] = c.value;
  }
  const consumer = specs.consumer ?? '';
  delete specs.consumer;
  const out: QosSpecs = { id: root.id, name: root.value ?? '', consumer, specs: specs as Record<string, string>, created_at: root.created_at };
  if (updated) out.updated_at = updated;
  return out;
}

async function childrenOf(q: Q, t: Tables, ids: string[]): Promise<Map<string, QosSpecRow[]>> {
  const by = new Map<string, QosSpecRow[]>();
  if (!ids.length) return by;
  const { qualityOfServiceSpecs: s } = t;
  const rows = await q.select().from(s).where(inArray(s.specs_id, ids));
  for (const r of rows) {
    const list = by.get(r.specs_id!) ?? [];
    list.push(r);
    by.set(r.specs_id!, list);
  }
  return by;
}

async function build(q: Q, t: Tables, roots: QosSpecRow[]): Promise<QosSpecs[]> {
  const named = roots.filter((r) => r.key === QOS_NAME_KEY);
  const kids = await childrenOf(q, t, named.map((r) => r.id));
  return named.map((r) => toQosSpecs(r, kids.get(r.id) ?? []));
}

/** resource_exists(QualityOfServiceSpecs, id): any live row of that id (require_qos_specs_exists). */
export async function qosSpecsExists(q: Q, t: Tables, id: string): Promise<boolean> {
  const s = t.qualityOfServiceSpecs;
  const [row] = await q
    .select({ id: s.id })
    .from(s)
    .where(and(eq(s.id, id), eq(s.deleted, false)))
    .limit(1);
  return !!row;
}

/**
 * qos_specs_get: the QoS specs of that id, or null when there is none (QoSSpecsNotFound in Cinder).
 * `inactive` reads a deleted one too.
 */
export function qosSpecsGet(db: Db, id: string, opts: { inactive?: boolean } = {}): Promise<QosSpecs | null> {
  const s = db.t.qualityOfServiceSpecs;
  return db.run(async (q) => {
    const roots = await q
      .select()
      .from(s)
      .where(and(eq(s.id, id), opts.inactive ? undefined : eq(s.deleted, false)));
    // _qos_specs_get_all_ref matches any row of that id; only a root makes an entry
    return (await build(q, db.t, roots))[0] ?? null;
  });
}

/**
 * qos_specs_get as the API reaches it: QoSSpecsNotFound when no live row has that id; the id of a
 * spec's key row (not a root) passes _qos_specs_get_all_ref but leaves _dict_with_qos_specs empty,
 * and Cinder's `[0]` is an IndexError (a 500).
 */
export function qosSpecsGetOrRaise(db: Db, id: string): Promise<QosSpecs> {
  const s = db.t.qualityOfServiceSpecs;
  return db.run(async (q) => {
    const rows = await q
      .select()
      .from(s)
      .where(and(eq(s.id, id), eq(s.deleted, false)));
    if (!rows.length) throw new QoSSpecsNotFound({ specs_id: id });
    const [spec] = await build(q, db.t, rows);
    if (!spec) throw new Error('IndexError: list index out of range');
    return spec;
  });
}

/** qos_specs_get_by_name: the live QoS specs of that name, or null. */
export function qosSpecsGetByName(db: Db, name: string, opts: { inactive?: boolean } = {}): Promise<QosSpecs | null> {
  const s = db.t.qualityOfServiceSpecs;
  return db.run(async (q) => {
    const roots = await q
      .select()
      .from(s)
      .where(and(eq(s.key, QOS_NAME_KEY), eq(s.value, name), opts.inactive ? undefined : eq(s.deleted, false)));
    return (await build(q, db.t, roots))[0] ?? null;
  });
}

/** The sortable columns of quality_of_service_specs (paginate_query's model attributes). */
const QOS_KINDS: PagingKinds = { ...TIMESTAMP_KINDS, id: 'string', specs_id: 'string', key: 'string', value: 'string' };
const QOS_COLUMNS = ['created_at', 'updated_at', 'deleted_at', 'deleted', 'id', 'specs_id', 'key', 'value'];
/** The model's relationships: filter_by(<relationship>='…') is an SQLAlchemy error (a 500). */
const QOS_RELATIONSHIPS = ['specs', 'qos_spec', 'vol_types'];

export interface QosListOptions extends PageOptions {
  marker?: string | null;
  /** What is left of the query after pagination and sorting (each key's last value). */
  filters?: Record<string, string>;
}

/**
 * qos_specs_get_all: the live roots filtered, sorted and paged by _generate_paginate_query
 * (default created_at desc, id desc). A marker is a live root's id (_qos_specs_get:
 * QoSSpecsNotFound otherwise). Filters (_process_qos_specs_filters) must all be model attributes
 * (is_valid_model_filters) or nothing matches; a column is compared as the engine compares the
 * query's text with it; a relationship, or a column named with the LIKE suffix `~`, makes
 * filter_by fail (500).
 */
export function qosSpecsGetAll(db: Db, opts: QosListOptions = {}): Promise<QosSpecs[]> {
  const s = db.t.qualityOfServiceSpecs;
  return db.run(async (q) => {
    const where: SQL[] = [eq(s.key, QOS_NAME_KEY), eq(s.deleted, false)];
    for (const [k, v] of Object.entries(opts.filters ?? {})) {
      const bare = k.replace(/~+$/, '');
      const isAttr = QOS_COLUMNS.includes(bare) || QOS_RELATIONSHIPS.includes(bare);
      if (!isAttr) return [];
      if (bare !== k || QOS_RELATIONSHIPS.includes(k)) throw new Error(`InvalidRequestError: cannot filter quality_of_service_specs by ${k}`);
      const col = (s as unknown as Record<string, SQLiteColumn>)[k];
      where.push(sql`${col} = ${v}`);
    }
    let marker: Record<string, unknown> | undefined;
    if (opts.marker !== undefined && opts.marker !== null) {
      const [m] = await q
        .select()
        .from(s)
        .where(and(eq(s.id, opts.marker), eq(s.key, QOS_NAME_KEY), eq(s.deleted, false)))
        .limit(1);
      if (!m) throw new QoSSpecsNotFound({ specs_id: opts.marker });
      marker = m;
    }
    const roots = await paginate<QosSpecRow>(q, s, QOS_KINDS, where, marker, opts);
    return build(q, db.t, roots);
  });
}

/**
 * qos_specs_create: QoSSpecsExists when a live spec has that name; the root row, the consumer row
 * and one row per spec. Returns {id, name, created_at}.
 */
export function qosSpecsCreate(
  db: Db,
  values: { name: string; consumer: string; specs?: Record<string, string | null> },
): Promise<{ id: string; name: string; created_at: string }> {
  const s = db.t.qualityOfServiceSpecs;
  return db.tx(async (q) => {
    const [dup] = await q
      .select({ id: s.id })
      .from(s)
      .where(and(eq(s.key, QOS_NAME_KEY), eq(s.value, values.name), eq(s.deleted, false)))
      .limit(1);
    if (dup) throw new QoSSpecsExists({ specs_id: values.name });
    const id = randomUUID();
    const now = dbNow();
    await q.insert(s).values({ id, key: QOS_NAME_KEY, value: values.name, created_at: now, deleted: false });
    await q.insert(s).values({ id: randomUUID(), specs_id: id, key: 'consumer', value: values.consumer, created_at: now, deleted: false });
    for (const [key, value] of Object.entries(values.specs ?? {})) {
      await q.insert(s).values({ id: randomUUID(), specs_id: id, key, value, created_at: now, deleted: false });
    }
    return { id, name: values.name, created_at: now };
  });
}

/**
 * qos_specs_update: QoSSpecsNotFound unless a live row has that id (require_qos_specs_exists);
 * every key (the consumer too, when given) is written on its live row (_qos_specs_get_item) or on
 * a new one. Returns the keys written.
 */
export function qosSpecsUpdate(
  db: Db,
  id: string,
  updates: { consumer?: string; specs?: Record<string, string | null> },
): Promise<Record<string, string | null>> {
  const s = db.t.qualityOfServiceSpecs;
  return db.tx(async (q) => {
    if (!(await qosSpecsExists(q, db.t, id))) throw new QoSSpecsNotFound({ specs_id: id });
    const specs: Record<string, string | null> = { ...(updates.specs ?? {}) };
    if (updates.consumer !== undefined) specs.consumer = updates.consumer;
    const now = dbNow();
    for (const [key, value] of Object.entries(specs)) {
      const [row] = await q
        .select({ id: s.id })
        .from(s)
        .where(and(eq(s.key, key), eq(s.specs_id, id), eq(s.deleted, false)))
        .limit(1);
      if (row) await q.update(s).set({ value, updated_at: now }).where(eq(s.id, row.id));
      else await q.insert(s).values({ id: randomUUID(), specs_id: id, key, value, created_at: now, deleted: false });
    }
    return specs;
  });
}

/** qos_specs_item_delete: soft-deletes the key's rows (the caller has checked that the key is live). */
export function qosSpecsItemDelete(db: Db, id: string, key: string): Promise<void> {
  const s = db.t.qualityOfServiceSpecs;
  return db.run(async (q) => {
    await q
      .update(s)
      .set({ deleted: true, deleted_at: dbNow() })
      .where(and(eq(s.key, key), eq(s.specs_id, id)));
  });
}

/** qos_specs_delete: QoSSpecsNotFound for an unknown id; soft-deletes the root and its children. */
export function qosSpecsDelete(db: Db, id: string): Promise<void> {
  const s = db.t.qualityOfServiceSpecs;
  return db.tx(async (q) => {
    if (!(await qosSpecsExists(q, db.t, id))) throw new QoSSpecsNotFound({ specs_id: id });
    await q
      .update(s)
      .set({ deleted: true, deleted_at: dbNow() })
      .where(or(eq(s.id, id), eq(s.specs_id, id)));
  });
}

/**
 * qos_specs_associations_get (volume_type_qos_associations_get): the live volume types with that
 * QoS specs id, with their extra specs; QoSSpecsNotFound for an unknown id.
 */
export function qosSpecsAssociationsGet(db: Db, id: string): Promise<VolumeType[]> {
  const vt = db.t.volumeTypes;
  return db.run(async (q) => {
    if (!(await qosSpecsExists(q, db.t, id))) throw new QoSSpecsNotFound({ specs_id: id });
    const rows = await q
      .select()
      .from(vt)
      .where(and(eq(vt.qos_specs_id, id), eq(vt.deleted, false)));
    return Promise.all(rows.map((r) => withSpecs(q, db.t, r, true)));
  });
}

/** qos_specs_associate (volume_type_qos_associate): VolumeTypeNotFound for an unknown type. */
export function qosSpecsAssociate(db: Db, id: string, typeId: string): Promise<void> {
  const vt = db.t.volumeTypes;
  return db.tx(async (q) => {
    await liveTypeId(q, db.t, typeId);
    await q.update(vt).set({ qos_specs_id: id, updated_at: dbNow() }).where(eq(vt.id, typeId));
  });
}

/** qos_specs_disassociate (volume_type_qos_disassociate): only when the type has these specs. */
export function qosSpecsDisassociate(db: Db, id: string, typeId: string): Promise<void> {
  const vt = db.t.volumeTypes;
  return db.tx(async (q) => {
    await liveTypeId(q, db.t, typeId);
    await q
      .update(vt)
      .set({ qos_specs_id: null, updated_at: dbNow() })
      .where(and(eq(vt.id, typeId), eq(vt.qos_specs_id, id)));
  });
}

/** qos_specs_disassociate_all (volume_type_qos_disassociate_all): every type, deleted ones too. */
export function qosSpecsDisassociateAll(db: Db, id: string): Promise<void> {
  const vt = db.t.volumeTypes;
  return db.run(async (q) => {
    await q.update(vt).set({ qos_specs_id: null, updated_at: dbNow() }).where(eq(vt.qos_specs_id, id));
  });
}

/** volume_type_qos_specs_get: the QoS specs of a type (null when it has none). */
export function volumeTypeQosSpecsGet(db: Db, typeId: string): Promise<QosSpecs | null> {
  const vt = db.t.volumeTypes;
  return db.run(async (q) => {
    const [row] = await q
      .select({ qos: vt.qos_specs_id })
      .from(vt)
      .where(and(eq(vt.id, typeId), eq(vt.deleted, false)))
      .limit(1);
    if (!row) throw new VolumeTypeNotFound({ volume_type_id: typeId });
    return row.qos ? qosSpecsGet(db, row.qos) : null;
  });
}

