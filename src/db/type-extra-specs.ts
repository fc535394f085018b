// volume_type_extra_specs (cinder/db/sqlalchemy/api.py volume_type_extra_specs_*): a type's live
// key → value rows; a value may be NULL.
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { dbNow } from './client.js';
import { VolumeTypeExtraSpecsNotFound } from '../common/exceptions.js';

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

