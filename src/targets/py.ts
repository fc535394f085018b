// Small Python-semantics helpers for the target code. Cinder's target helpers index and unpack
// strings and dicts directly, and the resulting TypeError/KeyError/IndexError/ValueError texts reach
// the client inside the manager's "Terminate volume connection failed: <err>" style messages. These
// helpers reproduce those operations and their error texts (CPython 3.11, Debian bookworm).

/** A Python built-in exception raised by ported code; `name` is the Python class name. */
export class PyError extends Error {
  constructor(pyType: 'TypeError' | 'KeyError' | 'IndexError' | 'ValueError' | 'AttributeError', message: string) {
    super(message);
    this.name = pyType;
  }
}

/** Python's type name of a JSON-ish value, as used in TypeError messages. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

function pyRepr(key: string): string {
  return `'${key}'`;
}

/** `obj[key]` for a string key, with Python's errors for non-dicts and missing keys. */
export function pyGetItem(obj: unknown, key: string): unknown {
  const t = pyTypeName(obj);
  if (t === 'dict') {
    const rec = obj as Record<string, unknown>;
    if (!Object.prototype.hasOwnProperty.call(rec, key)) throw new PyError('KeyError', pyRepr(key));
    return rec[key];
  }
  if (t === 'str') throw new PyError('TypeError', "string indices must be integers, not 'str'");
  if (t === 'list') throw new PyError('TypeError', 'list indices must be integers or slices, not str');
  throw new PyError('TypeError', `'${t}' object is not subscriptable`);
}

/** `dict.get(key)` on a value Python would treat as a dict (AttributeError otherwise). */
export function pyDictGet(obj: unknown, key: string): unknown {
  const t = pyTypeName(obj);
  if (t !== 'dict') throw new PyError('AttributeError', `'${t}' object has no attribute 'get'`);
  return (obj as Record<string, unknown>)[key];
}

/** `key in obj` for a connector (dict membership; str substring; TypeError for None/int/bool). */
export function pyContains(obj: unknown, key: string): boolean {
  const t = pyTypeName(obj);
  if (t === 'dict') return Object.prototype.hasOwnProperty.call(obj as object, key);
  if (t === 'str') return (obj as string).includes(key);
  if (t === 'list') return (obj as unknown[]).includes(key);
  throw new PyError('TypeError', `argument of type '${t}' is not iterable`);
}

/** `s.split(sep[, maxsplit])` with a literal separator (the last part keeps the remainder). */
export function pySplit(s: unknown, sep: string, maxsplit = -1): string[] {
  if (typeof s !== 'string') throw new PyError('AttributeError', `'${pyTypeName(s)}' object has no attribute 'split'`);
  const parts = s.split(sep);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sep)];
}

/** `s.split()` with no separator: runs of whitespace, no empty strings. */
export function pySplitWs(s: unknown): string[] {
  if (typeof s !== 'string') throw new PyError('AttributeError', `'${pyTypeName(s)}' object has no attribute 'split'`);
  const t = s.trim();
  return t === '' ? [] : t.split(/\s+/);
}

/** `parts[i]` with IndexError. */
export function pyIndex<T>(parts: readonly T[], i: number): T {
  if (i >= parts.length || i < -parts.length) throw new PyError('IndexError', 'list index out of range');
  return parts[i < 0 ? parts.length + i : i];
}

/** `a, b, c = parts`: exactly `n` values or Python's ValueError. */
export function pyUnpack(parts: readonly string[], n: number): string[] {
  if (parts.length < n) throw new PyError('ValueError', `not enough values to unpack (expected ${n}, got ${parts.length})`);
  if (parts.length > n) throw new PyError('ValueError', `too many values to unpack (expected ${n})`);
  return [...parts];
}

/** `int(s)` for a decimal string; undefined where Python raises ValueError. */
export function pyInt(s: string): number | undefined {
  if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(s)) return undefined;
  return Number.parseInt(s.replace(/_/g, ''), 10);
}
