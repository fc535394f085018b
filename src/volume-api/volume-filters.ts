// The volume list's filter processing above the DB: cinder/api/v3/volumes.py
// (_process_volume_filtering with MV_ADDED_FILTERS, _handle_time_comparison_filters),
// cinder/api/common.py (process_general_filtering, reject_invalid_filters,
// convert_filter_attributes), cinder/api/api_utils.py remove_invalid_filter_options and
// cinder/volume/api.py check_volume_filters. The result is the dict get_all hands the DB.
import { HttpFault } from '../api/faults.js';
import { pyLiteralEval } from '../api/literal-eval.js';
import { MV } from '../api/microversion.js';
import { boolFromString, isValidBoolStr, pyStr } from '../common/python.js';
import { InvalidInput } from '../common/exceptions.js';

/** The `volume` entry of Cinder's stock resource_filters.json (the filters a non-admin may use). */
export const VOLUME_RESOURCE_FILTERS = [
  'name', 'status', 'metadata', 'bootable', 'migration_status', 'availability_zone', 'group_id', 'size', 'created_at', 'updated_at',
];

/** microversions.py values this file compares against (not in MV: only the filters use them). */
const VOLUME_LIST_BOOTABLE = 3002;
const VOLUME_LIST_GLANCE_METADATA = 3004;
const VOLUME_LIST_GROUP = 3010;
const VOLUME_TIME_COMPARISON_FILTER = 3060;
const USE_QUOTA = 3065;

/** VolumeController.MV_ADDED_FILTERS: (last version without it, key). */
const MV_ADDED_FILTERS: [number, string][] = [
  [VOLUME_LIST_GLANCE_METADATA - 1, 'glance_metadata'],
  [VOLUME_LIST_GROUP - 1, 'group_id'],
  [VOLUME_TIME_COMPARISON_FILTER - 1, 'created_at'],
  [VOLUME_TIME_COMPARISON_FILTER - 1, 'updated_at'],
  [USE_QUOTA - 1, 'use_quota'],
];

/** common.ATTRIBUTE_CONVERTERS */
const ATTRIBUTE_CONVERTERS: Record<string, string> = {
  'name~': 'display_name~',
  'description~': 'display_description~',
  consumes_quota: 'use_quota',
};

/** Boolean columns of models.Volume (db.get_booleans_for_table('volume')). */
const VOLUME_BOOLEANS = new Set(['deleted', 'bootable', 'multiattach', 'shared_targets', 'use_quota']);

type Filters = Record<string, unknown>;

/** utils.get_bool_param: False when absent; 400 for a value that is no boolean string. */
export function getBoolParam(filters: Filters, name: string): boolean {
  if (!(name in filters)) return false;
  const v = filters[name];
  const s = typeof v === 'string' ? v : pyStr(v);
  if (!isValidBoolStr(typeof v === 'boolean' ? v : s)) {
    throw new HttpFault(400, `Value '${s}' for '${name}' is not a boolean.`);
  }
  return boolFromString(typeof v === 'boolean' ? v : s);
}

/** webob MultiDict reads: a key's last value, keys in their first order. */
export function filtersFromPairs(pairs: [string, string][]): Filters {
  const out: Filters = {};
  for (const [k, v] of pairs) out[k] = v;
  return out;
}

/** common.reject_invalid_filters(context, filters, 'volume', enable_like_filter) */
function rejectInvalidFilters(isAdmin: boolean, keys: string[], filters: Filters, supportLike: boolean): void {
  if (keys.some((k) => /[^\x00-\x7f]/.test(k))) throw new HttpFault(400, 'Filter keys can only contain ASCII characters.');
  if (isAdmin) return;
  const configured = VOLUME_RESOURCE_FILTERS;
  const invalid = keys.filter((k) => (supportLike ? !configured.includes(k) && !configured.includes(`${k}~`) : !configured.includes(k)));
  const at = invalid.indexOf('all_tenants');
  if (at >= 0) {
    // Bug #1917574: cinderclient always sends all_tenants; a non-admin's is silently dropped.
    invalid.splice(at, 1);
    delete filters.all_tenants;
  }
  if (invalid.length) throw new HttpFault(400, `Invalid filters ${invalid.join(',')} are found in query options.`);
}

