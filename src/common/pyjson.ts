// Python's json.dumps and float repr, for text that must be byte-for-byte what Cinder writes:
// fault bodies (webob's JSON) and the JSON columns of volume_attachment (oslo jsonutils.dumps).

/** repr() of a Python float: shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e16. */
export function pyReprFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expStr] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const exp = Number(expStr);
  const decpt = exp + 1;
  if (decpt <= -4 || decpt > 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

const JSON_ESC: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** json.dumps(str) with Python's default ensure_ascii=True. */
export function pyJsonString(s: string): string {
  if (/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(s)) return `"${s}"`;
  return `"${s.replace(/[\\"]|[^\x20-\x7e]/g, (c) => JSON_ESC[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/**
 * json.dumps(v) with Python's defaults, as oslo jsonutils.dumps writes the connector and
 * connection_info columns: ', ' and ': ' separators, ensure_ascii, keys in insertion order,
 * integral numbers as ints and others as float repr.
 */
export function pyJsonDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    return Number.isInteger(v) ? String(v) : pyReprFloat(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return pyJsonString(v);
  if (Array.isArray(v)) return `[${v.map(pyJsonDumps).join(', ')}]`;
  if (typeof v === 'object') {
    const items = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${items.map(([k, x]) => `${pyJsonString(k)}: ${pyJsonDumps(x)}`).join(', ')}}`;
  }
  return pyJsonString(String(v));
}
