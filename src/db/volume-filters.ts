// The volume list filters of cinder/db/sqlalchemy/api.py: _process_volume_filters (wrapped by
// apply_like_filters(models.Volume)), _filter_host, _filter_time_comparison, plus the queries that
// use them: calculate_resource_count('volume') and get_volume_summary.
import { and, eq, gt, gte, inArray, isNull, like, lt, lte, ne, notLike, or, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db, Tables } from './client.js';
import { dbNow } from './client.js';
import { VOLUME_PAGING } from './volumes.js';

/**
 * The filter dict as the volume API hands it down: scalar values (exact match), arrays (IN),
 * `metadata` as a dict, `created_at`/`updated_at` as {operator: Date}, keys ending in `~` (LIKE),
 * and `no_migration_targets`.
 */
export type VolumeFilters = Record<string, unknown>;

/** Columns of models.Volume (relationships and properties are no valid filter keys). */
let columns: Set<string> | undefined;
const isColumn = (k: string) => (columns ??= new Set([...Object.keys(VOLUME_PAGING), 'deleted_at'])).has(k);

function isDict(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/** _filter_host: exact at pool level ('#'), also value#% at backend level ('@'), also value@% for a host. */
function filterHost(db: Db, field: SQLiteColumn, value: string): SQL {
  // Cinder forces case-sensitive matching on MySQL (BINARY / LIKE BINARY).
  const bin = db.dialect === 'mysql';
  const eqv = bin ? sql`${field} = BINARY ${value}` : eq(field, value);
  const likeOp = (pattern: string) => (bin ? sql`${field} LIKE BINARY ${pattern}` : like(field, pattern));
  const conditions: SQL[] = [eqv];
  if (!value.includes('#')) {
    conditions.push(likeOp(`${value}#%`));
    if (!value.includes('@')) conditions.push(likeOp(`${value}@%`));
  }
  return or(...conditions)!;
}

/** _filter_time_comparison: the operators OR'ed (timeutils.normalize_time: naive UTC). */
function filterTime(field: SQLiteColumn, ops: Record<string, Date>): SQL {
  const conditions: SQL[] = [];
  for (const [op, when] of Object.entries(ops)) {
    const t = dbNow(when);
    if (op === 'gt') conditions.push(gt(field, t));
    else if (op === 'gte') conditions.push(gte(field, t));
    if (op === 'eq') conditions.push(eq(field, t));
    else if (op === 'neq') conditions.push(ne(field, t));
    if (op === 'lt') conditions.push(lt(field, t));
    else if (op === 'lte') conditions.push(lte(field, t));
  }
  return or(...conditions) ?? sql`1 = 0`;
}

/** Python's `'%%%s%%' % value` of the LIKE filters. */
function pyStrValue(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/**
 * The WHERE conditions for `filters`, or null where Cinder's _process_volume_filters returns None
 * (an unknown key, a relationship, a metadata value that is no dict): the query then yields nothing.
 */
export function volumeFilterConditions(db: Db, filters: VolumeFilters): SQL[] | null {
  const { volumes, volumeMetadata: vm, volumeAdminMetadata: vam } = db.t as Tables;
  const col = (k: string) => (volumes as unknown as Record<string, SQLiteColumn>)[k];
  const exact: Record<string, unknown> = {};
  const regex: Record<string, unknown> = {};
  // apply_like_filters: 'key~' filters become LIKE '%value%' after the exact ones.
  for (const [k, v] of Object.entries(filters)) {
    if (k.endsWith('~')) regex[k.replace(/~+$/, '')] = v;
    else exact[k] = v;
  }
  const where: SQL[] = [];
  if (exact.no_migration_targets) {
    delete exact.no_migration_targets;
    where.push(or(isNull(volumes.migration_status), notLike(volumes.migration_status, 'target:%'))!);
  }
  for (const k of ['host', 'cluster_name'] as const) {
    const v = exact[k];
    delete exact[k];
    if (v) where.push(filterHost(db, col(k), String(v)));
  }
  for (const k of ['created_at', 'updated_at'] as const) {
    if (exact[k]) {
      where.push(filterTime(col(k), exact[k] as Record<string, Date>));
      delete exact[k];
    }
  }
  for (const [k, v] of Object.entries(exact)) {
    if (k === 'metadata' || k === 'glance_metadata') {
      if (!isDict(v)) return null;
      continue;
    }
    if (!isColumn(k)) return null;
  }
  for (const [k, v] of Object.entries(exact)) {
    if (k === 'metadata') {
      // volume_metadata.any(key=k, value=v) or volume_admin_metadata.any(...): live rows only.
      for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) {
        const val = mv as string;
        where.push(
          sql`(EXISTS (SELECT 1 FROM ${vm} WHERE ${vm.volume_id} = ${volumes.id} AND ${vm.key} = ${mk} AND ${vm.value} = ${val} AND NOT ${vm.deleted}) OR EXISTS (SELECT 1 FROM ${vam} WHERE ${vam.volume_id} = ${volumes.id} AND ${vam.key} = ${mk} AND ${vam.value} = ${val} AND NOT ${vam.deleted}))`,
        );
      }
    } else if (k === 'glance_metadata') {
      // No image metadata in this port: any pair matches no volume.
      if (Object.keys(v as object).length) where.push(sql`1 = 0`);
    } else if (Array.isArray(v)) {
      where.push(v.length ? inArray(col(k), v as never[]) : sql`1 = 0`);
    } else if (v === null) {
      where.push(isNull(col(k)));
    } else if (isDict(v)) {
      // filter_by(col=<dict>): SQLAlchemy cannot bind a dict (a 500 in Cinder).
      throw new Error(`cannot filter ${k} by a dict`);
    } else {
      where.push(eq(col(k), v as never));
    }
  }
  // _process_model_like_filter: sorted keys; unknown attributes raise (AttributeError, 500), and
  // non-str/int values are skipped.
  for (const k of Object.keys(regex).sort()) {
    const v = regex[k];
    if (!isColumn(k)) throw new Error(`AttributeError: type object 'Volume' has no attribute '${k}'`);
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v)) && typeof v !== 'boolean') continue;
    where.push(like(col(k), `%${pyStrValue(v)}%`));
  }
  return where;
}

