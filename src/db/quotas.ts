// The quota tables (cinder/db/sqlalchemy/api.py quota_*, quota_class_*, quota_usage_*,
// quota_reserve, reservation_*): limits per project and per class, usages and reservations.
// Locking as Cinder's: quota_usages rows first (SELECT … FOR UPDATE on MariaDB, the SQLite write
// lock of BEGIN IMMEDIATE), then reservations, always in one transaction.
import { and, asc, eq, inArray, isNull, lt, not, notLike, or, sql, count, sum } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Db, Q, Tables } from './client.js';
import { dbNow } from './client.js';

export type Limits = Record<string, number>;
export interface Usage {
  in_use: number;
  reserved: number;
}

const live = <T extends { deleted: unknown }>(t: T) => eq(t.deleted as never, false);

/** quota_get_all_by_project: the project's own limits. */
export function quotaGetAllByProject(db: Db, projectId: string): Promise<Limits> {
  const { quotas: t } = db.t;
  return db.run(async (q) => {
    const rows = await q.select().from(t).where(and(eq(t.project_id, projectId), live(t)));
    return Object.fromEntries(rows.map((r) => [r.resource, r.hard_limit ?? -1]));
  });
}

/** quota_update, else quota_create (quota_sets.update's try/except ProjectQuotaNotFound). */
export async function quotaSet(db: Db, projectId: string, resource: string, limit: number): Promise<void> {
  const { quotas: t } = db.t;
  await db.tx(async (q) => {
    const now = dbNow();
    const where = and(eq(t.project_id, projectId), eq(t.resource, resource), live(t));
    const res = await q.update(t).set({ hard_limit: limit, updated_at: now }).where(where);
    if (db.matched(res) === 0) {
      await q.insert(t).values({ project_id: projectId, resource, hard_limit: limit, allocated: 0, created_at: now, deleted: false });
    }
  });
}

/** quota_destroy_by_project: soft-deletes the project's limits (usages and reservations stay). */
export async function quotaDestroyByProject(db: Db, projectId: string): Promise<void> {
  const { quotas: t } = db.t;
  const now = dbNow();
  await db.run((q) => q.update(t).set({ deleted: true, deleted_at: now, updated_at: now }).where(and(eq(t.project_id, projectId), live(t))));
}

/** quota_class_get_all_by_name (quota_class_get_defaults is the 'default' class). */
export function quotaClassGetAllByName(db: Db, className: string): Promise<Limits> {
  const { quotaClasses: t } = db.t;
  return db.run(async (q) => {
    const rows = await q.select().from(t).where(and(eq(t.class_name, className), live(t)));
    return Object.fromEntries(rows.map((r) => [r.resource!, r.hard_limit ?? -1]));
  });
}

/** quota_class_update, else quota_class_create (quota_classes.update). */
export async function quotaClassSet(db: Db, className: string, resource: string, limit: number): Promise<void> {
  const { quotaClasses: t } = db.t;
  await db.tx(async (q) => {
    const now = dbNow();
    const where = and(eq(t.class_name, className), eq(t.resource, resource), live(t));
    const res = await q.update(t).set({ hard_limit: limit, updated_at: now }).where(where);
    if (db.matched(res) === 0) await q.insert(t).values({ class_name: className, resource, hard_limit: limit, created_at: now, deleted: false });
  });
}

/** quota_usage_get_all_by_project. */
export function quotaUsageGetAllByProject(db: Db, projectId: string): Promise<Record<string, Usage>> {
  const { quotaUsages: t } = db.t;
  return db.run(async (q) => {
    const rows = await q.select().from(t).where(and(eq(t.project_id, projectId), live(t)));
    return Object.fromEntries(rows.map((r) => [r.resource!, { in_use: r.in_use, reserved: r.reserved }]));
  });
}

/**
 * _volume_data_get_for_project(skip_internal=True): count and total size of the project's volumes
 * (optionally of one type), without migration targets, use_quota=False ones and temporary ones.
 */
export async function volumeDataForProject(q: Q, t: Tables, projectId: string, volumeTypeId?: string): Promise<[number, number]> {
  const v = t.volumes;
  const m = t.volumeAdminMetadata;
  const temporary = sql`exists (select 1 from ${m} where ${m.volume_id} = ${v.id} and ${m.deleted} = 0 and ${m.key} = 'temporary' and ${m.value} = 'True')`;
  const conds = [
    eq(v.project_id, projectId),
    live(v),
    or(isNull(v.migration_status), notLike(v.migration_status, 'target:%')),
    or(isNull(v.use_quota), eq(v.use_quota, true)),
    not(temporary),
  ];
  if (volumeTypeId) conds.push(eq(v.volume_type_id, volumeTypeId));
  const [row] = await q.select({ n: count(v.id), gb: sum(v.size) }).from(v).where(and(...conds));
  return [Number(row?.n ?? 0), Number(row?.gb ?? 0)];
}

