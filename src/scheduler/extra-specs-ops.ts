// cinder/scheduler/filters/extra_specs_ops.py: how one volume-type extra spec ("<op> operand")
// is compared with one reported capability value. Python's semantics are kept where they show:
// float() parsing, bool_from_string, `in` on str/list/dict, and == between differently typed values.
import { boolFromString, pyStr } from '../common/python.js';

/** Python float() of a value; null where Python raises (ValueError / TypeError). */
export function pyFloat(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return null;
  const t = v.trim().toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(t)) return NaN;
  // Digits may be grouped by single underscores, as Python 3.6+ accepts.
  const digits = '[0-9](?:_?[0-9])*';
  const re = new RegExp(`^[+-]?(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:e[+-]?${digits})?$`);
  if (!re.test(t)) return null;
  return Number(t.replace(/_/g, ''));
}

/** Python `==` as far as capability values go: same type and value; containers compare deeply. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'boolean') return a === Number(b);
  if (typeof a === 'boolean' && typeof b === 'number') return Number(a) === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    const ob = b as Record<string, unknown>;
    return ka.length === kb.length && ka.every((k) => k in ob && pyEquals((a as Record<string, unknown>)[k], ob[k]));
  }
  return false;
}

/** Code-point order of two strs (Python compares str by code point, not UTF-16 unit). */
function strCmp(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

type OpMethod = (value: unknown, operand: string) => boolean;

/** Numeric comparison; a value float() rejects does not match (Cinder catches ValueError). */
function numeric(cmp: (x: number, y: number) => boolean): OpMethod {
  return (value, operand) => {
    const x = pyFloat(value);
    const y = pyFloat(operand);
    return x !== null && y !== null && cmp(x, y);
  };
}

/** String ordering; Python raises TypeError comparing a non-str with a str: no match here. */
function ordered(cmp: (c: number) => boolean): OpMethod {
  return (value, operand) => typeof value === 'string' && cmp(strCmp(value, operand));
}

/** `operand in value`: substring of a str, member of a list, key of a dict. */
function contains(value: unknown, operand: string): boolean {
  if (typeof value === 'string') return value.includes(operand);
  if (Array.isArray(value)) return value.some((x) => pyEquals(x, operand));
  if (value && typeof value === 'object') return Object.prototype.hasOwnProperty.call(value, operand);
  return false;
}

const OP_METHODS: Record<string, OpMethod> = {
  '=': numeric((x, y) => x >= y),
  '<in>': contains,
  '<is>': (x, y) => boolFromString(x) === boolFromString(y),
  '==': numeric((x, y) => x === y),
  '!=': numeric((x, y) => x !== y),
  '>=': numeric((x, y) => x >= y),
  '<=': numeric((x, y) => x <= y),
  's==': (x, y) => x === y,
  's!=': (x, y) => x !== y,
  's<': ordered((c) => c < 0),
  's<=': ordered((c) => c <= 0),
  's>': ordered((c) => c > 0),
  's>=': ordered((c) => c >= 0),
};

/**
 * extra_specs_ops.match: does capability `value` satisfy requirement `req`? A req without a known
 * operator is a plain equality; '<or> a <or> b' matches any listed word; operators other than <or>
 * only look at the first operand word. Cinder 21.3.1 has no '<all-in>' operator, so such a req is a
 * plain string comparison here too.
 */
export function match(value: unknown, req: string | null | undefined): boolean {
  if (req === null || req === undefined) return value === null || value === undefined;
  const words = req.split(/\s+/).filter((w) => w !== '');
  const op = words.shift();
  const method = op !== undefined ? OP_METHODS[op] : undefined;
  if (op !== '<or>' && !method) return pyEquals(value, req);
  if (value === null || value === undefined) return false;
  if (op === '<or>') {
    // Words alternate operand, '<or>', operand ...; a trailing '<or>' is tolerated.
    for (let i = 0; i < words.length; i += 2) if (words[i] === value) return true;
    return false;
  }
  return words.length > 0 && method!(value, words[0]);
}

/** HostManager._equal_after_convert: how a get_pools query value is compared with a capability. */
export function equalAfterConvert(capability: unknown, value: unknown): boolean {
  const pyType = (v: unknown) =>
    v === null || v === undefined ? 'None' : Array.isArray(v) ? 'list' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v;
  const cap = pyType(capability);
  const val = pyType(value);
  // isinstance(value, type(capability)); a bool is also an int in Python.
  if (cap === 'None' || cap === val || (cap === 'int' && val === 'boolean')) return pyEquals(value ?? null, capability ?? null);
  if (cap === 'boolean') return capability === boolFromString(value);
  return pyStr(value) === pyStr(capability);
}
