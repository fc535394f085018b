// The volume types API of Cinder 21.3.1: /v3/{project_id}/types (cinder/api/v3/types.py, with the
// types_manage.py create/update/delete actions and volume_type_access.py's extension of its views
// and /action). Views as api/v3/views/types.py (views/types.py for create/update): src/api/views-types.ts.
// The types routes exist with and without the project in the path (the ProjectMapper's resources).
// registerTypeRoutes also registers the resources under /types and beside it: extra specs
// (type-extra-specs.ts), type access (type-access.ts) and /default-types (default-types.ts).
// Cinder's volumeType.* notifications are not sent.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CinderConfig } from '../../common/config.js';
import {
  VolumeTypeDefaultDeletionError,
  VolumeTypeDefaultMisconfiguredError,
  VolumeTypeDeletionError,
  VolumeTypeExists,
  VolumeTypeInUse,
  VolumeTypeUpdateFailed,
} from '../../common/exceptions.js';
import { authorize, isAllowed } from '../../common/policy.js';
import type { Db } from '../../db/client.js';
import {
  createType,
  destroyType,
  getAllTypes,
  getDefaultVolumeType,
  getVolumeType,
  getVolumeTypeByName,
  updateType,
  type VolumeType,
} from '../../volume-api/volume-types.js';
import type { Volume } from '../../objects/volume.js';
import { HttpFault, PyTypeError } from '../faults.js';
import { pyLiteralEval, specKey } from '../literal-eval.js';
import { MV } from '../microversion.js';
import { lastParam, paginationParams, queryPairs, sortParams, type QueryPairs } from '../pagination.js';
import { viewRequest } from '../pipeline.js';
import { runResource, type Controller, type ResourceMethod } from '../resource.js';
import { boolFromString, isValidBoolStr, pyStrip } from '../../common/python.js';
import { rejectStrayTypeKey, validateBody } from '../schemas.js';
import { createTypeSchema, updateTypeSchema, type CreateTypeBody, type UpdateTypeBody } from '../schemas-types.js';
import { collectionLinks } from '../views.js';
import { extendIsPublic, IS_PUBLIC_KEY, manageTypeView, obj, SPECS_READ_SENSITIVE, typeView, USER_VISIBLE_EXTRA_SPECS } from '../views-types.js';
import { registerDefaultTypeRoutes, type ProjectLookup } from './default-types.js';
import { registerTypeAccessRoutes, typeAccessActions } from './type-access.js';
import { registerExtraSpecsRoutes } from './type-extra-specs.js';

// cinder/policies/volume_type.py
const TYPE_CREATE = 'volume_extension:type_create';
const TYPE_UPDATE = 'volume_extension:type_update';
const TYPE_DELETE = 'volume_extension:type_delete';
const TYPE_GET = 'volume_extension:type_get';
const TYPE_GET_ALL = 'volume_extension:type_get_all';

/** The `volume_type` entry of Cinder's stock resource_filters.json (3.52+, non-admins). */
const TYPE_RESOURCE_FILTERS = ['is_public', 'extra_specs'];

/** api_utils._parse_is_public: absent → True, 'none' → None (all), else a strict bool string. */
function parseIsPublic(v: string | undefined): boolean | null {
  if (v === undefined) return true;
  if (v.toLowerCase() === 'none') return null;
  if (!isValidBoolStr(v)) throw new HttpFault(400, `Invalid is_public filter [${v}]`);
  return boolFromString(v);
}

export interface TypeRoutesDeps {
  db: Db;
  config: Pick<CinderConfig, 'DEFAULT'> | { DEFAULT: { default_volume_type?: string } };
  /** For /default-types: see ProjectLookup. */
  projectLookup?: ProjectLookup;
}

/** VolumeTypesController with types_manage's actions and the access extension's /action. */
export function typeControllers(deps: Pick<TypeRoutesDeps, 'db' | 'config'>) {
  const { db } = deps;
  const config = deps.config.DEFAULT;

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
    let types: VolumeType[] = [];
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
    let t: VolumeType;
    let cached: VolumeType | undefined;
    if (id === 'default') {
      t = await getDefaultVolumeType(db, config, c.ctx);
    } else {
      t = await getVolumeType(db, c.ctx, id);
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
    let t: VolumeType;
    try {
      await createType(db, c.ctx, vt.name, (vt.extra_specs ?? {}) as Record<string, string | null>, isPublic, [], vt.description ?? null);
      t = await getVolumeTypeByName(db, c.ctx, vt.name);
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
    let t: VolumeType;
    try {
      await updateType(db, c.ctx, c.params.id, name, description, isPublic);
      t = await getVolumeType(db, c.ctx, c.params.id);
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
      const t = await getVolumeType(db, c.ctx, c.params.id);
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
    ...typeAccessActions(db),
    ['create', createAction],
    ['update', update],
    ['delete', deleteAction],
  ]);

  return { index, show, create, update, remove, typeActions };
}

export function registerTypeRoutes(app: FastifyInstance, db: Db, config: TypeRoutesDeps['config'], opts: Omit<TypeRoutesDeps, 'db' | 'config'> = {}): void {
  const c = typeControllers({ db, config });
  const none = (controller: Controller): ResourceMethod => ({ kind: 'method', takesBody: 'none', controller });
  const body = (controller: Controller): ResourceMethod => ({ kind: 'method', takesBody: 'required', controller });
  const m = {
    index: none(c.index),
    create: body(c.create),
    show: none(c.show),
    update: body(c.update),
    remove: none(c.remove),
    action: { kind: 'action', actions: c.typeActions } as ResourceMethod,
  } satisfies Record<string, ResourceMethod>;

  type P = { Params: { project_id?: string; id?: string } };
  for (const prefix of ['/v3/:project_id', '/v3']) {
    const project = (p: P['Params']) => (prefix === '/v3' ? undefined : p.project_id);
    const run = (method: ResourceMethod, params: (p: P['Params']) => Record<string, string>) => (req: FastifyRequest<P>, reply: FastifyReply) =>
      runResource(req, reply, method, params(req.params), project(req.params));
    const noParams = () => ({});
    const idParam = (p: P['Params']) => ({ id: p.id! });

    // mapper.resource("type", "types", member={'action': 'POST'})
    app.get<P>(`${prefix}/types`, run(m.index, noParams));
    app.post<P>(`${prefix}/types`, run(m.create, noParams));
    app.get<P>(`${prefix}/types/:id`, run(m.show, idParam));
    app.put<P>(`${prefix}/types/:id`, run(m.update, idParam));
    app.delete<P>(`${prefix}/types/:id`, run(m.remove, idParam));
    app.post<P>(`${prefix}/types/:id/action`, run(m.action, idParam));
  }
  registerExtraSpecsRoutes(app, db);
  registerTypeAccessRoutes(app, db);
  registerDefaultTypeRoutes(app, db, opts.projectLookup);
}
