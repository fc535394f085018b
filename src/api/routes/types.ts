// The volume types API of Cinder 21.3.1: /v3/{project_id}/types (cinder/api/v3/types.py, with the
// types_manage.py create/update/delete actions and volume_type_access.py's extension of its views
// and /action), /types/{id}/extra_specs (api/contrib/types_extra_specs.py),
// /types/{id}/os-volume-type-access (volume_type_access.py) and /default-types (api/v3/default_types.py,
// 3.62). Views as api/v3/views/types.py (views/types.py for create/update) and
// v3/views/default_types.py. The types routes exist with and without the project in the path (the
// ProjectMapper's resources); /default-types only without it (plain mapper.connect routes). Cinder's notifications of these
// controllers (volumeType.*, volumeTypeExtraSpecs.*, volume_type_project.*) are not sent.
import type { FastifyInstance } from 'fastify';
import type { CinderConfig } from '../../common/config.js';
import type { RequestContext } from '../../common/context.js';
import {
  GlanceStoreNotFound,
  NotAuthorized,
  VolumeTypeAccessExists,
  VolumeTypeAccessNotFound,
  VolumeTypeDefaultDeletionError,
  VolumeTypeDefaultMisconfiguredError,
  VolumeTypeDeletionError,
  VolumeTypeExists,
  VolumeTypeExtraSpecsNotFound,
  VolumeTypeInUse,
  VolumeTypeNotFound,
  VolumeTypeProjectDefaultNotFound,
  VolumeTypeUpdateFailed,
} from '../../common/exceptions.js';
import { authorize, isAllowed } from '../../common/policy.js';
import type { Db } from '../../db/client.js';
import {
  projectDefaultVolumeTypeGet,
  projectDefaultVolumeTypeGetAll,
  projectDefaultVolumeTypeSet,
  projectDefaultVolumeTypeUnset,
  volumesUseType,
  volumeTypeExtraSpecsDelete,
  volumeTypeExtraSpecsGet,
  volumeTypeExtraSpecsUpdateOrCreate,
  type ProjectDefaultType,
} from '../../db/volume-types.js';
import {
  addVolumeTypeAccess,
  createType,
  destroyType,
  getAllTypes,
  getDefaultTypeRecord,
  getTypeRecord,
  getTypeRecordByName,
  getTypeRecordByNameOrId,
  removeVolumeTypeAccess,
  updateType,
  type TypeRecord,
} from '../../volume-api/volume-types.js';
import type { Volume } from '../../objects/volume.js';
import { HttpFault, PyTypeError } from '../faults.js';
import { MV } from '../microversion.js';
import { lastParam, paginationParams, queryPairs, sortParams, type QueryPairs } from '../pagination.js';
import { runResource, viewRequest, type Controller, type ResourceCall, type ResourceMethod } from '../pipeline.js';
import { boolFromString, isValidBoolStr, pyStrip } from '../python.js';
import { rejectStrayTypeKey, validateBody } from '../schemas.js';
import {
  addProjectAccessSchema,
  createExtraSpecsSchema,
  createTypeSchema,
  defaultTypeSchema,
  removeProjectAccessSchema,
  updateExtraSpecSchema,
  updateTypeSchema,
  type CreateTypeBody,
  type UpdateTypeBody,
} from '../schemas-types.js';
import { collectionLinks } from '../views.js';

// ---- policies (cinder/policies/volume_type.py, type_extra_specs.py, volume_access.py, default_types.py)

const TYPE_CREATE = 'volume_extension:type_create';
const TYPE_UPDATE = 'volume_extension:type_update';
const TYPE_DELETE = 'volume_extension:type_delete';
const TYPE_GET = 'volume_extension:type_get';
const TYPE_GET_ALL = 'volume_extension:type_get_all';
const TYPE_QOS = 'volume_extension:access_types_qos_specs_id';
const TYPE_EXTRA_SPECS = 'volume_extension:access_types_extra_specs';
const SPECS_INDEX = 'volume_extension:types_extra_specs:index';
const SPECS_SHOW = 'volume_extension:types_extra_specs:show';
const SPECS_CREATE = 'volume_extension:types_extra_specs:create';
const SPECS_UPDATE = 'volume_extension:types_extra_specs:update';
const SPECS_DELETE = 'volume_extension:types_extra_specs:delete';
const SPECS_READ_SENSITIVE = 'volume_extension:types_extra_specs:read_sensitive';
const TYPE_ACCESS = 'volume_extension:volume_type_access';
const TYPE_ACCESS_ADD = 'volume_extension:volume_type_access:addProjectAccess';
const TYPE_ACCESS_REMOVE = 'volume_extension:volume_type_access:removeProjectAccess';
const TYPE_ACCESS_WHO = 'volume_extension:volume_type_access:get_all_for_type';
const DEFAULT_SET = 'volume_extension:default_set_or_update';
const DEFAULT_GET = 'volume_extension:default_get';
const DEFAULT_GET_ALL = 'volume_extension:default_get_all';
const DEFAULT_UNSET = 'volume_extension:default_unset';

