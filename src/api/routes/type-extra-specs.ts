// /v3/{project_id}/types/{type_id}/extra_specs (cinder/api/contrib/types_extra_specs.py
// VolumeTypeExtraSpecsController), with and without the project in the path. Cinder's
// volumeTypeExtraSpecs.* notifications are not sent.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GlanceStoreNotFound, VolumeTypeExtraSpecsNotFound } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import type { Db } from '../../db/client.js';
import { volumesUseType, volumeTypeExtraSpecsDelete, volumeTypeExtraSpecsGet, volumeTypeExtraSpecsUpdateOrCreate } from '../../db/api.js';
import { getVolumeType } from '../../volume-api/volume-types.js';
import { HttpFault } from '../faults.js';
import { runResource, type Controller, type ResourceCall, type ResourceMethod } from '../resource.js';
import { createExtraSpecsSchema, updateExtraSpecSchema } from '../schemas-types.js';
import { validateBody } from '../schemas.js';
import { obj, visibleSpecs } from '../views-types.js';

// cinder/policies/type_extra_specs.py
const SPECS_INDEX = 'volume_extension:types_extra_specs:index';
const SPECS_SHOW = 'volume_extension:types_extra_specs:show';
const SPECS_CREATE = 'volume_extension:types_extra_specs:create';
const SPECS_UPDATE = 'volume_extension:types_extra_specs:update';
const SPECS_DELETE = 'volume_extension:types_extra_specs:delete';

export function extraSpecsControllers(db: Db) {
  const checkType = (c: ResourceCall) => getVolumeType(db, c.ctx, c.params.type_id);

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
    const current = (await getVolumeType(db, null, typeId)).extra_specs;
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

  const index: Controller = async (c) => {
    authorize(c.ctx, SPECS_INDEX);
    await checkType(c);
    return obj(200, { extra_specs: visibleSpecs(c.ctx, await volumeTypeExtraSpecsGet(db, c.params.type_id)) });
  };

  const create: Controller = async (c) => {
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

  const update: Controller = async (c) => {
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

  const show: Controller = async (c) => {
    authorize(c.ctx, SPECS_SHOW);
    await checkType(c);
    const specs = visibleSpecs(c.ctx, await volumeTypeExtraSpecsGet(db, c.params.type_id));
    if (c.params.id in specs) return obj(200, { [c.params.id]: specs[c.params.id] });
    throw new VolumeTypeExtraSpecsNotFound({ volume_type_id: c.params.type_id, extra_specs_key: c.params.id });
  };

  const remove: Controller = async (c) => {
    // The type is looked up before the policy check (a member gets 404 for an unknown type).
    await checkType(c);
    authorize(c.ctx, SPECS_DELETE);
    await allowUpdate(c.params.type_id);
    await volumeTypeExtraSpecsDelete(db, c.params.type_id, c.params.id);
    return obj(202, null);
  };

  return { index, create, update, show, remove };
}

/** The os-types-extra-specs resource under types. The path parameters are the /types routes' own (`id` is the type). */
export function registerExtraSpecsRoutes(app: FastifyInstance, db: Db): void {
  const c = extraSpecsControllers(db);
  const none = (controller: Controller): ResourceMethod => ({ kind: 'method', takesBody: 'none', controller });
  const body = (controller: Controller): ResourceMethod => ({ kind: 'method', takesBody: 'required', controller });
  const m = { index: none(c.index), create: body(c.create), show: none(c.show), update: body(c.update), remove: none(c.remove) };
  type P = { Params: { project_id?: string; id: string; key?: string } };
  for (const prefix of ['/v3/:project_id', '/v3']) {
    const project = (p: P['Params']) => (prefix === '/v3' ? undefined : p.project_id);
    const params = (p: P['Params']): Record<string, string> => ({ type_id: p.id, ...(p.key !== undefined ? { id: p.key } : {}) });
    const run = (method: ResourceMethod) => (req: FastifyRequest<P>, reply: FastifyReply) =>
      runResource(req, reply, method, params(req.params), project(req.params));
    app.get<P>(`${prefix}/types/:id/extra_specs`, run(m.index));
    app.post<P>(`${prefix}/types/:id/extra_specs`, run(m.create));
    app.get<P>(`${prefix}/types/:id/extra_specs/:key`, run(m.show));
    app.put<P>(`${prefix}/types/:id/extra_specs/:key`, run(m.update));
    app.delete<P>(`${prefix}/types/:id/extra_specs/:key`, run(m.remove));
  }
}
