// The subset of jsonschema (Draft 4, as cinder/api/validation/validators.py configures it) that the
// request bodies of this port use, written to give Cinder's exact 400 texts:
// * the FIRST error wins, in the order jsonschema finds it: keywords in the order the schema lists
//   them, `properties` in schema order (descending depth-first), `patternProperties` in the order
//   of the request's keys;
// * messages are jsonschema 4.10's (`'x' is not of type 'object', 'null'`, ...), with Python repr;
// * Cinder's tweaks: `minimum`/`maximum` compare int(str) for numeric strings, its `uuid` format
//   (oslo is_uuid_like) says `'x' is not a 'uuid'`, and its name/description formats raise
//   InvalidInput (a plain 400 with Cinder's own text) instead of a validation error;
// * the final text is `Invalid input for field/attribute <last path element>. Value: <str(value)>.
//   <message>`, or the bare message when the error is at the root.
// Schemas are plain literals that read like Cinder's (cinder/api/schemas/*.py); compile() turns each
// node into a list of checks once, at module load. TS types come from the literals (Infer<>).
import { InvalidInput, InvalidName, InvalidParameterValue } from '../common/exceptions.js';
import { isUuidLike } from '../common/uuid.js';
import { VolumeMigrationStatus, VolumeStatus } from '../objects/volume.js';
import {
  PyFloat,
  dictGet,
  dictHas,
  dictKeys,
  dictSize,
  isPyDict,
  pyCompareStr,
  pyIntFromStr,
  pyLen,
  pyRepr,
  pyStr,
  pyStrip,
} from '../common/python.js';

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export interface SchemaNode {
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: { readonly [k: string]: SchemaNode };
  readonly patternProperties?: { readonly [k: string]: SchemaNode };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly anyOf?: readonly SchemaNode[];
  readonly oneOf?: readonly SchemaNode[];
  readonly enum?: readonly (string | boolean | number | null)[];
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly items?: SchemaNode;
  readonly uniqueItems?: boolean;
  readonly minProperties?: number;
  readonly maxProperties?: number;
}

// ---- TS types derived from the schema literals -------------------------------------------------

type TypeOf<T> = T extends 'string'
  ? string
  : T extends 'integer' | 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? unknown[]
          : never;

type ObjectOf<S> = S extends { properties: infer P }
  ? (S extends { required: readonly (infer R)[] }
      ? { -readonly [K in keyof P & R]: Infer<P[K]> } & { -readonly [K in Exclude<keyof P, R>]?: Infer<P[K]> }
      : { -readonly [K in keyof P]?: Infer<P[K]> }) &
      (S extends { additionalProperties: false } ? unknown : { [k: string]: unknown })
  : S extends { patternProperties: { [k: string]: infer V } }
    ? { [k: string]: Infer<V> }
    : { [k: string]: unknown };

type FromType<T, S> = T extends 'object' ? ObjectOf<S> : TypeOf<T>;

/** The TS type a value has once it passed `S`. */
export type Infer<S> = S extends { type: readonly (infer T)[] }
  ? FromType<T, S>
  : S extends { type: infer T }
    ? FromType<T, S>
    : S extends { oneOf: readonly (infer U)[] }
      ? Infer<U>
      : S extends { anyOf: readonly (infer U)[] }
        ? Infer<U>
        : unknown;

// ---- validation ---------------------------------------------------------------------------------

export interface SchemaError {
  /** Path from the root to the failing instance (jsonschema's `error.path`). */
  path: (string | number)[];
  /** The failing instance (jsonschema's `error.instance`). */
  instance: unknown;
  /** jsonschema's own message. */
  message: string;
}

/** Cinder's ValidationError text for a jsonschema error (validators.py `_SchemaValidator.validate`). */
export function cinderMessage(err: SchemaError): string {
  if (err.path.length === 0) return err.message;
  const last = err.path[err.path.length - 1];
  return `Invalid input for field/attribute ${last}. Value: ${pyStr(err.instance)}. ${err.message}`;
}

type Check = (v: unknown, path: (string | number)[]) => SchemaError | null;

