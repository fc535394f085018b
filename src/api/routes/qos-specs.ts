// /v3/{project_id}/qos-specs (cinder/api/contrib/qos_specs_manage.py QoSSpecsController, its views
// in api/views/qos_specs.py and its schemas in api/schemas/qos_specs.py): list, create, show,
// update (set keys), delete (?force), delete_keys, associations, associate, disassociate and
// disassociate_all (all GET, with ?vol_type_id=). Every rule is admin_api (policies/qos_specs.py).
// The controller's QoSSpecs notifications (rpc.get_notifier('QoSSpecs')) are not emitted yet; the
// volume usage ones are (src/manager/notifier.ts through src/notifier/).
import type { FastifyInstance } from 'fastify';
import { InvalidVolumeType, QoSSpecsAssociateFailed, QoSSpecsCreateFailed, QoSSpecsDisassociateFailed, QoSSpecsExists, InvalidQoSSpecs, QoSSpecsInUse, QoSSpecsUpdateFailed, CinderException, NotFound, InvalidParameterValue } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import type { Db } from '../../db/client.js';
import type { Volume } from '../../objects/volume.js';
import {
  associateQosWithType,
  createQosSpecs,
  deleteQosSpecs,
  deleteQosSpecsKeys,
  disassociateAll,
  disassociateQosSpecs,
  getAllSpecs,
  getAssociations,
  getQosSpecs,
  updateQosSpecs,
  type QosSpecs,
} from '../../volume-api/qos-specs.js';
import { HttpFault } from '../faults.js';
import { compile } from '../jsonschema.js';
import { lastParam, paginationParams, queryPairs, sortParams } from '../pagination.js';
import { viewRequest } from '../pipeline.js';
import { resourceRoutes, type Controller, type ResourceCall, type ResourceMethod } from '../resource.js';
import { boolFromString, isValidBoolStr, pyStr, pyStrip } from '../../common/python.js';
import { rejectStrayTypeKey, validateBody } from '../schemas.js';
import { collectionLinks, removeVersionFromHref, type ViewRequest } from '../views.js';

const POLICY = {
  create: 'volume_extension:qos_specs_manage:create',
  get: 'volume_extension:qos_specs_manage:get',
  getAll: 'volume_extension:qos_specs_manage:get_all',
  update: 'volume_extension:qos_specs_manage:update',
  delete: 'volume_extension:qos_specs_manage:delete',
} as const;

// ---- schemas (cinder/api/schemas/qos_specs.py) -------------------------------------------------

/** parameter_types.extra_specs_with_null */
const extraSpecsWithNull = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: ['string', 'null'], maxLength: 255 } },
  additionalProperties: false,
} as const;

/**
 * `create`. Cinder's literal also has a stray `'type': 'object'` among the root's properties: a
 * body with a `type` key makes jsonschema treat the string as a schema (500), checked first.
 */
const createSchema = compile({
  type: 'object',
  properties: {
    qos_specs: {
      type: 'object',
      properties: { name: { type: 'string', format: 'name_skip_leading_trailing_spaces' } },
      required: ['name'],
      additionalProperties: true,
    },
  },
  required: ['qos_specs'],
  additionalProperties: false,
} as const);

const setSchema = compile({
  type: 'object',
  properties: { qos_specs: extraSpecsWithNull },
  required: ['qos_specs'],
  additionalProperties: false,
} as const);

const unsetSchema = compile({
  type: 'object',
  properties: {
    keys: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 }, uniqueItems: true },
  },
  required: ['keys'],
  additionalProperties: false,
} as const);

// ---- views (cinder/api/views/qos_specs.py) -----------------------------------------------------

const COLLECTION = 'qos-specs';

/** ViewBuilder._get_project_id_in_url */
function projectInUrl(req: ViewRequest): string {
  const p = req.ctx.project_id;
  return p && req.url.includes(`/v3/${p}`) ? p : '';
}

/** os.path.join of the link parts (none of which starts with '/'). */
function join(...parts: string[]): string {
  return parts.reduce((out, p) => (p === '' ? (out.endsWith('/') ? out : `${out}/`) : out.endsWith('/') ? out + p : `${out}/${p}`));
}

