// Python value semantics that leak into Cinder's HTTP answers. Cinder's 400 texts embed Python
// `repr()`/`str()` of the request values (jsonschema messages), and Python's json module keeps facts
// JSON.parse throws away: `1.0` is a float (not an integer), integers never lose precision, object
// keys keep their text order (JS moves integer-like keys first), and NaN/Infinity are accepted.
// pyParse() builds that Python view; it only runs on the slow path (a body that failed validation,
// or a schema that checks integer types), never for a valid volume-action body.

import { pyReprFloat } from './pyjson.js';
export { pyJsonString, pyReprFloat } from './pyjson.js';

/** A JSON number written with a fraction or exponent: a Python float, even when integral. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A JSON object as Python sees it: insertion-ordered, duplicate keys keep the first position. */
export type PyDict = Map<string, PyValue>;

export type PyValue = null | boolean | string | number | bigint | PyFloat | PyValue[] | PyDict | { [k: string]: unknown };

export class PyJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PyJsonError';
  }
}

/** json.loads as Python runs it (strict mode, NaN/Infinity allowed), producing the Python view. */
export function pyParse(text: string): PyValue {
  let i = 0;
  const n = text.length;

  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    throw new PyJsonError(`${what} at char ${i}`);
  };

  const parseString = (): string => {
    // opening quote already checked
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('Unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('Invalid control character');
      if (c === 0x5c) {
        out += text.slice(start, i);
        const e = text[i + 1];
        switch (e) {
          case '"': out += '"'; i += 2; break;
          case '\\': out += '\\'; i += 2; break;
          case '/': out += '/'; i += 2; break;
          case 'b': out += '\b'; i += 2; break;
          case 'f': out += '\f'; i += 2; break;
          case 'n': out += '\n'; i += 2; break;
          case 'r': out += '\r'; i += 2; break;
          case 't': out += '\t'; i += 2; break;
          case 'u': {
            const hex = text.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Invalid \\uXXXX escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 6;
            break;
          }
          default:
            fail('Invalid \\escape');
        }
        start = i;
        continue;
      }
      i++;
    }
  };

  const numberRe = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

  const parseValue = (): PyValue => {
    ws();
    if (i >= n) fail('Expecting value');
    const c = text[i];
    if (c === '{') {
      i++;
      const d: PyDict = new Map();
      ws();
      if (text[i] === '}') {
        i++;
        return d;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('Expecting property name enclosed in double quotes');
        const k = parseString();
        ws();
        if (text[i] !== ':') fail("Expecting ':' delimiter");
        i++;
        const v = parseValue();
        d.set(k, v);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return d;
        }
        fail("Expecting ',' delimiter");
      }
    }
    if (c === '[') {
      i++;
      const a: PyValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(parseValue());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail("Expecting ',' delimiter");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('NaN', i)) {
      i += 3;
      return new PyFloat(NaN);
    }
    if (text.startsWith('Infinity', i)) {
      i += 8;
      return new PyFloat(Infinity);
    }
    if (text.startsWith('-Infinity', i)) {
      i += 9;
      return new PyFloat(-Infinity);
    }
    numberRe.lastIndex = i;
    const m = numberRe.exec(text);
    if (!m) fail('Expecting value');
    const tok = m![0];
    i += tok.length;
    if (m![1] !== undefined || m![2] !== undefined) return new PyFloat(Number(tok));
    const num = Number(tok);
    return Number.isSafeInteger(num) ? num : BigInt(tok);
  };

  const v = parseValue();
  ws();
  if (i !== n) fail('Extra data');
  return v;
}

export function isPyDict(v: unknown): v is PyDict | Record<string, unknown> {
  return (
    v instanceof Map ||
    (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat))
  );
}

export function dictKeys(v: PyDict | Record<string, unknown>): string[] {
  return v instanceof Map ? [...v.keys()] : Object.keys(v);
}

export function dictHas(v: PyDict | Record<string, unknown>, k: string): boolean {
  return v instanceof Map ? v.has(k) : Object.prototype.hasOwnProperty.call(v, k);
}

export function dictGet(v: PyDict | Record<string, unknown>, k: string): unknown {
  return v instanceof Map ? v.get(k) : v[k];
}