export interface CompiledSchema {
  readonly node: SchemaNode;
  /** First error, or null. May throw a Cinder exception (the name/description formats do). */
  readonly validate: (value: unknown) => SchemaError | null;
  /** True when the schema checks integer/number types, where JSON.parse values are not enough. */
  readonly needsPythonView: boolean;
}

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

function isType(v: unknown, t: JsonType): boolean {
  const actual = pyType(v);
  if (t === 'number') return actual === 'number' || actual === 'integer';
  return actual === t;
}

/** Numeric value of a Python number for comparisons (bigint kept exact). */
function numeric(v: unknown): number | bigint | null {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof PyFloat) return v.value;
  return null;
}

function lessThan(a: number | bigint, bound: number): boolean {
  return typeof a === 'bigint' ? a < BigInt(bound) : a < bound;
}
function greaterThan(a: number | bigint, bound: number): boolean {
  return typeof a === 'bigint' ? a > BigInt(bound) : a > bound;
}

/**
 * Cinder's `_number_from_str` before minimum/maximum: int(value), else float(value), else skip.
 * Only the shapes a schema can let through are handled: numbers, numeric strings, bools.
 */
function numberFromStr(v: unknown): number | bigint | PyFloat | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'bigint') return typeof v === 'number' && !Number.isInteger(v) ? Math.trunc(v) : v;
  if (v instanceof PyFloat) return Number.isFinite(v.value) ? Math.trunc(v.value) : null;
  if (typeof v === 'string') {
    const i = pyIntFromStr(v);
    if (i !== null) return Number.isSafeInteger(Number(i)) ? Number(i) : i;
    const t = pyStrip(v);
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return new PyFloat(Number(t));
    return null;
  }
  return null;
}

/** Python `==` as `x in enums` uses it, with jsonschema's bool/int separation. */
function enumHas(enums: readonly unknown[], v: unknown): boolean {
  return enums.some((e) => {
    if (typeof e === 'boolean' || typeof v === 'boolean') return e === v;
    const a = numeric(v);
    const b = numeric(e);
    if (a !== null && b !== null) return Number(a) === Number(b);
    return e === v;
  });
}

/** Cinder's `_validate_string_length(value, name, mandatory=False, 0, 255, remove_whitespaces=True)`. */
function nonMandatoryLength(label: string) {
  return (v: unknown): void => {
    if (v === null || v === undefined || v === '' || v === false || v === 0) return;
    if (typeof v !== 'string') {
      throw new InvalidInput({ reason: `${label} is not a string or unicode` });
    }
    const len = pyLen(pyStrip(v));
    if (len > 255) throw new InvalidInput({ reason: `${label} has ${len} characters, more than 255.` });
  };
}

/**
 * _validate_disabled_reason: _validate_string_length(mandatory=False, 1..255 after strip). Cinder
 * registers it with raises=InvalidInput, so a failure is the plain format error, not its text.
 */
function disabledReasonChecker(v: unknown): boolean {
  if (!pyTruthy(v) || typeof v !== 'string') return true;
  const len = pyLen(pyStrip(v));
  return len >= 1 && len <= 255;
}

/** Python truthiness of a value from the request body (None, False, 0, '', [], {} are false). */
export function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '' || v === 0 || v === 0n) return false;
  if (v instanceof PyFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isPyDict(v)) return dictSize(v) > 0;
  return true;
}

/** Python's repr of a tuple of strings, as the reset-status checkers print VolumeStatus.ALL. */
const tupleRepr = (xs: readonly string[]) => `(${xs.map(pyRepr).join(', ')})`;
const listRepr = (xs: readonly string[]) => `[${xs.map(pyRepr).join(', ')}]`;

/** The attach statuses os-reset_status accepts. */
export const RESET_ATTACH_STATUSES = ['attached', 'detached'] as const;

/**
 * One of the reset-status checkers (validators.py `_validate_volume_*status`): a truthy value whose
 * lower-case form is not in `valid` raises InvalidParameterValue, which escapes jsonschema (the
 * checkers are registered without `raises`), so the 400 text is the bare sentence.
 */