/** A reservable resource's sync (QUOTA_SYNC_FUNCTIONS): what it counts, and for which volume type. */
export interface SyncSpec {
  /** _sync_volumes / _sync_gigabytes count volumes; the others (snapshots, backups, groups) have no table here: 0. */
  kind: 'volumes' | 'gigabytes' | 'none';
  volumeTypeId?: string;
}

async function syncUsage(q: Q, t: Tables, projectId: string, spec: SyncSpec): Promise<number> {
  if (spec.kind === 'none') return 0;
  const [n, gb] = await volumeDataForProject(q, t, projectId, spec.volumeTypeId);
  // _sync_gigabytes adds the snapshots' gigabytes (none here).
  return spec.kind === 'volumes' ? n : gb;
}

/** Raised by quotaReserve: the resources over their limit, with the limits and usages (exception.OverQuota's kwargs). */
export class OverQuotaError extends Error {
  constructor(
    readonly overs: string[],
    readonly quotas: Limits,
    readonly usages: Record<string, Usage>,
  ) {
    super(`Quota exceeded for resources: ${JSON.stringify(overs)}`);
  }
}

export interface ReserveArgs {
  projectId: string;
  deltas: Record<string, number>;
  /** The limit of every resource in deltas. */
  quotas: Limits;
  syncs: Record<string, SyncSpec>;
  /** Absolute expiry (dbNow form). */
  expire: string;
  untilRefresh: number;
  maxAge: number;
}

function isDuplicate(e: unknown): boolean {
  let cur = e as { cause?: unknown; code?: unknown; errno?: unknown } | undefined;
  while (cur) {
    if (cur.errno === 1062 || cur.code === 'SQLITE_CONSTRAINT_UNIQUE' || cur.code === 'ER_DUP_ENTRY') return true;
    cur = cur.cause as typeof cur;
  }
  return false;
}

/** _get_quota_usages: the project's usage rows of these resources, locked, by resource. */
async function lockUsages(db: Db, q: Q, projectId: string, resources: string[]) {
  const { quotaUsages: u } = db.t;
  const rows = await db.forUpdate(
    q
      .select()
      .from(u)
      .where(and(eq(u.project_id, projectId), live(u), inArray(u.resource, resources)))
      .orderBy(asc(u.id)),
  );
  return new Map(rows.map((r) => [r.resource!, r]));
}

/**
 * quota_reserve: creates the missing usage rows from the current counts (their own transaction,
 * committed first, as Cinder's loop), refreshes usages (negative in_use, until_refresh, max_age),
 * checks the positive deltas against the limits and writes one reservation per resource.
 * Returns the reservation uuids, or throws OverQuotaError (nothing reserved).
 */
export async function quotaReserve(db: Db, a: ReserveArgs): Promise<string[]> {
  const { quotaUsages: u, reservations: r } = db.t;
  const resources = Object.keys(a.deltas);
  for (let attempt = 0; ; attempt++) {
    try {
      await db.tx(async (q) => {
        const usages = await lockUsages(db, q, a.projectId, resources);
        const now = dbNow();
        for (const res of resources.filter((x) => !usages.has(x))) {
          const inUse = await syncUsage(q, db.t, a.projectId, a.syncs[res] ?? { kind: 'none' });
          await q.insert(u).values({
            project_id: a.projectId, resource: res, in_use: inUse, reserved: 0,
            until_refresh: a.untilRefresh || null, created_at: now, updated_at: now, deleted: false, race_preventer: true,
          });
        }
      });
      break;
    } catch (e) {
      // A concurrent creator won the race_preventer key: try again (wrap_db_retry's _is_duplicate).
      if (!isDuplicate(e) || attempt >= 5) throw e;
    }
  }
  const outcome = await db.tx(async (q) => {
    const usages = await lockUsages(db, q, a.projectId, resources);
    const now = new Date();
    for (const res of resources) {
      const row = usages.get(res)!;
      let refresh = false;
      let untilRefresh = row.until_refresh;
      if (row.in_use < 0) refresh = true;
      else if (untilRefresh !== null) {
        untilRefresh -= 1;
        if (untilRefresh <= 0) refresh = true;
      } else if (a.maxAge && row.updated_at && (now.getTime() - Date.parse(row.updated_at.replace(' ', 'T') + 'Z')) / 1000 >= a.maxAge) {
        refresh = true;
      }
      if (refresh) {
        row.in_use = await syncUsage(q, db.t, a.projectId, a.syncs[res] ?? { kind: 'none' });
        untilRefresh = a.untilRefresh || null;
      } else if ((untilRefresh === null && a.untilRefresh) || (untilRefresh ?? 0) > (a.untilRefresh || 0)) {
        untilRefresh = a.untilRefresh || null;
      }
      row.until_refresh = untilRefresh;
    }
    const overs = resources.filter((res) => {
      const limit = a.quotas[res];
      const row = usages.get(res)!;
      return limit >= 0 && a.deltas[res] >= 0 && limit < a.deltas[res] + row.in_use + row.reserved;
    });
    const uuids: string[] = [];
    const stamp = dbNow(now);
    if (!overs.length) {
      for (const res of resources) {
        const row = usages.get(res)!;
        const uuid = randomUUID();
        await q.insert(r).values({
          uuid, usage_id: row.id, project_id: a.projectId, resource: res, delta: a.deltas[res],
          expire: a.expire, created_at: stamp, deleted: false,
        });
        uuids.push(uuid);
        if (a.deltas[res] > 0) row.reserved += a.deltas[res];
      }
    }
    // The usage updates are kept even when over quota (they are not invalidated by it).
    for (const row of usages.values()) {
      await q.update(u).set({ in_use: row.in_use, reserved: row.reserved, until_refresh: row.until_refresh, updated_at: stamp }).where(eq(u.id, row.id));
    }
    const snapshot = Object.fromEntries([...usages].map(([k, v]) => [k, { in_use: v.in_use, reserved: v.reserved }]));
    return { overs: overs.sort(), uuids, usages: snapshot };
  });
  if (outcome.overs.length) throw new OverQuotaError(outcome.overs, a.quotas, outcome.usages);
  return outcome.uuids;
}