function links(req: ViewRequest, id: string): { rel: string; href: string }[] {
  const project = projectInUrl(req);
  return [
    { rel: 'self', href: join(req.applicationUrl, project, COLLECTION, id) },
    { rel: 'bookmark', href: join(removeVersionFromHref(req.applicationUrl), project, COLLECTION, id) },
  ];
}

/** `{id, name, consumer, specs}` */
function specsView(spec: QosSpecs): Record<string, unknown> {
  return { id: spec.id, name: spec.name, consumer: spec.consumer, specs: spec.specs };
}

/** ViewBuilder.detail */
function detail(req: ViewRequest, spec: QosSpecs): Record<string, unknown> {
  return { qos_specs: specsView(spec), links: links(req, spec.id) };
}

// ---- the controller ----------------------------------------------------------------------------

function vreq(c: ResourceCall): ViewRequest {
  return viewRequest(c.req, c.ctx, c.version);
}

/** The controller's methods over the database. */
export function qosSpecsControllers(db: Db) {
  const ok = (body: unknown) => ({ kind: 'object', status: 200, body }) as const;
  const accepted = { kind: 'raw', status: 202 } as const;

  /** index: pagination, sorting, and every other query key as a filter (admins keep them all). */
  const index: Controller = async (c) => {
    authorize(c.ctx, POLICY.getAll);
    const pairs = queryPairs(c);
    const { marker, limit, offset } = paginationParams(pairs);
    const { sortKeys, sortDirs } = sortParams(pairs);
    // api_utils.remove_invalid_filter_options: a non-admin keeps only these.
    const allowed = ['id', 'name', 'consumer'];
    const kept = c.ctx.is_admin ? pairs : pairs.filter(([k]) => allowed.includes(k));
    const filters: Record<string, string> = {};
    for (const [k] of kept) filters[k] = lastParam(kept, k)!;
    const specs = await getAllSpecs(db, { filters, marker, limit, offset, sortKeys, sortDirs });
    const req = vreq(c);
    const body: Record<string, unknown> = { qos_specs: specs.map(specsView) };
    const next = collectionLinks(req, specs as unknown as Volume[], COLLECTION, limit);
    if (next.length) body.qos_specs_links = next;
    return ok(body);
  };

  const create: Controller = async (c) => {
    rejectStrayTypeKey(c.body);
    const body = validateBody<{ qos_specs: Record<string, unknown> }>(createSchema, c.body, c.bodyText);
    authorize(c.ctx, POLICY.create);
    const specs = { ...body.qos_specs };
    const name = pyStrip(specs.name as string);
    delete specs.name;
    try {
      return ok(detail(vreq(c), await createQosSpecs(db, name, specs)));
    } catch (e) {
      if (e instanceof InvalidQoSSpecs) throw new HttpFault(400, e.message);
      if (e instanceof QoSSpecsExists) throw new HttpFault(409, e.message);
      if (e instanceof QoSSpecsCreateFailed) throw new HttpFault(500, e.message);
      throw e;
    }
  };

  const update: Controller = async (c) => {
    const body = validateBody<{ qos_specs: Record<string, string | null> }>(setSchema, c.body, c.bodyText);
    authorize(c.ctx, POLICY.update);
    await getQosSpecs(db, c.params.id);
    try {
      await updateQosSpecs(db, c.params.id, body.qos_specs);
    } catch (e) {
      if (e instanceof QoSSpecsUpdateFailed) throw new HttpFault(500, e.message);
      throw e;
    }
    return ok(body);
  };

  const show: Controller = async (c) => {
    authorize(c.ctx, POLICY.get);
    return ok(detail(vreq(c), await getQosSpecs(db, c.params.id)));
  };

  /** utils.get_bool_param('force', req.params): False unless given; a non-boolean string is a 400. */
  function forceParam(c: ResourceCall): boolean {
    const raw = lastParam(queryPairs(c), 'force');
    if (raw === undefined) return false;
    if (!isValidBoolStr(raw)) throw new InvalidParameterValue({ err: `Value '${pyStr(raw)}' for 'force' is not a boolean.` });
    return boolFromString(raw);
  }

  const remove: Controller = async (c) => {
    authorize(c.ctx, POLICY.delete);
    const force = forceParam(c);
    await getQosSpecs(db, c.params.id);
    try {
      await deleteQosSpecs(db, c.params.id, force);
    } catch (e) {
      if (e instanceof QoSSpecsInUse) {
        if (force) throw new HttpFault(500, 'Failed to disassociate qos specs.');
        throw new HttpFault(400, 'Qos specs still in use.');
      }
      throw e;
    }
    return accepted;
  };

  const deleteKeys: Controller = async (c) => {
    const body = validateBody<{ keys: string[] }>(unsetSchema, c.body, c.bodyText);
    authorize(c.ctx, POLICY.delete);
    await deleteQosSpecsKeys(db, c.params.id, body.keys);
    await getQosSpecs(db, c.params.id);
    return accepted;
  };

  const associations: Controller = async (c) => {
    authorize(c.ctx, POLICY.getAll);
    await getQosSpecs(db, c.params.id);
    let associates;
    try {
      associates = await getAssociations(db, c.params.id);
    } catch (e) {
      if (e instanceof CinderException && !(e instanceof NotFound)) throw new HttpFault(500, e.message);
      throw e;
    }
    return ok({ qos_associations: associates });
  };

  /** req.params.get('vol_type_id'): absent or empty is a 400. */
  function volTypeId(c: ResourceCall): string {
    const typeId = lastParam(queryPairs(c), 'vol_type_id');
    if (!typeId) throw new HttpFault(400, 'Volume Type id must not be None.');
    return typeId;
  }

  const associate: Controller = async (c) => {
    authorize(c.ctx, POLICY.update);
    const typeId = volTypeId(c);
    await getQosSpecs(db, c.params.id);
    try {
      await associateQosWithType(db, c.params.id, typeId);
    } catch (e) {
      if (e instanceof InvalidVolumeType) throw new HttpFault(400, e.message);
      if (e instanceof QoSSpecsAssociateFailed) throw new HttpFault(500, e.message);
      throw e;
    }
    return accepted;
  };

  const disassociate: Controller = async (c) => {
    authorize(c.ctx, POLICY.update);
    const typeId = volTypeId(c);
    await getQosSpecs(db, c.params.id);
    try {
      await disassociateQosSpecs(db, c.params.id, typeId);
    } catch (e) {
      if (e instanceof QoSSpecsDisassociateFailed) throw new HttpFault(500, e.message);
      throw e;
    }
    return accepted;
  };

  const disassociateAllTypes: Controller = async (c) => {
    authorize(c.ctx, POLICY.update);
    await getQosSpecs(db, c.params.id);
    try {
      await disassociateAll(db, c.params.id);
    } catch (e) {
      if (e instanceof QoSSpecsDisassociateFailed) throw new HttpFault(500, e.message);
      throw e;
    }
    return accepted;
  };

  return { index, create, update, show, remove, deleteKeys, associations, associate, disassociate, disassociateAll: disassociateAllTypes };
}

