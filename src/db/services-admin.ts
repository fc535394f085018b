// The services table as os-services, os-hosts and os-availability-zone read and change it
// (cinder/db/sqlalchemy/api.py service_get_all, service_get, service_update, _filter_host).
import { and, asc, eq, like, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { dbNow } from './client.js';
import type { ServiceRow } from './schema.js';

export type { ServiceRow };

type HostColumn = AnyColumn;

/**
 * _filter_host: a value with '#' matches exactly; with '@' also `value#…`; otherwise also `value@…`
 * and `value#…`. (Cinder forces LIKE BINARY on MySQL; the MariaDB schema's collation decides here.)
 */
export function filterHost(col: HostColumn, value: string): SQL {
  const conds: SQL[] = [eq(col, value)];
  if (!value.includes('#')) {
    conds.push(like(col, `${value}#%`));
    if (!value.includes('@')) conds.push(like(col, `${value}@%`));
  }
  return or(...conds)!;
}

export interface ServiceFilters {
  host?: string;
  binary?: string;
  topic?: string;
  /** host_or_cluster (set-log/get-log's `server`). */
  hostOrCluster?: string;
  /** is_up: heartbeat (or creation) within `downTimeS`. */
  isUp?: { downTimeS: number };
}

/** ServiceList.get_all(filters): the live rows, by id. */
export function serviceGetAll(db: Db, f: ServiceFilters = {}): Promise<ServiceRow[]> {
  const { services: s } = db.t;
  const conds: SQL[] = [eq(s.deleted, false)];
  if (f.host) conds.push(filterHost(s.host, f.host));
  if (f.binary !== undefined) conds.push(eq(s.binary, f.binary));
  if (f.topic !== undefined) conds.push(eq(s.topic, f.topic));
  if (f.hostOrCluster) conds.push(or(filterHost(s.host, f.hostOrCluster), filterHost(s.cluster_name, f.hostOrCluster))!);
  if (f.isUp) {
    const since = dbNow(new Date(Date.now() - f.isUp.downTimeS * 1000));
    conds.push(or(sql`${s.created_at} >= ${since}`, sql`${s.updated_at} >= ${since}`)!);
  }
  return db.run((q) =>
    q
      .select()
      .from(s)
      .where(and(...conds))
      .orderBy(asc(s.id)),
  );
}

/** service_get(host=…, binary=…): the first live match (host matched as _filter_host), or undefined. */
export async function serviceGetByArgs(db: Db, host: string, binary: string): Promise<ServiceRow | undefined> {
  const { services: s } = db.t;
  const [row] = await db.run((q) =>
    q
      .select()
      .from(s)
      .where(and(eq(s.deleted, false), filterHost(s.host, host), eq(s.binary, binary)))
      .limit(1),
  );
  return row;
}

/**
 * service_update: with `disabled` among the values, modified_at becomes now and updated_at keeps
 * its value (the heartbeat is not refreshed by an operator's change).
 */
export async function serviceUpdate(
  db: Db,
  id: number,
  values: Partial<Pick<ServiceRow, 'disabled' | 'disabled_reason' | 'frozen' | 'replication_status'>>,
): Promise<void> {
  const { services: s } = db.t;
  const set: Record<string, unknown> = { ...values };
  if ('disabled' in values) {
    set.modified_at = dbNow();
    set.updated_at = sql`${s.updated_at}`;
  }
  await db.run((q) => q.update(s).set(set).where(eq(s.id, id)));
}

/** Service.conditional_update({frozen: new}, {frozen: expected}): true when the row changed. */
export async function serviceConditionalFrozen(db: Db, id: number, expected: boolean, value: boolean): Promise<boolean> {
  const { services: s } = db.t;
  const res = await db.run((q) =>
    q
      .update(s)
      .set({ frozen: value })
      .where(and(eq(s.id, id), eq(s.frozen, expected))),
  );
  return db.matched(res) > 0;
}