/**
 * VolumeController._process_volume_filtering under @common.process_general_filtering('volume'):
 * from 3.31 the configured filters are enforced for non-admins (400) and attribute names
 * converted; before, the filters of later microversions are dropped and a non-admin's unknown
 * options silently removed.
 */
export function processVolumeFiltering(isAdmin: boolean, version: number, filters: Filters, keysInOrder: string[]): void {
  if (version >= MV.RESOURCE_FILTER) {
    rejectInvalidFilters(isAdmin, keysInOrder.filter((k) => k in filters), filters, version >= MV.LIKE_FILTER);
    for (const k of Object.keys(filters)) {
      if (k in ATTRIBUTE_CONVERTERS) {
        filters[ATTRIBUTE_CONVERTERS[k]] = filters[k];
        delete filters[k];
      }
    }
    return;
  }
  for (const [last, field] of MV_ADDED_FILTERS) if (version <= last) delete filters[field];
  if (isAdmin) return;
  for (const k of Object.keys(filters)) if (!VOLUME_RESOURCE_FILTERS.includes(k)) delete filters[k];
}

const ISO_RE =
  /^(\d{4})(?:-?(\d{2})(?:-?(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** timeutils.parse_isotime (iso8601.parse_date, UTC by default) then normalize_time: a UTC Date. */
export function parseIsoTime(s: string): Date | null {
  const m = ISO_RE.exec(s);
  if (!m) return null;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', se = '00', frac = '', tz] = m;
  const ms = Number(`0.${frac || '0'}`) * 1000;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se), 0) + Math.floor(ms);
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(se) > 59) {
    return null;
  }
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60000;
  }
  return new Date(t);
}

/** VolumeController._handle_time_comparison_filters: 'op:time[,op:time]' → {op: datetime}. */
export function handleTimeComparisonFilters(filters: Filters): void {
  const operators = ['gt', 'gte', 'eq', 'neq', 'lt', 'lte'];
  for (const key of ['created_at', 'updated_at']) {
    if (!(key in filters)) continue;
    const dict: Record<string, Date> = {};
    for (const unit of String(filters[key]).split(',')) {
      const parts = unit.split(':');
      const op = parts[0];
      const time = parts.length > 1 ? parts.slice(1).join(':') : parts[0];
      if (!operators.includes(op)) throw new HttpFault(400, `Invalid ${op} operator`);
      const parsed = parseIsoTime(time);
      if (!parsed) throw new HttpFault(400, `Invalid ${time} value`);
      dict[op] = parsed;
    }
    filters[key] = dict;
  }
}

/** Python bool() of a str: non-empty is True. */
function checkBooleanFilterValue(key: string, val: unknown, strict: boolean): boolean {
  const s = typeof val === 'string' ? val : pyStr(val);
  if (strict) {
    if (!isValidBoolStr(s.trim().toLowerCase())) throw new InvalidInput({ reason: `'${key} = ${s}'` });
    return boolFromString(s);
  }
  if (['False', 'false', 'FALSE'].includes(s)) return false;
  if (['True', 'true', 'TRUE'].includes(s)) return true;
  return s.length > 0;
}

/**
 * volume_api.check_volume_filters(filters, strict): boolean columns to True/False (strictly from
 * 3.2), display_name kept as typed, every other string through ast.literal_eval when it is a literal.
 */
export function checkVolumeFilters(filters: Filters, version: number): void {
  const strict = version >= VOLUME_LIST_BOOTABLE;
  for (const [key, val] of Object.entries(filters)) {
    if (VOLUME_BOOLEANS.has(key)) {
      filters[key] = checkBooleanFilterValue(key, val, strict);
    } else if (key === 'display_name') {
      continue;
    } else if (typeof val === 'string') {
      try {
        filters[key] = toFilterValue(pyLiteralEval(val));
      } catch {
        // not a literal: the string itself
      }
    }
  }
}

/** literal_eval's dicts (Maps) as plain objects for the DB layer. */
function toFilterValue(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), toFilterValue(x)]));
  if (Array.isArray(v)) return v.map(toFilterValue);
  return v;
}
