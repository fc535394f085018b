// Python's ast.literal_eval, for the `extra_specs` filter of GET /types (cinder/api/v3/types.py
// VolumeTypesController._get_volume_types evaluates the query's string, and keeps the string when
// it is no literal).
/**
 * ast.literal_eval for the extra_specs filter: Python literals (dicts, lists, tuples, sets, str,
 * numbers, True/False/None). Throws on anything else (Cinder then keeps the string).
 */
export function pyLiteralEval(text: string): unknown {
  let i = 0;
  const n = text.length;
  const fail = (): never => {
    throw new SyntaxError('not a Python literal');
  };
  const ws = () => {
    while (i < n && ' \t\n\r\f\v'.includes(text[i])) i++;
  };
  const str = (): string => {
    let raw = false;
    while (i < n && /[rRuUbB]/.test(text[i])) {
      if (/[rR]/.test(text[i])) raw = true;
      i++;
    }
    const q = text[i];
    if (q !== "'" && q !== '"') fail();
    const triple = text.startsWith(q.repeat(3), i);
    i += triple ? 3 : 1;
    let out = '';
    for (;;) {
      if (i >= n) fail();
      if (triple ? text.startsWith(q.repeat(3), i) : text[i] === q) {
        i += triple ? 3 : 1;
        return out;
      }
      const c = text[i];
      if (!triple && c === '\n') fail();
      if (c === '\\' && !raw) {
        const e = text[i + 1];
        i += 2;
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };
        if (e in simple) out += simple[e];
        else if (e === 'x' || e === 'u' || e === 'U') {
          const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
          const h = text.slice(i, i + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) fail();
          out += String.fromCodePoint(parseInt(h, 16));
          i += len;
        } else out += '\\' + (e ?? '');
        continue;
      }
      if (c === '\\' && raw) {
        out += text.slice(i, i + 2);
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
  };
  const seq = (close: string): unknown[] => {
    const items: unknown[] = [];
    for (;;) {
      ws();
      if (text[i] === close) {
        i++;
        return items;
      }
      items.push(value());
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== close) fail();
    }
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return new Map();
      }
      const first = value();
      ws();
      if (text[i] !== ':') {
        // a set literal
        const rest = text[i] === ',' ? (i++, seq('}')) : text[i] === '}' ? (i++, []) : fail();
        return [first, ...(rest as unknown[])];
      }
      const m = new Map<unknown, unknown>();
      i++;
      m.set(first, value());
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return m;
        }
        if (text[i] !== ',') fail();
        i++;
        ws();
        if (text[i] === '}') {
          i++;
          return m;
        }
        const k = value();
        ws();
        if (text[i] !== ':') fail();
        i++;
        m.set(k, value());
      }
    }
    if (c === '[') {
      i++;
      return seq(']');
    }
    if (c === '(') {
      i++;
      return seq(')');
    }
    if (c === "'" || c === '"' || (c !== undefined && /[rRuUbB]/.test(c) && /['"]/.test(text.slice(i, i + 3)))) {
      let s = str();
      // adjacent literals concatenate
      for (;;) {
        const save = i;
        ws();
        if (i < n && (text[i] === "'" || text[i] === '"')) s += str();
        else {
          i = save;
          return s;
        }
      }
    }
    const m = /^[+-]?\s*(?:\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|True|False|None)/.exec(text.slice(i));
    if (!m) fail();
    i += m![0].length;
    const tok = m![0].replace(/\s+/g, '');
    if (tok === 'True') return true;
    if (tok === 'False') return false;
    if (tok === 'None') return null;
    if (/[+-]?(True|False|None)/.test(tok)) fail();
    return Number(tok.replace(/_/g, ''));
  };
  const v = value();
  ws();
  if (i !== n) fail();
  return v;
}

/** Python's str() of a literal_eval'd key (dict keys reach the SQL as they are). */
export function specKey(k: unknown): string {
  return typeof k === 'string' ? k : String(k);
}
