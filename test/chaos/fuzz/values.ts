// Values and request bodies: JSON with raw tokens and duplicate keys, odd scalars, deep nesting,
// mutations of a valid body's tree, and mutations of its text (cut, BOM, bad UTF-8, UTF-16, ...).
import type { Rng } from './rng.js';

/** Text put into the JSON as is (NaN, 1e400, 1.0, a lone surrogate escape, deep nesting). */
export class Raw {
  constructor(readonly text: string) {}
}
/** An object written with repeated keys. */
export class Dup {
  constructor(readonly pairs: [string, unknown][]) {}
}

export function ser(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Dup) return `{${v.pairs.map(([k, x]) => `${JSON.stringify(k)}: ${ser(x)}`).join(', ')}}`;
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(ser).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${ser(x)}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

export class Values {
  constructor(private readonly rng: Rng) {}

  huge(): Raw {
    return new Raw(
      this.rng.pick([
        '1e309', '-1e309', '1E400', 'NaN', 'Infinity', '-Infinity', '9007199254740993', '123456789012345678901234567890',
        '-0', '1.0', '2147483648', '2147483647', '-2147483649', '18446744073709551616', '1e-400', '0.1', '1' + '0'.repeat(400),
      ]),
    );
  }
  str(): unknown {
    const r = this.rng;
    return r.weighted<unknown>([
      [3, ''],
      [3, 'x'],
      [2, ' '],
      [2, 'a'.repeat(r.pick([255, 256, 1000, 20000]))],
      [3, 'üñíçødé €😀'],
      [1, '\u0000'],
      [1, new Raw('"\\ud800"')],
      [1, new Raw('"\\udfff\\ud800x"')],
      [2, r.uuid()],
      [1, r.uuid().toUpperCase()],
      [1, r.uuid().replace(/-/g, '')],
      [1, 'null'],
      [1, 'True'],
      [1, '1'],
      [1, '/'],
      [1, '../../etc/passwd'],
      [1, "x' OR '1'='1"],
      [1, '%s%s%(x)s{0}'],
      [1, '\n\t\r'],
    ]);
  }
  deep(): Raw {
    const n = this.rng.pick([20, 200, 999, 1001, 3000, 20000, 50000]);
    const kind = this.rng.int(3);
    if (kind === 0) return new Raw('['.repeat(n) + ']'.repeat(n));
    if (kind === 1) return new Raw('{"a": '.repeat(n) + '1' + '}'.repeat(n));
    return new Raw('[{"a": '.repeat(Math.floor(n / 2)) + 'null' + '}]'.repeat(Math.floor(n / 2)));
  }
  value(depth = 0): unknown {
    const r = this.rng;
    return r.weighted<() => unknown>([
      [4, () => null],
      [2, () => r.chance(0.5)],
      [3, () => r.pick([0, -1, 1, 2, 3, 100, 1.5])],
      [3, () => this.huge()],
      [6, () => this.str()],
      [2, () => []],
      [2, () => ({})],
      [1, () => (depth < 3 ? [this.value(depth + 1)] : [])],
      [1, () => (depth < 3 ? { [this.key()]: this.value(depth + 1) } : {})],
      [1, () => this.deep()],
      [1, () => new Dup([['a', 1], ['a', null]])],
    ])();
  }
  key(): string {
    return this.rng.pick(['', 'x', 'type', 'id', 'connector', 'attachment_id', 'volume_uuid', 'ü', 'a'.repeat(300), ' ', 'host', 'size', '__proto__', 'constructor', 'toString']);
  }

  /** 1–3 mutations of a body tree (objects and arrays are copied on the way). */
  mutate(body: unknown): unknown {
    const n = 1 + this.rng.int(3);
    let b = body;
    for (let i = 0; i < n; i++) b = this.mutateOnce(b, 0);
    return b;
  }
  private mutateOnce(v: unknown, depth: number): unknown {
    const r = this.rng;
    const isObj = v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw) && !(v instanceof Dup);
    if (isObj && depth < 6 && r.chance(0.65)) {
      const o = { ...(v as Record<string, unknown>) };
      const keys = Object.keys(o);
      const op = r.int(keys.length ? 6 : 2);
      if (op === 0) o[this.key()] = this.value();
      else if (op === 1) return this.value();
      else {
        const k = r.pick(keys);
        if (op === 2) delete o[k];
        else if (op === 3) o[k] = this.mutateOnce(o[k], depth + 1);
        else if (op === 4) {
          const val = o[k];
          delete o[k];
          o[r.pick([k.toUpperCase(), ` ${k}`, `${k}x`, k.replace('_', '-')])] = val;
        } else return new Dup([...Object.entries(o), [k, this.value()]]);
      }
      return o;
    }
    if (Array.isArray(v) && v.length && r.chance(0.5)) return v.map((x) => (r.chance(0.5) ? this.mutateOnce(x, depth + 1) : x));
    return r.weighted<() => unknown>([
      [8, () => this.value()],
      [1, () => [v]],
      [1, () => ({ x: v })],
      [1, () => (typeof v === 'string' ? v.toUpperCase() : this.value())],
      [1, () => (typeof v === 'string' ? ` ${v} ` : this.value())],
      [1, () => (typeof v === 'string' ? `${v}${'x'.repeat(300)}` : this.value())],
    ])();
  }

  /** Body bytes: valid (the template), mutated tree, or a mutated text. */
  bodyBytes(template: unknown, validShare = 0.35): Buffer {
    const r = this.rng;
    const mode = r.weighted<string>([
      [validShare * 100, 'valid'],
      [50, 'tree'],
      [12, 'text'],
    ]);
    if (mode === 'valid') return Buffer.from(ser(template));
    if (mode === 'tree') return Buffer.from(ser(this.mutate(template)));
    const text = ser(template);
    return r.weighted<() => Buffer>([
      [3, () => Buffer.from(text.slice(0, r.int(text.length)))],
      [2, () => Buffer.from(`${text}${r.pick(['x', '}', ',', ' null', '\u0000', '{}'])}`)],
      [1, () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
      [1, () => Buffer.from(text.replace(/"([^"]*)"/, '"$1\xff"'), 'latin1')],
      [1, () => Buffer.from([0xff, 0xfe, 0x7b, 0x7d])],
      [1, () => Buffer.from([0xc3, 0x28, 0xa0, 0xa1])],
      [2, () => Buffer.alloc(0)],
      [1, () => Buffer.from('   \n\t ')],
      [2, () => Buffer.from(r.pick(['null', '[]', '""', '"a"', '["a"]', '[1, 2]', '1', 'true', '{}', 'NaN', '"ab"', '[null]']))],
      [1, () => Buffer.from(this.deep().text)],
      [1, () => Buffer.from(`{"a": "${'x'.repeat(r.pick([100000, 114600, 120000]))}"}`)],
      [1, () => Buffer.from(text.replace(/: /, ': ' + '['.repeat(1500)) + ']'.repeat(1500))],
      [1, () => Buffer.from(`${text}\n${text}`)],
      [1, () => Buffer.from(text, 'utf16le')],
    ])();
  }
}