export function dictSize(v: PyDict | Record<string, unknown>): number {
  return v instanceof Map ? v.size : Object.keys(v).length;
}

/** Python truthiness of a value from the request body (None, False, 0, '', [], {} are false). */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '' || v === 0 || v === 0n) return false;
  if (v instanceof PyFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isPyDict(v)) return dictSize(v) > 0;
  return true;
}

/** len() of a Python str: code points (a JS surrogate pair is one character). */
export function pyLen(s: string): number {
  if (!/[\uD800-\uDFFF]/.test(s)) return s.length;
  let count = 0;
  for (const _ of s) count++;
  return count;
}

/** Python's sorted() on strings compares code points, not UTF-16 units. */
export function pyCompareStr(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

// str.isprintable() is False for these categories; ' ' (Zs) is the one printable exception.
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;
const PLAIN_ASCII = /^[\x20-\x26\x28-\x5b\x5d-\x7e]*$/;

/** repr() of a Python str. */
export function pyReprStr(s: string): string {
  if (PLAIN_ASCII.test(s)) return `'${s}'`;
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
    else if (cp < 0x7f) out += ch;
    else if (cp !== 0x20 && NON_PRINTABLE.test(ch)) {
      if (cp <= 0xff) out += '\\x' + hex(cp, 2);
      else if (cp <= 0xffff) out += '\\u' + hex(cp, 4);
      else out += '\\U' + hex(cp, 8);
    } else out += ch;
  }
  return out + quote;
}

function hex(cp: number, width: number): string {
  return cp.toString(16).padStart(width, '0');
}

/** repr() of a value from the Python view (or a plain JSON.parse value). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  switch (typeof v) {
    case 'boolean':
      return v ? 'True' : 'False';
    case 'string':
      return pyReprStr(v);
    case 'bigint':
      return v.toString();
    case 'number':
      // JSON.parse values: an integral number is a Python int; otherwise a float.
      return Number.isInteger(v) ? String(v) : pyReprFloat(v);
    default:
      break;
  }
  if (v instanceof PyFloat) return pyReprFloat(v.value);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof Map) {
    const parts: string[] = [];
    for (const [k, val] of v) parts.push(`${pyReprStr(k)}: ${pyRepr(val)}`);
    return `{${parts.join(', ')}}`;
  }
  if (typeof v === 'object') {
    const parts = Object.keys(v).map((k) => `${pyReprStr(k)}: ${pyRepr((v as Record<string, unknown>)[k])}`);
    return `{${parts.join(', ')}}`;
  }
  return String(v);
}

/** str() of a value: a str is itself, everything else is its repr. */
export function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

// Python's str.strip() with no argument strips Unicode whitespace (str.isspace()).
const PY_WS = '\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000';
const PY_STRIP = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'g');

export function pyStrip(s: string): string {
  return s.replace(PY_STRIP, '');
}

/** Convert the Python view back to plain JSON values (floats to numbers, dicts to objects). */
export function toPlain(v: PyValue): unknown {
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, val] of v) o[k] = toPlain(val);
    return o;
  }
  return v;
}

const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];

/** str(value).lower() as oslo's strutils sees a value when it checks a boolean string. */
function boolStr(v: unknown): string {
  if (v === undefined) return 'none';
  return pyStr(v).toLowerCase();
}

/** strutils.is_valid_boolstr */
export function isValidBoolStr(v: unknown): boolean {
  const s = boolStr(v);
  return TRUE_STRINGS.includes(s) || FALSE_STRINGS.includes(s);
}

/** strutils.bool_from_string(v, strict=True) for a value already known to be a valid bool string. */
export function boolFromString(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  // bool_from_string strips before it compares (is_valid_boolstr does not).
  return TRUE_STRINGS.includes(boolStr(v).trim());
}

/**
 * Python int() of a str (the subset Cinder's query/body handling can see): optional surrounding
 * whitespace, optional sign, ASCII digits with single underscores between them. null if it fails.
 */
export function pyIntFromStr(s: string): bigint | null {
  const t = pyStrip(s);
  if (!/^[+-]?[0-9]+(?:_[0-9]+)*$/.test(t)) return null;
  return BigInt(t.replace(/_/g, ''));
}