/** reservation_commit (commit) and reservation_rollback: applies or drops the reservations, deleting them. */
export async function reservationFinish(db: Db, uuids: string[], _projectId: string, commit: boolean): Promise<void> {
  if (!uuids.length) return;
  const { quotaUsages: u, reservations: r } = db.t;
  await db.tx(async (q) => {
    // Cinder locks the project's usage rows of the reservations' resources; locking the rows the
    // reservations point at (in id order, as _get_quota_usages) is the same set when the project
    // passed is the reservations' one, and still right when a caller passes another context's.
    const ids = (await q.selectDistinct({ id: r.usage_id }).from(r).where(and(inArray(r.uuid, uuids), live(r)))).map((x) => x.id!).filter((x) => x !== null);
    const locked = ids.length ? await db.forUpdate(q.select().from(u).where(inArray(u.id, ids)).orderBy(asc(u.id))) : [];
    const byId = new Map(locked.map((row) => [row.id, row]));
    const rows = await db.forUpdate(q.select().from(r).where(and(inArray(r.uuid, uuids), live(r))));
    const now = dbNow();
    const touched = new Set<number>();
    for (const res of rows) {
      const usage = res.usage_id === null ? undefined : byId.get(res.usage_id);
      if (usage) {
        let delta = res.delta;
        if (delta >= 0) usage.reserved -= Math.min(delta, usage.reserved);
        else if (commit && -delta > usage.in_use) delta = -usage.in_use;
        if (commit) usage.in_use += delta;
        touched.add(usage.id);
      }
      await q.update(r).set({ deleted: true, deleted_at: now, updated_at: now }).where(eq(r.id, res.id));
    }
    for (const id of touched) {
      const row = byId.get(id)!;
      await q.update(u).set({ in_use: row.in_use, reserved: row.reserved, updated_at: now }).where(eq(u.id, id));
    }
  });
}

/** reservation_expire: rolls back every reservation past its expiry. */
export async function reservationExpire(db: Db): Promise<void> {
  const { quotaUsages: u, reservations: r } = db.t;
  await db.tx(async (q) => {
    const now = dbNow();
    const rows = await db.forUpdate(q.select().from(r).where(and(live(r), lt(r.expire, now))));
    for (const res of rows) {
      if (res.delta >= 0 && res.usage_id !== null) {
        const [usage] = await q.select().from(u).where(eq(u.id, res.usage_id));
        if (usage) await q.update(u).set({ reserved: usage.reserved - Math.min(res.delta, usage.reserved), updated_at: now }).where(eq(u.id, usage.id));
      }
      await q.update(r).set({ deleted: true, deleted_at: now, updated_at: now }).where(eq(r.id, res.id));
    }
  });
}

/** The names of every live volume type, by id (VolumeTypeQuotaEngine.resources' volume_type_get_all). */
export function volumeTypeNames(db: Db): Promise<Array<{ id: string; name: string }>> {
  const { volumeTypes: t } = db.t;
  return db.run(async (q) => (await q.select({ id: t.id, name: t.name }).from(t).where(live(t))).map((x) => ({ id: x.id, name: x.name ?? '' })));
}

/** volume_type_get(inactive=True)'s name: the type of a volume whose type may have been deleted since. */
export function volumeTypeNameAnyState(db: Db, id: string): Promise<string | null> {
  const { volumeTypes: t } = db.t;
  return db.run(async (q) => (await q.select({ name: t.name }).from(t).where(eq(t.id, id)).limit(1))[0]?.name ?? null);
}
