// A volume's user metadata (cinder/db/sqlalchemy/api.py volume_metadata_get,
// volume_metadata_update through _volume_x_metadata_update, volume_metadata_delete) and the
// admin-metadata upsert of volume_admin_metadata_update.
import { and, eq, notInArray, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { dbNow } from './client.js';

/** volume_metadata_get: the live user metadata as key → value. */
export async function volumeMetadataGet(db: Db, volumeId: string): Promise<Record<string, string>> {
  const { volumeMetadata: t } = db.t;
  const rows = await db.run((q) =>
    q
      .select({ key: t.key, value: t.value })
      .from(t)
      .where(and(eq(t.volume_id, volumeId), eq(t.deleted, false))),
  );
  const out: Record<string, string> = {};
  for (const r of rows) if (r.key !== null) out[r.key] = r.value ?? '';
  return out;
}

/**
 * volume_metadata_update (user metadata): with `del`, the live keys not in `metadata` are
 * soft-deleted first; then changed values are updated and new keys inserted. Returns the result
 * dict as Cinder builds it: the saved (changed, then new) rows first, then the unchanged ones.
 */
export async function volumeMetadataUpdate(
  db: Db,
  volumeId: string,
  metadata: Record<string, string>,
  del: boolean,
): Promise<Record<string, string>> {
  const { volumeMetadata: t } = db.t;
  const now = dbNow();
  return db.tx(async (q) => {
    if (del) {
      const keys = Object.keys(metadata);
      await q
        .update(t)
        .set({ deleted: true, deleted_at: now, updated_at: now })
        .where(and(eq(t.volume_id, volumeId), eq(t.deleted, false), ...(keys.length ? [notInArray(t.key, keys)] : [])));
    }
    const rows = await q
      .select({ id: t.id, key: t.key, value: t.value })
      .from(t)
      .where(and(eq(t.volume_id, volumeId), eq(t.deleted, false)));
    const pending = new Map(Object.entries(metadata));
    const saved: [string, string][] = [];
    const skipped: [string, string][] = [];
    for (const r of rows) {
      if (r.key === null) continue;
      if (pending.has(r.key)) {
        const value = pending.get(r.key)!;
        pending.delete(r.key);
        if (r.value !== value) {
          await q.update(t).set({ value, updated_at: now }).where(eq(t.id, r.id));
          saved.push([r.key, value]);
          continue;
        }
      }
      skipped.push([r.key, r.value ?? '']);
    }
    for (const [key, value] of pending) {
      await q.insert(t).values({ volume_id: volumeId, key, value, created_at: now, deleted: false });
      saved.push([key, value]);
    }
    return Object.fromEntries([...saved, ...skipped]);
  });
}

/** volume_metadata_delete (user metadata): soft-delete the key's live rows, updated_at kept. */
export async function volumeMetadataDelete(db: Db, volumeId: string, key: string): Promise<void> {
  const { volumeMetadata: t } = db.t;
  await db.run((q) =>
    q
      .update(t)
      .set({ deleted: true, deleted_at: dbNow(), updated_at: sql`${t.updated_at}` })
      .where(and(eq(t.volume_id, volumeId), eq(t.key, key), eq(t.deleted, false))),
  );
}