function statusChecker(label: string, valid: readonly string[], shown: string) {
  return (v: unknown): void => {
    if (!pyTruthy(v)) return;
    if (typeof v === 'string' && (valid as readonly string[]).includes(v.toLowerCase())) return;
    throw new InvalidParameterValue({ err: `${label}: ${pyStr(v)} is invalid, valid statuses are: ${shown}.` });
  };
}

/** `_validate_volume_reset_body`: at least one of the three keys must be truthy. */
function resetBodyChecker(v: unknown): void {
  const get = (k: string) => (isPyDict(v) ? dictGet(v, k) : undefined);
  if (!pyTruthy(get('status')) && !pyTruthy(get('attach_status')) && !pyTruthy(get('migration_status'))) {
    throw new InvalidParameterValue({ err: "Must specify 'status', 'attach_status' or 'migration_status' for update." });
  }
}

/**
 * validators.py `_validate_name` (parameter_types.name): registered with InvalidName as its
 * `raises`, whose message Cinder's validator reports as the whole 400 text.
 */
function validateName(v: unknown): boolean {
  if (!pyTruthy(v)) throw new InvalidName({ reason: "The 'name' can not be None." });
  if (typeof v === 'string' && pyLen(pyStrip(v)) === 0) throw new InvalidName({ reason: "The 'name' can not be empty." });
  return true;
}

/**
 * validators.py `_validate_name_skip_leading_trailing_spaces` (InvalidName as its `raises`, like
 * `_validate_name`): a falsy name is "None", the stripped name must be 1..255 characters.
 */
function nameSkipLeadingTrailingSpaces(v: unknown): boolean {
  if (!pyTruthy(v)) throw new InvalidName({ reason: "The 'name' can not be None." });
  const len = typeof v === 'string' ? pyLen(pyStrip(v)) : 1;
  if (len === 0) throw new InvalidName({ reason: "The 'name' can not be empty." });
  if (len > 255) throw new InvalidName({ reason: "The 'name' can not be greater than 255 characters." });
  return true;
}

/** validators.py `_validate_key_size` (no `raises`: its InvalidInput escapes jsonschema): strutils.is_int_like. */
function keySizeChecker(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  const intLike =
    typeof v === 'bigint' ||
    (typeof v === 'number' && Number.isInteger(v)) ||
    (typeof v === 'string' && pyIntFromStr(v)?.toString() === v);
  if (!intLike) throw new InvalidInput({ reason: 'key_size must be an integer.' });
  return true;
}

/** Format checkers Cinder registers (validators.py). A checker returns false or throws. */
const FORMATS: Record<string, (v: unknown) => boolean | void> = {
  uuid: isUuidLike,
  name: validateName,
  name_non_mandatory_remove_white_spaces: nonMandatoryLength('name'),
  description_non_mandatory_remove_white_spaces: nonMandatoryLength('description'),
  validate_volume_reset_body: resetBodyChecker,
  name_skip_leading_trailing_spaces: nameSkipLeadingTrailingSpaces,
  key_size: keySizeChecker,
  // validators.py _validate_disabled_reason (os-services disable-log-reason).
  disabled_reason: disabledReasonChecker,
  // validators.py _validate_log_level: utils.get_log_method (os-services set-log).
  level: (v) => {
    const s = v === null || v === undefined || v === '' ? '' : String(v);
    if (!['INFO', 'WARNING', 'ERROR', 'DEBUG'].includes(s.toUpperCase())) {
      throw new InvalidInput({ reason: `${s} is not a valid log level.` });
    }
  },
  volume_status: statusChecker('Volume status', VolumeStatus, tupleRepr(VolumeStatus)),
  volume_attach_status: statusChecker('Volume attach status', RESET_ATTACH_STATUSES, listRepr(RESET_ATTACH_STATUSES)),
  volume_migration_status: statusChecker(
    'Volume migration status',
    VolumeMigrationStatus,
    tupleRepr(VolumeMigrationStatus),
  ),
};

