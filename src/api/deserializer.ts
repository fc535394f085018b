// Body deserialisation of cinder/api/openstack/wsgi.py: JSONDeserializer._from_json and
// action_peek_json, both jsonutils.loads (Python's json) of the raw body: a body that is not UTF-8
// or that Python's json refuses is a 400 "Malformed request body" (MalformedRequestBody), and one
// nested deeper than Python's recursion limit is Python's RecursionError, a 500.
import { HttpFault } from './faults.js';
import { pyLen, pyParse, toPlain } from '../common/python.js';

export const MALFORMED_BODY = 'Malformed request body';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface ParsedBody {
  value: unknown;
  text: string;
}

/**
 * Python's json decoder recurses once per nested array/object, within sys.getrecursionlimit()
 * (1000) minus the frames already on the stack, and its RecursionError is no ValueError: it escapes
 * action_peek_json / JSONDeserializer._from_json and the Resource, and FaultWrapper answers 500.
 * Measured on Cinder 21.3.1's own v3 APIRouter behind NoAuthMiddleware and FaultWrapper: 962
 * nested containers parse, 963 are a 500 (a deployed eventlet stack has a few more frames, so its
 * limit is a little lower; over ~1000 levels every Cinder answers 500).
 */
export const PY_JSON_MAX_NESTING = 962;

/** True when the JSON text opens more than `max` arrays/objects at once (strings skipped). */
export function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** jsonutils.loads: strict UTF-8, Python's json (NaN/Infinity allowed); anything else is malformed. */
export function parseJsonBody(raw: Buffer): ParsedBody {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new HttpFault(400, MALFORMED_BODY);
  }
  // Only a text this long can nest that deep; a RecursionError is a 500 (FaultWrapper).
  if (text.length > PY_JSON_MAX_NESTING && nestingExceeds(text, PY_JSON_MAX_NESTING)) {
    throw new Error('RecursionError: maximum recursion depth exceeded while decoding a JSON array from a unicode string');
  }
  try {
    return { value: JSON.parse(text), text };
  } catch {
    try {
      return { value: toPlain(pyParse(text)), text };
    } catch {
      throw new HttpFault(400, MALFORMED_BODY);
    }
  }
}

/**
 * action_peek_json + get_method: the body must be an object with exactly one key. Python's len()
 * on anything else: a 1-element list or 1-character string has no .keys() (AttributeError) and a
 * number/bool/null has no len() (TypeError); both end as a bare 404.
 */
export function peekAction(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length !== 1) throw new HttpFault(400, MALFORMED_BODY);
    return keys[0];
  }
  if (Array.isArray(v)) {
    if (v.length !== 1) throw new HttpFault(400, MALFORMED_BODY);
    throw new HttpFault(404);
  }
  if (typeof v === 'string') {
    if (pyLen(v) !== 1) throw new HttpFault(400, MALFORMED_BODY);
    throw new HttpFault(404);
  }
  throw new HttpFault(404);
}
