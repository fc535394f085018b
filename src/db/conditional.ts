// conditional_update (cinder/db/sqlalchemy/api.py) and its expected-value language
// (_process_expected…): ONE `UPDATE … WHERE` that reports whether a row matched, on both engines.
import { and, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db, Tables } from './client.js';
import { dbNow } from './client.js';

/** db.Not(v): "different from v", where NULL counts as different unless v contains None. */
export class Not {
  constructor(readonly value: Expected) {}
}
export type Scalar = string | number | boolean | null;
export type Expected = Scalar | readonly Scalar[] | Not;

export function condition(col: SQLiteColumn, expected: Expected): SQL {
  if (expected instanceof Not) {
    const v = expected.value;
    if (v === null) return sql`${col} IS NOT NULL`;
    if (Array.isArray(v)) {
      if (v.includes(null)) return sql`NOT (${condition(col, v)})`;
      return sql`(${col} NOT IN ${v} OR ${col} IS NULL)`;
    }
    return sql`(${col} != ${v} OR ${col} IS NULL)`;
  }
  if (expected === null) return isNull(col);
  if (Array.isArray(expected)) {
    const values = expected.filter((v) => v !== null) as (string | number | boolean)[];
    if (expected.includes(null)) return or(isNull(col), ...values.map((v) => eq(col, v)))!;
    return inArray(col, values);
  }
  return eq(col, expected as string | number | boolean);
}

export type VolumeColumn = keyof Tables['volumes']['$inferSelect'];
export type SQLValues = Record<string, SQL | unknown>;

/**
 * objects.Volume.conditional_update(values, expected): UPDATE volumes SET values, updated_at=now
 * WHERE deleted=0 AND id=? AND <expected…> [AND <extra filters>]. True iff a row matched
 * (SQLite's changes() and MySQL's affected rows under CLIENT_FOUND_ROWS both count matched rows,
 * as Cinder relies on). `filters` are built from db.t, the engine's tables.
 */
export async function volumeConditionalUpdate(
  db: Db,
  volumeId: string,
  values: Partial<Record<VolumeColumn, unknown>> | SQLValues,
  expected: Partial<Record<VolumeColumn, Expected>>,
  filters: (t: Tables) => SQL[] = () => [],
): Promise<boolean> {
  const { volumes } = db.t;
  const where = [eq(volumes.deleted, false)];
  for (const [k, v] of Object.entries(expected)) {
    where.push(condition(volumes[k as VolumeColumn] as SQLiteColumn, v as Expected));
  }
  where.push(...filters(db.t), eq(volumes.id, volumeId));
  const res = await db.run((q) =>
    q
      .update(volumes)
      .set({ ...(values as Record<string, unknown>), updated_at: dbNow() })
      .where(and(...where)),
  );
  return db.matched(res) > 0;
}

/**
 * The unreserve CASE (volume/api.py unreserve_volume): in-use when a live attachment with
 * attach_status != 'detached' exists, else available — evaluated inside the same UPDATE.
 */
export const STATUS_FROM_LIVE_ATTACHMENTS = sql`CASE WHEN EXISTS (SELECT 1 FROM volume_attachment WHERE volume_attachment.volume_id = volumes.id AND volume_attachment.attach_status != 'detached' AND NOT volume_attachment.deleted) THEN 'in-use' ELSE 'available' END`;
