// The subset of jsonschema 4.10 (Draft 4, as cinder/api/validation/validators.py configures it)
// that the request bodies of this port use: jsonschema/validators.py's one pass that stops at the
// first error, and _validators.py's keywords with their messages, written to give Cinder's exact
// 400 texts:
// * the FIRST error wins, in the order jsonschema finds it: keywords in the order the schema lists
//   them, `properties` in schema order (descending depth-first), `patternProperties` in the order
//   of the request's keys;
// * messages are jsonschema 4.10's (`'x' is not of type 'object', 'null'`, ...), with Python repr;
// * Cinder's additions (its format checkers, _number_from_str before minimum/maximum, the final
//   400 text) are validators.ts; how a Python value's type, equality and uniqueness are judged is
//   jsonschema-values.ts.
// Schemas are plain literals that read like Cinder's (cinder/api/schemas/*.py); compile() turns each
// node into a list of checks once, at module load. TS types come from the literals (Infer<>).
import { dictGet, dictHas, dictKeys, dictSize, isPyDict, pyCompareStr, pyLen, pyRepr } from '../common/python.js';
import { enumHas, greaterThan, isType, lessThan, numeric, uniq, type JsonType } from './jsonschema-values.js';
// Cinder's FormatChecker and its _number_from_str, which _SchemaValidator hands to jsonschema.
import { FORMATS, numberFromStr } from './validators.js';

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

type Check = (v: unknown, path: (string | number)[]) => SchemaError | null;

export interface CompiledSchema {
  readonly node: SchemaNode;
  /** First error, or null. May throw a Cinder exception (the name/description formats do). */
  readonly validate: (value: unknown) => SchemaError | null;
  /** True when the schema checks integer/number types, where JSON.parse values are not enough. */
  readonly needsPythonView: boolean;
}

/** A Python regex pattern as JS: `$` at the end also matches before a final newline. */
function pyPattern(p: string): RegExp {
  const js = p.endsWith('$') && !p.endsWith('\\$') ? `${p.slice(0, -1)}(?=\\n?$)` : p;
  return new RegExp(js);
}

function fail(path: (string | number)[], instance: unknown, message: string): SchemaError {
  return { path: path.slice(), instance, message };
}

/** Check a child of the instance with `key` on the path (jsonschema's Validator.descend). */
function descend(check: Check, child: unknown, path: (string | number)[], key: string | number): SchemaError | null {
  path.push(key);
  const e = check(child, path);
  path.pop();
  return e;
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
            const e = descend(check, dictGet(v, k), path, k);
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
              const e = descend(check, dictGet(v, k), path, k);
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
            const e = descend(check, v[i], path, i);
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
