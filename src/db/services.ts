// services (how Python peers and our API find live volume backends) and workers
// (objects/cleanable.py and db worker_*: cleanable work a volume-manager has in hand).
import { and, asc, eq, like, or, sql } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Db, Q } from './client.js';
import { dbNow } from './client.js';
import type { workers } from './schema.js';

/** The live (not deleted) row of a service, if it ever registered. */
async function serviceRow(db: Db, host: string, binary: string) {
  const { services: s } = db.t;
  const [row] = await db.run((q) =>
    q
      .select({ id: s.id, uuid: s.uuid, report_count: s.report_count })
      .from(s)
      .where(and(eq(s.host, host), eq(s.binary, binary), eq(s.deleted, false)))
      .limit(1),
  );
  return row;
}

/** Insert or refresh this service's heartbeat row; returns the row's id and uuid (Cinder's service_uuid). */
export async function serviceReport(
  db: Db,
  s: { host: string; binary: string; topic: string; availability_zone: string; rpc: string; objects: string },
): Promise<{ id: number; uuid: string }> {
  const now = dbNow();
  const { services } = db.t;
  const existing = await serviceRow(db, s.host, s.binary);
  if (existing) {
    // report_count = report_count + 1 in the statement: several API workers may report at once.
    await db.run((q) =>
      q
        .update(services)
        .set({
          updated_at: now,
          report_count: sql`${services.report_count} + 1`,
          rpc_current_version: s.rpc,
          object_current_version: s.objects,
        })
        .where(eq(services.id, existing.id)),
    );
    if (existing.uuid) return { id: existing.id, uuid: existing.uuid };
    // A row written without one (Cinder fills it in the same way, manager.py _update_service_uuid).
    const uuid = randomUUID();
    await db.run((q) => q.update(services).set({ uuid }).where(eq(services.id, existing.id)));
    return { id: existing.id, uuid };
  }
  const uuid = randomUUID();
  const res = await db.run((q) =>
    q.insert(services).values({
      uuid,
      host: s.host,
      binary: s.binary,
      topic: s.topic,
      availability_zone: s.availability_zone,
      rpc_current_version: s.rpc,
      object_current_version: s.objects,
      created_at: now,
      updated_at: now,
      deleted: false,
      report_count: 1,
    }),
  );
  return { id: db.insertId(res), uuid };
}

/** services.id of a live service row, or null when it never registered. */
export async function serviceIdOf(db: Db, host: string, binary: string): Promise<number | null> {
  return (await serviceRow(db, host, binary))?.id ?? null;
}

/**
 * list_availability_zones: the zones of the cinder-volume services (up or down, enabled or not),
 * which are the zones a volume may be created in.
 */
export async function volumeServiceZones(db: Db): Promise<string[]> {
  const { services: s } = db.t;
  const rows = await db.run((q) =>
    q
      .selectDistinct({ az: s.availability_zone })
      .from(s)
      .where(and(eq(s.topic, 'cinder-volume'), eq(s.deleted, false))),
  );
  return rows.map((r) => r.az).filter((az): az is string => az !== null);
}

/**
 * service_get_all(host_or_cluster=…, binary=…) (db/sqlalchemy/api.py _filter_host): a host or
 * cluster given as `H` matches `H`, `H@…` and `H#…`; as `H@B` it matches `H@B` and `H@B#…` (LIKE
 * without escaping, as Cinder's).
 */
export function servicesOfHostOrCluster(db: Db, value: string, binary: string) {
  const { services: s } = db.t;
  const match = (col: typeof s.host | typeof s.cluster_name) =>
    value.includes('#')
      ? eq(col, value)
      : or(eq(col, value), like(col, `${value}#%`), ...(value.includes('@') ? [] : [like(col, `${value}@%`)]));
  return db.run((q) =>
    q
      .select()
      .from(s)
      .where(and(eq(s.binary, binary), eq(s.deleted, false), or(match(s.host), match(s.cluster_name))))
      .orderBy(asc(s.id)),
  );
}