/** A Python regex pattern as JS: `$` at the end also matches before a final newline. */
function pyPattern(p: string): RegExp {
  const js = p.endsWith('$') && !p.endsWith('\\$') ? `${p.slice(0, -1)}(?=\\n?$)` : p;
  return new RegExp(js);
}

function uniq(items: unknown[]): boolean {
  const seen = new Set<string>();
  for (const it of items) {
    const key = pyRepr(it);
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

function fail(path: (string | number)[], instance: unknown, message: string): SchemaError {
  return { path: path.slice(), instance, message };
}

function compileNode(node: SchemaNode): Check {
  const checks: Check[] = [];
  for (const kw of Object.keys(node) as (keyof SchemaNode)[]) {
    switch (kw) {
      case 'type': {
        const types = (Array.isArray(node.type) ? node.type : [node.type]) as JsonType[];
        const reprs = types.map((t) => `'${t}'`).join(', ');
        checks.push((v, path) =>
          types.some((t) => isType(v, t)) ? null : fail(path, v, `${pyRepr(v)} is not of type ${reprs}`),
        );
        break;
      }
      case 'properties': {
        const props = Object.entries(node.properties!).map(([k, sub]) => [k, compileNode(sub)] as const);
        checks.push((v, path) => {
          if (!isPyDict(v)) return null;
          for (const [k, check] of props) {
            if (!dictHas(v, k)) continue;
            path.push(k);
            const e = check(dictGet(v, k), path);
            path.pop();
            if (e) return e;
          }
          return null;
        });
        break;
      }
      case 'patternProperties': {
        const pats = Object.entries(node.patternProperties!).map(
          ([p, sub]) => [pyPattern(p), compileNode(sub)] as const,
        );
        checks.push((v, path) => {
          if (!isPyDict(v)) return null;
          for (const [re, check] of pats) {
            for (const k of dictKeys(v)) {
              if (!re.test(k)) continue;
              path.push(k);
              const e = check(dictGet(v, k), path);
              path.pop();
              if (e) return e;
            }
          }
          return null;
        });
        break;
      }
      case 'required': {
        const req = node.required!;
        checks.push((v, path) => {
          if (!isPyDict(v)) return null;
          for (const k of req) if (!dictHas(v, k)) return fail(path, v, `${pyRepr(k)} is a required property`);
          return null;
        });
        break;
      }
      case 'additionalProperties': {
        if (node.additionalProperties !== false) break;
        const known = new Set(Object.keys(node.properties ?? {}));
        const patternSrc = Object.keys(node.patternProperties ?? {});
        const anyPattern = patternSrc.length ? pyPattern(patternSrc.join('|')) : null;
        const sortedPatterns = [...patternSrc].sort(pyCompareStr).map((p) => pyRepr(p)).join(', ');
        checks.push((v, path) => {
          if (!isPyDict(v)) return null;
          const extras = dictKeys(v).filter((k) => !known.has(k) && !(anyPattern && anyPattern.test(k)));
          if (!extras.length) return null;
          const joined = [...extras].sort(pyCompareStr).map((k) => pyRepr(k)).join(', ');
          if (patternSrc.length) {
            const verb = extras.length === 1 ? 'does' : 'do';
            return fail(path, v, `${joined} ${verb} not match any of the regexes: ${sortedPatterns}`);
          }
          const verb = extras.length === 1 ? 'was' : 'were';
          return fail(path, v, `Additional properties are not allowed (${joined} ${verb} unexpected)`);
        });
        break;
      }
      case 'anyOf':
      case 'oneOf': {
        const subs = node[kw]!.map(compileNode);
        const isOne = kw === 'oneOf';
        checks.push((v, path) => {
          let valid = 0;
          for (const s of subs) {
            if (s(v, []) === null) {
              valid++;
              if (!isOne) break;
            }
          }
          if (valid === 0) return fail(path, v, `${pyRepr(v)} is not valid under any of the given schemas`);
          // oneOf matching several subschemas cannot happen with this port's schemas.
          if (isOne && valid > 1) return fail(path, v, `${pyRepr(v)} is valid under more than one of the given schemas`);
          return null;
        });
        break;
      }
      case 'enum': {
        const enums = node.enum!;
        const reprs = `[${enums.map(pyRepr).join(', ')}]`;
        checks.push((v, path) => (enumHas(enums, v) ? null : fail(path, v, `${pyRepr(v)} is not one of ${reprs}`)));
        break;
      }
      case 'format': {
        const name = node.format!;
        const checker = FORMATS[name];
        if (!checker) break; // jsonschema ignores unknown formats
        checks.push((v, path) =>
          checker(v) === false ? fail(path, v, `${pyRepr(v)} is not a ${pyRepr(name)}`) : null,
        );
        break;
      }
      case 'pattern': {
        const re = pyPattern(node.pattern!);
        const shown = pyRepr(node.pattern!);
        checks.push((v, path) =>
          typeof v === 'string' && !re.test(v) ? fail(path, v, `${pyRepr(v)} does not match ${shown}`) : null,
        );
        break;
      }
      case 'minLength': {
        const min = node.minLength!;
        checks.push((v, path) =>
          typeof v === 'string' && pyLen(v) < min ? fail(path, v, `${pyRepr(v)} is too short`) : null,
        );
        break;
      }
      case 'maxLength': {
        const max = node.maxLength!;
        checks.push((v, path) =>
          typeof v === 'string' && pyLen(v) > max ? fail(path, v, `${pyRepr(v)} is too long`) : null,
        );
        break;
      }
      case 'minimum':
      case 'maximum': {
        const bound = node[kw]!;
        const isMin = kw === 'minimum';
        checks.push((v, path) => {
          const conv = numberFromStr(v);
          if (conv === null) return null;
          const n = numeric(conv);
          if (n === null) return null;
          if (isMin ? lessThan(n, bound) : greaterThan(n, bound)) {
            const what = isMin ? 'less than the minimum' : 'greater than the maximum';
            return fail(path, v, `${pyRepr(conv)} is ${what} of ${pyRepr(bound)}`);
          }
          return null;
        });
        break;
      }
      case 'items': {
        const check = compileNode(node.items!);
        checks.push((v, path) => {
          if (!Array.isArray(v)) return null;
          for (let i = 0; i < v.length; i++) {
            path.push(i);
            const e = check(v[i], path);
            path.pop();
            if (e) return e;
          }
          return null;
        });
        break;
      }
      case 'minProperties': {
        const min = node.minProperties!;
        checks.push((v, path) =>
          isPyDict(v) && dictSize(v) < min ? fail(path, v, `${pyRepr(v)} does not have enough properties`) : null,
        );
        break;
      }
      case 'maxProperties': {
        const max = node.maxProperties!;
        checks.push((v, path) =>
          isPyDict(v) && dictSize(v) > max ? fail(path, v, `${pyRepr(v)} has too many properties`) : null,
        );
        break;
      }
      case 'uniqueItems': {
        if (!node.uniqueItems) break;
        checks.push((v, path) =>
          Array.isArray(v) && !uniq(v) ? fail(path, v, `${pyRepr(v)} has non-unique elements`) : null,
        );
        break;
      }
      default:
        throw new Error(`jsonschema keyword not supported by this port: ${String(kw)}`);
    }
  }
  return (v, path) => {
    for (const c of checks) {
      const e = c(v, path);
      if (e) return e;
    }
    return null;
  };
}

function mentionsNumbers(node: SchemaNode): boolean {
  const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes('integer') || types.includes('number')) return true;
  if (node.minimum !== undefined || node.maximum !== undefined) return true;
  const subs: SchemaNode[] = [
    ...Object.values(node.properties ?? {}),
    ...Object.values(node.patternProperties ?? {}),
    ...(node.anyOf ?? []),
    ...(node.oneOf ?? []),
    ...(node.items ? [node.items] : []),
  ];
  return subs.some(mentionsNumbers);
}

export function compile<const S extends SchemaNode>(node: S): CompiledSchema & { readonly __type?: Infer<S> } {
  const check = compileNode(node);
  return {
    node,
    validate: (v) => check(v, []),
    needsPythonView: mentionsNumbers(node),
  };
}
