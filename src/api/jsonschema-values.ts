// How the jsonschema engine (jsonschema.ts) judges a Python value from a request body (the Python
// view of common/python.ts, or what JSON.parse gave): its type as jsonschema 4.10's draft-4
// TypeChecker names it (jsonschema/_types.py: a bool is no integer, 1.0 is a number, not an
// integer), `==` as `enum` compares (_utils.equal, bool kept apart from int), numbers compared
// exactly (bigint) for minimum/maximum, and uniqueItems' duplicate test (_utils.uniq).
import { PyFloat, pyRepr } from '../common/python.js';

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

function pyType(v: unknown): JsonType | 'other' {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'string';
    case 'bigint':
      return 'integer';
    case 'number':
      return Number.isInteger(v) ? 'integer' : 'number';
    default:
      break;
  }
  if (v instanceof PyFloat) return 'number';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return 'other';
}

export function isType(v: unknown, t: JsonType): boolean {
  const actual = pyType(v);
  if (t === 'number') return actual === 'number' || actual === 'integer';
  return actual === t;
}

/** Numeric value of a Python number for comparisons (bigint kept exact). */
export function numeric(v: unknown): number | bigint | null {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof PyFloat) return v.value;
  return null;
}

export function lessThan(a: number | bigint, bound: number): boolean {
  return typeof a === 'bigint' ? a < BigInt(bound) : a < bound;
}
export function greaterThan(a: number | bigint, bound: number): boolean {
  return typeof a === 'bigint' ? a > BigInt(bound) : a > bound;
}

/** Python `==` as `x in enums` uses it, with jsonschema's bool/int separation. */
export function enumHas(enums: readonly unknown[], v: unknown): boolean {
  return enums.some((e) => {
    if (typeof e === 'boolean' || typeof v === 'boolean') return e === v;
    const a = numeric(v);
    const b = numeric(e);
    if (a !== null && b !== null) return Number(a) === Number(b);
    return e === v;
  });
}

export function uniq(items: unknown[]): boolean {
  const seen = new Set<string>();
  for (const it of items) {
    const key = pyRepr(it);
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}