/** type_extra_specs.USER_VISIBLE_EXTRA_SPECS: what a caller without read_sensitive sees. */
export const USER_VISIBLE_EXTRA_SPECS = ['RESKEY:availability_zones', 'multiattach', 'replication_enabled'];

/** The `volume_type` entry of Cinder's stock resource_filters.json (3.52+, non-admins). */
const TYPE_RESOURCE_FILTERS = ['is_public', 'extra_specs'];

/** The alias the access extension prefixes its field with. */
const IS_PUBLIC_KEY = 'os-volume-type-access:is_public';

const NOT_AUTHORIZED = 'You are not authorized to perform this operation.';

// ---- views -----------------------------------------------------------------------------------------

/** The specs a caller may read: all with read_sensitive, else only the user-visible ones. */
function visibleSpecs(ctx: RequestContext, specs: Record<string, string | null>): Record<string, string | null> {
  if (isAllowed(ctx, SPECS_READ_SENSITIVE)) return specs;
  const out: Record<string, string | null> = {};
  for (const k of USER_VISIBLE_EXTRA_SPECS) if (k in specs) out[k] = specs[k];
  return out;
}

/** views/types.py ViewBuilder.show (brief: the bare dict). */
export function typeView(ctx: RequestContext, t: TypeRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { id: t.id, name: t.name, is_public: t.is_public, description: t.description };
  if (isAllowed(ctx, TYPE_EXTRA_SPECS)) out.extra_specs = visibleSpecs(ctx, t.extra_specs ?? {});
  if (isAllowed(ctx, TYPE_QOS)) out.qos_specs_id = t.qos_specs_id;
  return out;
}

/**
 * cinder/api/views/types.py ViewBuilder.show, the view of the manage actions (create, update):
 * every extra spec, no qos_specs_id, whatever the policies.
 */
export function manageTypeView(t: TypeRecord): Record<string, unknown> {
  return { id: t.id, name: t.name, is_public: t.is_public, extra_specs: t.extra_specs ?? {}, description: t.description };
}

/**
 * VolumeTypeActionController._extend_vol_type, for the responses it extends (index, show, create):
 * `os-volume-type-access:is_public` when the caller passes volume_type_access. It finds the type in
 * the request's cache by the URL's id, so GET /types/default (cached under the type's real id) is
 * not extended.
 */
function extendIsPublic(ctx: RequestContext, view: Record<string, unknown>, t: TypeRecord | undefined): void {
  if (t && isAllowed(ctx, TYPE_ACCESS)) view[IS_PUBLIC_KEY] = t.is_public ?? true;
}

// ---- helpers -----------------------------------------------------------------------------------------

function obj(status: number, body: unknown) {
  return { kind: 'object' as const, status, body };
}

/** api_utils._parse_is_public: absent → True, 'none' → None (all), else a strict bool string. */
function parseIsPublic(v: string | undefined): boolean | null {
  if (v === undefined) return true;
  if (v.toLowerCase() === 'none') return null;
  if (!isValidBoolStr(v)) throw new HttpFault(400, `Invalid is_public filter [${v}]`);
  return boolFromString(v);
}

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
function specKey(k: unknown): string {
  return typeof k === 'string' ? k : String(k);
}

/** A dict value of the Python view as a plain key → value object, or null if it is no dict. */
function asDict(v: unknown): Record<string, unknown> | null {
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, val] of v) o[specKey(k)] = val;
    return o;
  }
  return null;
}

// ---- the controllers ---------------------------------------------------------------------------------

