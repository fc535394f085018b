// What os-hosts show counts on a backend (cinder/db/sqlalchemy/api.py volume_get_all_by_host,
// volume_data_get_for_host and _volume_data_get_for_project with a host).
import { and, count, eq, isNull, not, or, sum, like, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { filterHost } from './services-admin.js';

/** Count and total size (GB) of live volumes on `host` (as _filter_host), optionally of one project. */
export async function volumeDataForHost(db: Db, host: string, projectId?: string): Promise<{ count: number; sum: number }> {
  const { volumes: v } = db.t;
  const conds: SQL[] = [eq(v.deleted, false), filterHost(v.host, host)];
  if (projectId !== undefined) {
    // skip_internal: no migration targets, nothing outside quota (the 'temporary' admin metadata
    // check is use_quota's older form, not repeated here).
    conds.push(eq(v.project_id, projectId));
    conds.push(or(isNull(v.migration_status), not(like(v.migration_status, 'target:%')))!);
    conds.push(or(isNull(v.use_quota), eq(v.use_quota, true))!);
  }
  const [row] = await db.run((q) =>
    q
      .select({ n: count(v.id), total: sum(v.size) })
      .from(v)
      .where(and(...conds)),
  );
  return { count: Number(row?.n ?? 0), sum: Number(row?.total ?? 0) };
}

/** The distinct projects of the live volumes on `host` (volume_get_all_by_host). */
export async function projectsOnHost(db: Db, host: string): Promise<string[]> {
  const { volumes: v } = db.t;
  const rows = await db.run((q) =>
    q
      .selectDistinct({ p: v.project_id })
      .from(v)
      .where(and(eq(v.deleted, false), filterHost(v.host, host))),
  );
  return rows.map((r) => r.p).filter((p): p is string => p !== null);
}