/**
 * calculate_resource_count(context, 'volume', filters): the live volumes that match (the volume
 * API puts the project into the filters).
 */
export async function volumeCount(db: Db, filters: VolumeFilters): Promise<number> {
  const { volumes } = db.t;
  const conds = Object.keys(filters).length ? volumeFilterConditions(db, filters) : [];
  if (conds === null) return 0;
  const [row] = await db.run((q) =>
    q
      .select({ n: sql<number>`count(*)` })
      .from(volumes)
      .where(and(eq(volumes.deleted, false), ...conds)),
  );
  return Number(row?.n ?? 0);
}

/**
 * get_volume_summary(context, project_only): the count and total size of live volumes (of the
 * caller's project unless project_only is false) and every distinct live user metadata pair, as
 * {key: [values]}. The API passes no filters.
 */
export async function volumeSummary(
  db: Db,
  projectId: string | null,
): Promise<{ count: number; size: number; metadata: Record<string, string[]> }> {
  const { volumes, volumeMetadata: vm } = db.t;
  return db.run(async (q) => {
    const where: SQL[] = [eq(volumes.deleted, false)];
    if (projectId !== null) where.push(eq(volumes.project_id, projectId));
    const [totals] = await q
      .select({ n: sql<number>`count(${volumes.id})`, size: sql<number | null>`sum(${volumes.size})` })
      .from(volumes)
      .where(and(...where));
    const mwhere: SQL[] = [eq(vm.deleted, false)];
    const rows =
      projectId === null
        ? await q.selectDistinct({ key: vm.key, value: vm.value }).from(vm).where(and(...mwhere))
        : await q
            .selectDistinct({ key: vm.key, value: vm.value })
            .from(vm)
            .innerJoin(volumes, eq(volumes.id, vm.volume_id))
            .where(and(...mwhere, eq(volumes.project_id, projectId)));
    const metadata: Record<string, string[]> = {};
    for (const r of rows) {
      if (r.key === null) continue;
      (metadata[r.key] ??= []).push(r.value as string);
    }
    return { count: Number(totals?.n ?? 0), size: Number(totals?.size ?? 0), metadata };
  });
}