export interface TypeRoutesDeps {
  db: Db;
  config: Pick<CinderConfig, 'DEFAULT'> | { DEFAULT: { default_volume_type?: string } };
  /**
   * api_utils.get_project for /default-types: 'not_found' answers Keystone's 404. Cinder asks
   * Keystone with the caller's token; without a lookup (noauth, tests) every project exists.
   */
  projectLookup?: (ctx: RequestContext, projectId: string) => Promise<'found' | 'not_found'>;
}

export function typeControllers(deps: TypeRoutesDeps) {
  const { db } = deps;
  const config = deps.config.DEFAULT;

  // -- /types (VolumeTypesController + types_manage + the access extension) --

  const index: Controller = async (c) => {
    authorize(c.ctx, TYPE_GET_ALL);
    const pairs: QueryPairs = queryPairs(c);
    const { marker, limit, offset } = paginationParams(pairs);
    const { sortKeys, sortDirs } = sortParams(pairs);
    let filterPairs = pairs;
    if (c.version >= MV.SUPPORT_VOLUME_TYPE_FILTER) {
      // process_general_filtering('volume_type') → reject_invalid_filters (3.31+ always true here)
      if (filterPairs.some(([k]) => /[^\x00-\x7f]/.test(k))) throw new HttpFault(400, 'Filter keys can only contain ASCII characters.');
      if (!c.ctx.is_admin) {
        const like = c.version >= MV.LIKE_FILTER;
        const invalid = filterPairs
          .map(([k]) => k)
          .filter((k) => !TYPE_RESOURCE_FILTERS.includes(k) && !(like && TYPE_RESOURCE_FILTERS.includes(`${k}~`)));
        if (invalid.length) {
          const rest = invalid.filter((k, idx) => !(k === 'all_tenants' && idx === invalid.indexOf('all_tenants')));
          if (rest.length !== invalid.length) {
            const at = filterPairs.findIndex(([k]) => k === 'all_tenants');
            filterPairs.splice(at, 1);
          }
          if (rest.length) throw new HttpFault(400, `Invalid filters ${rest.join(',')} are found in query options.`);
        }
      }
    } else if (!c.ctx.is_admin) {
      // remove_invalid_filter_options(context, filters, ['is_public'])
      filterPairs = filterPairs.filter(([k]) => k === 'is_public');
    }
    const filters: Record<string, unknown> = {};
    for (const [k, v] of filterPairs) filters[k] = v;
    filters.is_public = c.ctx.is_admin ? parseIsPublic(lastParam(queryPairs(c), 'is_public')) : true;
    let types: TypeRecord[] = [];
    let empty = false;
    if ('extra_specs' in filters) {
      try {
        filters.extra_specs = pyLiteralEval(String(filters.extra_specs));
      } catch {
        // "Could not evaluate extra_specs, assuming dictionary string": kept as the string.
      }
      if (!isAllowed(c.ctx, SPECS_READ_SENSITIVE)) {
        const es = filters.extra_specs;
        if (!(es instanceof Map)) throw new Error(`AttributeError: object has no attribute 'keys'`);
        // Filtering on specs the caller may not see would leak them: an empty list instead.
        if ([...es.keys()].some((k) => !USER_VISIBLE_EXTRA_SPECS.includes(specKey(k)))) empty = true;
      }
    }
    if (!empty) types = await getAllTypes(db, c.ctx, { filters, marker, limit, offset, sortKeys, sortDirs });
    const vr = viewRequest(c.req, c.ctx, c.version);
    const list = types.map((t) => {
      const v = typeView(c.ctx, t);
      extendIsPublic(c.ctx, v, t);
      return v;
    });
    const body: Record<string, unknown> = { volume_types: list };
    const links = collectionLinks(vr, types as unknown as Volume[], 'types', limit);
    if (links.length) body.volume_type_links = links;
    return obj(200, body);
  };

  const show: Controller = async (c) => {
    const id = c.params.id;
    let t: TypeRecord;
    let cached: TypeRecord | undefined;
    if (id === 'default') {
      t = await getDefaultTypeRecord(db, config, c.ctx);
    } else {
      t = await getTypeRecord(db, c.ctx, id);
      cached = t;
    }
    authorize(c.ctx, TYPE_GET);
    const view = typeView(c.ctx, t);
    extendIsPublic(c.ctx, view, cached);
    return obj(200, { volume_type: view });
  };

  const create: Controller = async (c) => {
    rejectStrayTypeKey(c.body);
    const body = validateBody<CreateTypeBody>(createTypeSchema, c.body, c.bodyText);
    authorize(c.ctx, TYPE_CREATE);
    const vt = body.volume_type;
    const isPublicRaw = IS_PUBLIC_KEY in vt ? vt[IS_PUBLIC_KEY] : true;
    const isPublic = boolFromString(isPublicRaw);
    let t: TypeRecord;
    try {
      await createType(db, c.ctx, vt.name, (vt.extra_specs ?? {}) as Record<string, string | null>, isPublic, [], vt.description ?? null);
      t = await getTypeRecordByName(db, vt.name);
    } catch (e) {
      if (e instanceof VolumeTypeExists) throw new HttpFault(409, e.message);
      throw e;
    }
    const view = manageTypeView(t);
    extendIsPublic(c.ctx, view, t);
    return obj(200, { volume_type: view });
  };

  const update: Controller = async (c) => {
    rejectStrayTypeKey(c.body);
    const body = validateBody<UpdateTypeBody>(updateTypeSchema, c.body, c.bodyText);
    authorize(c.ctx, TYPE_UPDATE);
    const vt = body.volume_type;
    const name = vt.name ?? null;
    const description = vt.description ?? null;
    const isPublic = vt.is_public === undefined || vt.is_public === null ? null : boolFromString(vt.is_public);
    if (name && pyStrip(name).length === 0) throw new HttpFault(400, 'Volume type name can not be empty.');
    if (name === null && description === null && isPublic === null) {
      throw new HttpFault(400, 'Specify volume type name, description, is_public or a combination thereof.');
    }
    let t: TypeRecord;
    try {
      await updateType(db, c.ctx, c.params.id, name, description, isPublic);
      t = await getTypeRecord(db, c.ctx, c.params.id);
    } catch (e) {
      if (e instanceof VolumeTypeExists) throw new HttpFault(409, e.message);
      if (e instanceof VolumeTypeUpdateFailed) throw new HttpFault(500, e.message);
      throw e;
    }
    return obj(200, { volume_type: manageTypeView(t) });
  };

  const remove: Controller = async (c) => {
    authorize(c.ctx, TYPE_DELETE);
    try {
      const t = await getTypeRecord(db, c.ctx, c.params.id);
      await destroyType(db, config, c.ctx, t.id);
    } catch (e) {
      if (e instanceof VolumeTypeInUse) throw new HttpFault(400, 'Target volume type is still in use.');
      if (e instanceof VolumeTypeDeletionError || e instanceof VolumeTypeDefaultDeletionError) throw new HttpFault(400, e.msg);
      if (e instanceof VolumeTypeDefaultMisconfiguredError) throw new HttpFault(500, e.msg);
      throw e;
    }
    return { kind: 'raw', status: 202 };
  };

  // -- POST /types/{id}/action: the access actions, and the manage actions reachable by name --

  const addProjectAccess: Controller = async (c) => {
    const body = validateBody<{ addProjectAccess: { project: string } }>(addProjectAccessSchema, c.body, c.bodyText);
    authorize(c.ctx, TYPE_ACCESS_ADD);
    try {
      await addVolumeTypeAccess(db, c.ctx, c.params.id, body.addProjectAccess.project);
    } catch (e) {
      if (e instanceof VolumeTypeAccessExists) throw new HttpFault(409, e.message);
      throw e;
    }
    return { kind: 'raw', status: 202 };
  };

  const removeProjectAccess: Controller = async (c) => {
    const body = validateBody<{ removeProjectAccess: { project: string } }>(removeProjectAccessSchema, c.body, c.bodyText);
    authorize(c.ctx, TYPE_ACCESS_REMOVE);
    await removeVolumeTypeAccess(db, c.ctx, c.params.id, body.removeProjectAccess.project);
    return { kind: 'raw', status: 202 };
  };

  /** {"create": …} on a member: the create schema runs first (and must fail), then _create(id=…) is a TypeError. */
  const createAction: Controller = async (c) => {
    rejectStrayTypeKey(c.body);
    validateBody(createTypeSchema, c.body, c.bodyText);
    throw new PyTypeError("_create() got an unexpected keyword argument 'id'");
  };
  /** {"delete": …}: _delete(req, id) takes no body (TypeError). */
  const deleteAction: Controller = async () => {
    throw new PyTypeError("_delete() got an unexpected keyword argument 'body'");
  };

  const typeActions = new Map<string, Controller>([
    ['addProjectAccess', addProjectAccess],
    ['removeProjectAccess', removeProjectAccess],
    ['create', createAction],
    ['update', update],
    ['delete', deleteAction],
  ]);

  // -- /types/{type_id}/os-volume-type-access --

  const accessIndex: Controller = async (c) => {
    authorize(c.ctx, TYPE_ACCESS_WHO);
    const t = await getTypeRecord(db, c.ctx, c.params.type_id, { projects: true });
    if (t.is_public) throw new VolumeTypeAccessNotFound({}, 'Access list not available for public volume types.');
    return obj(200, { volume_type_access: (t.projects ?? []).map((p) => ({ volume_type_id: t.id, project_id: p })) });
  };

  // -- /types/{type_id}/extra_specs --

  const checkType = (c: ResourceCall) => getTypeRecord(db, c.ctx, c.params.type_id);

  /** _allow_update: no spec may change while a live volume has the type. */
  const allowUpdate = async (typeId: string) => {
    if (await volumesUseType(db, typeId)) throw new HttpFault(400, 'Volume Type is currently in use.');
  };

  /** image_utils.validate_stores_id: this port has no image service, so no store is enabled. */
  const validateStore = (storeId: unknown) => {
    throw new GlanceStoreNotFound({ store_id: storeId });
  };

  /** _check_cacheable: 'cacheable' and 'multiattach' may not both be '<is> True'. */
  const checkCacheable = async (specs: unknown, typeId: string) => {
    if (specs === null || typeof specs !== 'object' || Array.isArray(specs)) {
      throw new Error(`AttributeError: '${typeof specs === 'string' ? 'str' : typeof specs}' object has no attribute 'get'`);
    }
    const s = specs as Record<string, unknown>;
    const current = (await getTypeRecord(db, null, typeId)).extra_specs;
    const truthy = (v: unknown) => (v ? v : false);
    const multiattach = truthy(current.multiattach);
    const cacheable = truthy(current.cacheable);
    const isTrue = '<is> True';
    if (
      (s.multiattach === isTrue && cacheable === isTrue) ||
      (s.cacheable === isTrue && multiattach === isTrue) ||
      (s.cacheable === isTrue && s.multiattach === isTrue)
    ) {
      throw new HttpFault(400, 'cacheable cannot be set with multiattach.');
    }
  };

  const specsIndex: Controller = async (c) => {
    authorize(c.ctx, SPECS_INDEX);
    await checkType(c);
    return obj(200, { extra_specs: visibleSpecs(c.ctx, await volumeTypeExtraSpecsGet(db, c.params.type_id)) });
  };

  const specsCreate: Controller = async (c) => {
    const body = validateBody<{ extra_specs: Record<string, string | null> }>(createExtraSpecsSchema, c.body, c.bodyText);
    authorize(c.ctx, SPECS_CREATE);
    const typeId = c.params.type_id;
    await allowUpdate(typeId);
    await checkType(c);
    const specs = body.extra_specs;
    if ('image_service:store_id' in specs) validateStore(specs['image_service:store_id']);
    await checkCacheable(specs, typeId);
    await volumeTypeExtraSpecsUpdateOrCreate(db, typeId, specs);
    return obj(200, body);
  };

  const specsUpdate: Controller = async (c) => {
    const body = validateBody<Record<string, string | null>>(updateExtraSpecSchema, c.body, c.bodyText);
    authorize(c.ctx, SPECS_UPDATE);
    const typeId = c.params.type_id;
    await allowUpdate(typeId);
    await checkType(c);
    if (!(c.params.id in body)) throw new HttpFault(400, 'Request body and URI mismatch');
    if ('image_service:store_id' in body) validateStore(body['image_service:store_id']);
    if ('extra_specs' in body) await checkCacheable(body.extra_specs, typeId);
    await volumeTypeExtraSpecsUpdateOrCreate(db, typeId, body);
    return obj(200, body);
  };

  const specsShow: Controller = async (c) => {
    authorize(c.ctx, SPECS_SHOW);
    await checkType(c);
    const specs = visibleSpecs(c.ctx, await volumeTypeExtraSpecsGet(db, c.params.type_id));
    if (c.params.id in specs) return obj(200, { [c.params.id]: specs[c.params.id] });
    throw new VolumeTypeExtraSpecsNotFound({ volume_type_id: c.params.type_id, extra_specs_key: c.params.id });
  };

  const specsDelete: Controller = async (c) => {
    // The type is looked up before the policy check (a member gets 404 for an unknown type).
    await checkType(c);
    authorize(c.ctx, SPECS_DELETE);
    await allowUpdate(c.params.type_id);
    await volumeTypeExtraSpecsDelete(db, c.params.type_id, c.params.id);
    return obj(202, null);
  };

  // -- /default-types (3.62) --

  /** api_utils.validate_project_and_authorize: Keystone's 404 → 404; a policy denial → 403. */
  const validateProjectAndAuthorize = async (ctx: RequestContext, projectId: string, rule: string) => {
    if (deps.projectLookup && (await deps.projectLookup(ctx, projectId)) === 'not_found') {
      throw new HttpFault(404, `Project with id ${projectId} not found.`);
    }
    try {
      authorize(ctx, rule, { project_id: projectId });
    } catch (e) {
      if (e instanceof NotAuthorized) throw new HttpFault(403, NOT_AUTHORIZED);
      throw e;
    }
  };

  const defaultView = (d: ProjectDefaultType) => ({ project_id: d.project_id, volume_type_id: d.volume_type_id });

  const defaultSet: Controller = async (c) => {
    const body = validateBody<{ default_type?: { volume_type: string } }>(defaultTypeSchema, c.body, c.bodyText);
    const projectId = c.params.id;
    if (body.default_type === undefined) throw new Error("KeyError: 'default_type'");
    const wanted = body.default_type.volume_type;
    await validateProjectAndAuthorize(c.ctx, projectId, DEFAULT_SET);
    let typeId: string;
    try {
      typeId = (await getTypeRecordByNameOrId(db, c.ctx, wanted)).id;
    } catch (e) {
      if (e instanceof VolumeTypeNotFound) throw new HttpFault(400, e.msg);
      throw e;
    }
    return obj(200, { default_type: defaultView(await projectDefaultVolumeTypeSet(db, typeId, projectId)) });
  };

  const defaultDetail: Controller = async (c) => {
    const projectId = c.params.id;
    await validateProjectAndAuthorize(c.ctx, projectId, DEFAULT_GET);
    const d = await projectDefaultVolumeTypeGet(db, projectId);
    if (!d) throw new VolumeTypeProjectDefaultNotFound({ project_id: projectId });
    return obj(200, { default_type: defaultView(d) });
  };

  const defaultIndex: Controller = async (c) => {
    try {
      authorize(c.ctx, DEFAULT_GET_ALL);
    } catch (e) {
      if (e instanceof NotAuthorized) throw new HttpFault(403, NOT_AUTHORIZED);
      throw e;
    }
    return obj(200, { default_types: (await projectDefaultVolumeTypeGetAll(db)).map(defaultView) });
  };

  const defaultUnset: Controller = async (c) => {
    await validateProjectAndAuthorize(c.ctx, c.params.id, DEFAULT_UNSET);
    await projectDefaultVolumeTypeUnset(db, c.params.id);
    return obj(204, null);
  };

  return {
    index,
    show,
    create,
    update,
    remove,
    typeActions,
    accessIndex,
    specsIndex,
    specsCreate,
    specsUpdate,
    specsShow,
    specsDelete,
    defaultSet,
    defaultDetail,
    defaultIndex,
    defaultUnset,
  };
}

