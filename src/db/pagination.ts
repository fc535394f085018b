// sqlalchemyutils.paginate_query and process_sort_params (cinder/db/sqlalchemy/api.py
// _generate_paginate_query): ORDER BY the processed sort keys, the rows after a marker row in that
// order, then LIMIT and OFFSET.
import { and, or, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { InvalidInput } from '../common/exceptions.js';
import type { Q } from './client.js';

export interface PageOptions {
  limit?: number;
  offset?: number;
  /** As the API parsed them; process_sort_params adds created_at and id. Default created_at desc. */
  sortKeys?: string[];
  sortDirs?: string[];
}

/**
 * process_sort_params (default keys created_at, id; default direction desc, as
 * _generate_paginate_query asks): checks the directions, pads them with the first one, and appends
 * the default keys that are missing.
 */
export function processSortParams(sortKeys: string[] = [], sortDirs: string[] = []): { keys: string[]; dirs: string[] } {
  const defaultDir = sortDirs.length ? sortDirs[0] : 'desc';
  for (const d of sortDirs) {
    if (d !== 'asc' && d !== 'desc') throw new InvalidInput({ reason: "Unknown sort direction, must be 'desc' or 'asc'." });
  }
  const keys = [...sortKeys];
  const dirs = sortDirs.length ? [...sortDirs] : keys.map(() => defaultDir);
  while (dirs.length < keys.length) dirs.push(defaultDir);
  if (dirs.length > keys.length) throw new InvalidInput({ reason: 'Sort direction array size exceeds sort key array size.' });
  for (const k of ['created_at', 'id']) {
    if (!keys.includes(k)) {
      keys.push(k);
      dirs.push(defaultDir);
    }
  }
  return { keys, dirs };
}

/** How a column's NULL compares in paginate_query's marker criteria (_get_default_column_value). */
export type MarkerDefault = 'datetime' | 'string' | 'integer' | 'none';
const MARKER_DEFAULTS: Record<Exclude<MarkerDefault, 'none'>, string | number> = {
  datetime: '1900-01-01 00:00:00.000000',
  string: '',
  integer: 0,
};

/** A sortable table and its column kinds: DateTime, String, Integer; Boolean and Text have no default. */
export type PagingKinds = Record<string, MarkerDefault>;

export const TIMESTAMP_KINDS = { created_at: 'datetime', updated_at: 'datetime', deleted_at: 'datetime', deleted: 'none' } as const;

/**
 * paginate_query over `where`: ORDER BY the processed sort keys (InvalidInput 'Invalid sort key'
 * for a key that is no column), the rows after `marker` in that order ((k1 > m1) OR (k1 = m1 AND
 * k2 > m2) …, < for a descending key, NULLs as the column's default; a Boolean or Text key has none,
 * a KeyError and so a 500 in Cinder), then LIMIT and OFFSET.
 */
export async function paginate<R>(
  q: Q,
  table: SQLiteTable,
  kinds: PagingKinds,
  where: SQL[],
  marker: Record<string, unknown> | undefined,
  opts: PageOptions,
): Promise<R[]> {
  const { keys, dirs } = processSortParams(opts.sortKeys, opts.sortDirs);
  const column = (k: string) => (table as unknown as Record<string, SQLiteColumn>)[k];
  for (const k of keys) if (!(k in kinds)) throw new InvalidInput({ reason: 'Invalid sort key' });
  if (marker) {
    const dflt = (k: string) => {
      const kind = kinds[k];
      if (kind === 'none') throw new Error(`no default value for sort key ${k} (KeyError in Cinder)`);
      return MARKER_DEFAULTS[kind];
    };
    const value = (k: string) => sql`COALESCE(${column(k)}, ${dflt(k)})`;
    const markerValue = (k: string) => {
      const v = marker[k] ?? dflt(k);
      return typeof v === 'boolean' ? Number(v) : v;
    };
    const criteria = keys.map((k, i) =>
      and(
        ...keys.slice(0, i).map((kj) => sql`${value(kj)} = ${markerValue(kj)}`),
        dirs[i] === 'desc' ? sql`${value(k)} < ${markerValue(k)}` : sql`${value(k)} > ${markerValue(k)}`,
      )!,
    );
    where.push(or(...criteria)!);
  }
  let query = q
    .select()
    .from(table)
    .where(and(...where))
    .orderBy(...keys.map((k, i) => (dirs[i] === 'desc' ? sql`${column(k)} DESC` : sql`${column(k)} ASC`)))
    .$dynamic();
  // query.limit(0) is a real LIMIT 0: an empty page
  if (opts.limit !== undefined) query = query.limit(opts.limit);
  // MySQL has no OFFSET without a LIMIT: SQLAlchemy writes LIMIT 18446744073709551615 there.
  if (opts.offset) query = (opts.limit === undefined ? query.limit(Number.MAX_SAFE_INTEGER) : query).offset(opts.offset);
  return (await query) as R[];
}