/** Enabled, unfrozen services of a binary whose heartbeat is newer than `downTimeS` (host_manager.py get_all_backend_states: disabled and frozen False). */
export function servicesUp(db: Db, binary: string, downTimeS = 60) {
  const since = dbNow(new Date(Date.now() - downTimeS * 1000));
  const { services: s } = db.t;
  return db.run((q) =>
    q
      .select()
      .from(s)
      .where(and(eq(s.binary, binary), eq(s.deleted, false), eq(s.disabled, false), eq(s.frozen, false), sql`${s.updated_at} >= ${since}`))
      .orderBy(asc(s.host)),
  );
}

// ---------------------------------------------------------------------------------------------
// workers

export type WorkerRow = typeof workers.$inferSelect;

/** Volume statuses whose work is cleaned up after a crash (Volume._is_cleanable). */
export const CLEANABLE_VOLUME_STATUSES: readonly string[] = ['creating', 'deleting', 'uploading', 'downloading'];

/**
 * CinderCleanableObject.set_worker (and create_worker, with no service yet): claim the volume's
 * worker row for `serviceId` with the current status, inserting it when there is none. Returns the
 * row as it now stands. Read, then write, in one write transaction (the lock taken at BEGIN on
 * SQLite, the row locked on MariaDB).
 */
export function workerSet(db: Db, resourceId: string, status: string, serviceId: number | null): Promise<WorkerRow> {
  return db.tx((q) => workerSetIn(db, q, resourceId, status, serviceId));
}

export async function workerSetIn(db: Db, q: Q, resourceId: string, status: string, serviceId: number | null): Promise<WorkerRow> {
  const now = dbNow();
  const { workers: w } = db.t;
  const [existing] = await db.forUpdate(
    q
      .select()
      .from(w)
      .where(and(eq(w.resource_type, 'Volume'), eq(w.resource_id, resourceId))),
  );
  if (!existing) {
    const res = await q
      .insert(w)
      .values({ resource_type: 'Volume', resource_id: resourceId, status, service_id: serviceId, created_at: now, updated_at: now });
    const [row] = await q.select().from(w).where(eq(w.id, db.insertId(res)));
    return row;
  }
  if (existing.service_id === serviceId && existing.status === status) return existing;
  await q
    .update(w)
    .set({ service_id: serviceId, status, updated_at: now, race_preventer: existing.race_preventer + 1 })
    .where(eq(w.id, existing.id));
  return { ...existing, service_id: serviceId, status, updated_at: now, race_preventer: existing.race_preventer + 1 };
}

/** worker_destroy: the row goes for real. */
export async function workerDestroy(db: Db, id: number): Promise<void> {
  const { workers: w } = db.t;
  await db.run((q) => q.delete(w).where(eq(w.id, id)));
}

/** worker_destroy of a volume's row when it is still for `status`. */
/** worker_destroy(resource_type, resource_id) (no soft delete): how many rows went. */
export async function workerDestroyByResource(db: Db, resourceType: string, resourceId: string): Promise<number> {
  const { workers: w } = db.t;
  const res = await db.run((q) => q.delete(w).where(and(eq(w.resource_type, resourceType), eq(w.resource_id, resourceId), eq(w.deleted, false))));
  return db.matched(res);
}

export async function workerDestroyFor(db: Db, resourceId: string, status: string): Promise<void> {
  const { workers: w } = db.t;
  await db.run((q) => q.delete(w).where(and(eq(w.resource_type, 'Volume'), eq(w.resource_id, resourceId), eq(w.status, status))));
}

/** worker_get_all(service_id=…): what a service had in hand, oldest first. */
export function workersOfService(db: Db, serviceId: number): Promise<WorkerRow[]> {
  const { workers: w } = db.t;
  return db.run((q) => q.select().from(w).where(eq(w.service_id, serviceId)).orderBy(asc(w.id)));
}