export function registerTypeRoutes(app: FastifyInstance, db: Db, config: TypeRoutesDeps['config'], opts: Omit<TypeRoutesDeps, 'db' | 'config'> = {}): void {
  const c = typeControllers({ db, config, ...opts });
  const none = (controller: Controller, minVersion?: number): ResourceMethod => ({ kind: 'method', takesBody: 'none', controller, minVersion });
  const body = (controller: Controller, minVersion?: number): ResourceMethod => ({ kind: 'method', takesBody: 'required', controller, minVersion });
  const absent: ResourceMethod = { kind: 'absent' };
  const m = {
    index: none(c.index),
    create: body(c.create),
    show: none(c.show),
    update: body(c.update),
    remove: none(c.remove),
    action: { kind: 'action', actions: c.typeActions } as ResourceMethod,
    accessIndex: none(c.accessIndex),
    specsIndex: none(c.specsIndex),
    specsCreate: body(c.specsCreate),
    specsShow: none(c.specsShow),
    specsUpdate: body(c.specsUpdate),
    specsDelete: none(c.specsDelete),
    defaultSet: body(c.defaultSet, MV.DEFAULT_TYPE_OVERRIDES),
    defaultIndex: none(c.defaultIndex, MV.DEFAULT_TYPE_OVERRIDES),
    defaultDetail: none(c.defaultDetail, MV.DEFAULT_TYPE_OVERRIDES),
    defaultUnset: none(c.defaultUnset, MV.DEFAULT_TYPE_OVERRIDES),
  } satisfies Record<string, ResourceMethod>;

  type P = { Params: { project_id?: string; id?: string; key?: string } };
  for (const prefix of ['/v3/:project_id', '/v3']) {
    const project = (p: P['Params']) => (prefix === '/v3' ? undefined : p.project_id);
    const run = (method: ResourceMethod, params: (p: P['Params']) => Record<string, string>) =>
      (req: import('fastify').FastifyRequest<P>, reply: import('fastify').FastifyReply) =>
        runResource(req, reply, method, params(req.params), project(req.params));
    const noParams = () => ({});
    const idParam = (p: P['Params']) => ({ id: p.id! });
    const typeParam = (p: P['Params']) => ({ type_id: p.id! });
    const specParams = (p: P['Params']) => ({ type_id: p.id!, id: p.key! });

    // mapper.resource("type", "types", member={'action': 'POST'})
    app.get<P>(`${prefix}/types`, run(m.index, noParams));
    app.post<P>(`${prefix}/types`, run(m.create, noParams));
    app.get<P>(`${prefix}/types/:id`, run(m.show, idParam));
    app.put<P>(`${prefix}/types/:id`, run(m.update, idParam));
    app.delete<P>(`${prefix}/types/:id`, run(m.remove, idParam));
    app.post<P>(`${prefix}/types/:id/action`, run(m.action, idParam));
    // the os-types-extra-specs resource under types
    app.get<P>(`${prefix}/types/:id/extra_specs`, run(m.specsIndex, typeParam));
    app.post<P>(`${prefix}/types/:id/extra_specs`, run(m.specsCreate, typeParam));
    app.get<P>(`${prefix}/types/:id/extra_specs/:key`, run(m.specsShow, specParams));
    app.put<P>(`${prefix}/types/:id/extra_specs/:key`, run(m.specsUpdate, specParams));
    app.delete<P>(`${prefix}/types/:id/extra_specs/:key`, run(m.specsDelete, specParams));
    // the os-volume-type-access resource: only index exists
    app.get<P>(`${prefix}/types/:id/os-volume-type-access`, run(m.accessIndex, typeParam));
    app.post<P>(`${prefix}/types/:id/os-volume-type-access`, run(absent, typeParam));
    app.get<P>(`${prefix}/types/:id/os-volume-type-access/:key`, run(absent, specParams));
    app.put<P>(`${prefix}/types/:id/os-volume-type-access/:key`, run(absent, specParams));
    app.delete<P>(`${prefix}/types/:id/os-volume-type-access/:key`, run(absent, specParams));
  }
  // /default-types (3.62): plain mapper.connect routes, so there is none with a project in the path.
  type D = { Params: { id?: string } };
  const runDefault = (method: ResourceMethod, withId: boolean) => (req: import('fastify').FastifyRequest<D>, reply: import('fastify').FastifyReply) =>
    runResource(req, reply, method, withId ? { id: req.params.id! } : {}, undefined);
  app.get<D>('/v3/default-types', runDefault(m.defaultIndex, false));
  app.put<D>('/v3/default-types/:id', runDefault(m.defaultSet, true));
  app.get<D>('/v3/default-types/:id', runDefault(m.defaultDetail, true));
  app.delete<D>('/v3/default-types/:id', runDefault(m.defaultUnset, true));
}