export function registerQosSpecsRoutes(app: FastifyInstance, db: Db): void {
  const c = qosSpecsControllers(db);
  const none = (controller: Controller): ResourceMethod => ({ kind: 'method', takesBody: 'none', controller });
  const withBody = (controller: Controller): ResourceMethod => ({ kind: 'method', takesBody: 'required', controller });
  const m = {
    index: none(c.index),
    create: withBody(c.create),
    show: none(c.show),
    update: withBody(c.update),
    remove: none(c.remove),
    deleteKeys: withBody(c.deleteKeys),
    associations: none(c.associations),
    associate: none(c.associate),
    disassociate: none(c.disassociate),
    disassociateAll: none(c.disassociateAll),
    // routes.Mapper's `new` and `edit` name controller methods that do not exist.
    absent: { kind: 'absent' },
  } satisfies Record<string, ResourceMethod>;

  const on = resourceRoutes(app, '/qos-specs');
  on('GET', '', m.index);
  on('POST', '', m.create);
  on('GET', '/new', m.absent);
  on('GET', '/:id', m.show);
  on('PUT', '/:id', m.update);
  on('DELETE', '/:id', m.remove);
  on('GET', '/:id/edit', m.absent);
  on('PUT', '/:id/delete_keys', m.deleteKeys);
  on('GET', '/:id/associations', m.associations);
  on('GET', '/:id/associate', m.associate);
  on('GET', '/:id/disassociate', m.disassociate);
  on('GET', '/:id/disassociate_all', m.disassociateAll);
}
