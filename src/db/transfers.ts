// The transfers table (cinder/db/sqlalchemy/api.py transfer_*): a transfer's row and its volume's
// status move together ('available' ↔ 'awaiting-transfer') in one transaction.
import { and, asc, eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Db } from './client.js';
import { dbNow } from './client.js';
import type { TransferRow } from './schema.js';

export type Transfer = TransferRow;

/** _transfer_get: a live transfer; a non-admin sees only those of its project's volumes. */
export function transferGet(db: Db, id: string, reader: { is_admin: boolean; project_id: string | null }): Promise<Transfer | null> {
  const { transfers: t, volumes: v } = db.t;
  return db.run(async (q) => {
    const conds = [eq(t.id, id), eq(t.deleted, false)];
    if (!reader.is_admin) conds.push(eq(v.project_id, reader.project_id ?? ''));
    const [row] = await q.select({ t }).from(t).innerJoin(v, eq(v.id, t.volume_id)).where(and(...conds)).limit(1);
    return row?.t ?? null;
  });
}

/** transfer_get_all (projectId unset) and transfer_get_all_by_project; filters on display_name only; oldest first. */
export function transferGetAll(db: Db, opts: { projectId?: string; displayName?: string }): Promise<Transfer[]> {
  const { transfers: t, volumes: v } = db.t;
  return db.run(async (q) => {
    const conds = [eq(t.deleted, false)];
    if (opts.projectId !== undefined) conds.push(eq(v.project_id, opts.projectId));
    if (opts.displayName !== undefined) conds.push(eq(t.display_name, opts.displayName));
    const rows = await q.select({ t }).from(t).innerJoin(v, eq(v.id, t.volume_id)).where(and(...conds)).orderBy(asc(t.created_at), asc(t.id));
    return rows.map((r) => r.t);
  });
}

/** transfer_create: the volume must be 'available' (it becomes 'awaiting-transfer'); null if it was not. */
export async function transferCreate(
  db: Db,
  values: { volume_id: string; display_name: string | null; salt: string; crypt_hash: string; no_snapshots: boolean; source_project_id: string | null },
): Promise<Transfer | null> {
  const { transfers: t, volumes: v } = db.t;
  const id = randomUUID();
  const ok = await db.tx(async (q) => {
    const now = dbNow();
    const res = await q.update(v).set({ status: 'awaiting-transfer', updated_at: now }).where(and(eq(v.id, values.volume_id), eq(v.status, 'available'), eq(v.deleted, false)));
    if (db.matched(res) === 0) return false;
    await q.insert(t).values({ ...values, id, expires_at: null, accepted: false, destination_project_id: null, created_at: now, deleted: false });
    return true;
  });
  if (!ok) return null;
  const { transfers } = db.t;
  return db.run(async (q) => (await q.select().from(transfers).where(eq(transfers.id, id)))[0] ?? null);
}

/** transfer_destroy: the volume goes back to 'available' if it was awaiting the transfer; the row is soft-deleted. */
export async function transferDestroy(db: Db, id: string, volumeId: string): Promise<void> {
  const { transfers: t, volumes: v } = db.t;
  await db.tx(async (q) => {
    const now = dbNow();
    await q.update(v).set({ status: 'available', updated_at: now }).where(and(eq(v.id, volumeId), eq(v.status, 'awaiting-transfer')));
    await q.update(t).set({ deleted: true, deleted_at: now }).where(eq(t.id, id));
  });
}

/** transfer_accept: the volume (awaiting-transfer) becomes the new owner's and 'available'; the transfer is accepted and soft-deleted. */
export async function transferAccept(db: Db, id: string, volumeId: string, userId: string | null, projectId: string | null): Promise<boolean> {
  const { transfers: t, volumes: v } = db.t;
  return db.tx(async (q) => {
    const now = dbNow();
    const res = await q
      .update(v)
      .set({ status: 'available', user_id: userId, project_id: projectId, updated_at: now })
      .where(and(eq(v.id, volumeId), eq(v.status, 'awaiting-transfer')));
    if (db.matched(res) === 0) return false;
    await q.update(t).set({ deleted: true, deleted_at: now, updated_at: now, destination_project_id: projectId, accepted: true }).where(eq(t.id, id));
    return true;
  });
}
