// The query-string half of Cinder's list controllers (cinder/api/common.py): the request's query
// as webob's MultiDict, get_pagination_params and get_sort_params. Both pop what they read, so
// what is left over is the filters.
import { HttpFault } from './faults.js';
import type { ResourceCall } from './resource.js';
import { pyIntFromStr } from '../common/python.js';
import { DB_MAX_INT } from './schemas.js';

/** CONF.osapi_max_limit: the default and the ceiling of `limit`. */
export const OSAPI_MAX_LIMIT = 1000;

export type QueryPairs = [string, string][];

/** The request's query as webob's MultiDict: ordered pairs, repeats kept. */
export function queryPairs(c: ResourceCall): QueryPairs {
  const q = c.req.url.indexOf('?');
  return q < 0 ? [] : [...new URLSearchParams(c.req.url.slice(q + 1))];
}

/** MultiDict.pop(key): removes and returns the first occurrence only (a repeat stays behind). */
export function popParam(pairs: QueryPairs, key: string): string | undefined {
  const i = pairs.findIndex(([k]) => k === key);
  return i < 0 ? undefined : pairs.splice(i, 1)[0][1];
}

/** MultiDict.get(key): the last occurrence. */
export function lastParam(pairs: QueryPairs, key: string): string | undefined {
  for (let i = pairs.length - 1; i >= 0; i--) if (pairs[i][0] === key) return pairs[i][1];
  return undefined;
}

/** get_pagination_params: limit (default and ceiling 1000), marker, offset, with Cinder's 400 texts. */
export function paginationParams(pairs: QueryPairs): { marker: string | null; limit: number; offset: number } {
  const rawLimit = popParam(pairs, 'limit');
  let limit = OSAPI_MAX_LIMIT;
  if (rawLimit !== undefined) {
    const n = pyIntFromStr(rawLimit);
    if (n === null) throw new HttpFault(400, 'limit param must be an integer');
    if (n < 0n) throw new HttpFault(400, 'limit param must be positive');
    limit = n > BigInt(OSAPI_MAX_LIMIT) ? OSAPI_MAX_LIMIT : Number(n);
  }
  const marker = popParam(pairs, 'marker') ?? null;
  const rawOffset = popParam(pairs, 'offset');
  let offset = 0;
  if (rawOffset !== undefined) {
    const n = pyIntFromStr(rawOffset);
    if (n === null) throw new HttpFault(400, 'offset must be an integer');
    if (n < 0n) throw new HttpFault(400, 'offset must be >= 0');
    if (n > BigInt(DB_MAX_INT)) throw new HttpFault(400, `offset must be <= ${DB_MAX_INT}`);
    offset = Number(n);
  }
  return { marker, limit, offset };
}

/**
 * get_sort_params: `sort=k1[:dir],k2…`, or the deprecated `sort_key`/`sort_dir` pair (default
 * created_at desc); both forms together are a 400. Directions are checked by the DB layer.
 */
export function sortParams(pairs: QueryPairs): { sortKeys: string[]; sortDirs: string[] } {
  const has = (k: string) => pairs.some(([key]) => key === k);
  if (has('sort') && (has('sort_key') || has('sort_dir'))) {
    throw new HttpFault(400, "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  }
  const sortKeys: string[] = [];
  const sortDirs: string[] = [];
  const sort = popParam(pairs, 'sort');
  if (sort !== undefined) {
    for (const item of sort.trim().split(',')) {
      const at = item.indexOf(':');
      const [key, dir] = at < 0 ? [item, ''] : [item.slice(0, at), item.slice(at + 1)];
      sortKeys.push(key.trim());
      sortDirs.push((dir || 'desc').trim());
    }
  } else {
    sortKeys.push((popParam(pairs, 'sort_key') ?? 'created_at').trim());
    sortDirs.push((popParam(pairs, 'sort_dir') ?? 'desc').trim());
  }
  return { sortKeys, sortDirs };
}
