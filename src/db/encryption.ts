// encryption (cinder/db/sqlalchemy/api.py volume_type_encryption_*): one live row per volume type,
// soft-deleted; `encryption_id` is a uuid given at create.
import { and, count, eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Db } from './client.js';
import { dbNow } from './client.js';
import type { EncryptionRow } from './schema.js';
import { VolumeTypeEncryptionNotFound } from '../common/exceptions.js';

export type VolumeTypeEncryption = EncryptionRow;

/** The writable columns (the schema's properties). */
export interface EncryptionValues {
  provider?: string | null;
  cipher?: string | null;
  key_size?: number | null;
  control_location?: string | null;
}

/** volume_type_encryption_get: the type's live encryption row, or null. */
export function volumeTypeEncryptionGet(db: Db, typeId: string): Promise<VolumeTypeEncryption | null> {
  const e = db.t.encryption;
  return db.run(async (q) => {
    const [row] = await q
      .select()
      .from(e)
      .where(and(eq(e.volume_type_id, typeId), eq(e.deleted, false)))
      .limit(1);
    return row ?? null;
  });
}

/** volume_types.is_encrypted: whether the type has a live encryption row. */
export async function isEncrypted(db: Db, typeId: string | null | undefined): Promise<boolean> {
  if (!typeId) return false;
  return (await volumeTypeEncryptionGet(db, typeId)) !== null;
}

/** volume_type_encryption_create: a new row, with a fresh encryption_id unless one is given; returns it. */
export function volumeTypeEncryptionCreate(
  db: Db,
  typeId: string,
  values: EncryptionValues,
  encryptionId?: string,
): Promise<VolumeTypeEncryption> {
  const e = db.t.encryption;
  return db.tx(async (q) => {
    const row = {
      encryption_id: encryptionId ?? randomUUID(),
      volume_type_id: typeId,
      provider: values.provider ?? null,
      cipher: values.cipher ?? null,
      key_size: values.key_size ?? null,
      control_location: values.control_location ?? null,
      created_at: dbNow(),
      updated_at: null,
      deleted_at: null,
      deleted: false,
    };
    await q.insert(e).values(row);
    return row;
  });
}

/**
 * volume_type_encryption_update: writes the given columns on the type's rows (model_query reads
 * live ones); VolumeTypeEncryptionNotFound when there is none.
 */
export function volumeTypeEncryptionUpdate(db: Db, typeId: string, values: EncryptionValues): Promise<void> {
  const e = db.t.encryption;
  return db.tx(async (q) => {
    const set: Record<string, unknown> = { updated_at: dbNow() };
    for (const k of ['provider', 'cipher', 'key_size', 'control_location'] as const) if (k in values) set[k] = values[k];
    const res = await q
      .update(e)
      .set(set)
      .where(and(eq(e.volume_type_id, typeId), eq(e.deleted, false)));
    if (!db.matched(res)) throw new VolumeTypeEncryptionNotFound({ type_id: typeId });
  });
}

/** volume_type_encryption_delete: soft-deletes the live row; VolumeTypeEncryptionNotFound when none. */
export function volumeTypeEncryptionDelete(db: Db, typeId: string): Promise<void> {
  const e = db.t.encryption;
  return db.tx(async (q) => {
    const [row] = await q
      .select({ id: e.encryption_id })
      .from(e)
      .where(and(eq(e.volume_type_id, typeId), eq(e.deleted, false)))
      .limit(1);
    if (!row) throw new VolumeTypeEncryptionNotFound({ type_id: typeId });
    await q.update(e).set({ deleted: true, deleted_at: dbNow() }).where(eq(e.encryption_id, row.id));
  });
}

/** volume_type_encryption_volume_get, counted: the live volumes of any project with that type. */
export function volumeTypeEncryptionVolumeCount(db: Db, typeId: string): Promise<number> {
  const v = db.t.volumes;
  return db.run(async (q) => {
    const [row] = await q
      .select({ n: count() })
      .from(v)
      .where(and(eq(v.volume_type_id, typeId), eq(v.deleted, false)));
    return Number(row?.n ?? 0);
  });
}
