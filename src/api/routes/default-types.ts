// /v3/default-types (cinder/api/v3/default_types.py DefaultTypesController, 3.62), views as
// v3/views/default_types.py. Plain mapper.connect routes, so there is none with a project in the path.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../common/context.js';
import { NotAuthorized, VolumeTypeNotFound, VolumeTypeProjectDefaultNotFound } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import type { Db } from '../../db/client.js';
import {
  projectDefaultVolumeTypeGet,
  projectDefaultVolumeTypeGetAll,
  projectDefaultVolumeTypeSet,
  projectDefaultVolumeTypeUnset,
  type ProjectDefaultType,
} from '../../db/api.js';
import { getByNameOrId } from '../../volume-api/volume-types.js';
import { HttpFault } from '../faults.js';
import { MV } from '../microversion.js';
import { runResource, type Controller, type ResourceMethod } from '../resource.js';
import { defaultTypeSchema } from '../schemas-types.js';
import { validateBody } from '../schemas.js';
import { obj } from '../views-types.js';

// cinder/policies/default_types.py
const DEFAULT_SET = 'volume_extension:default_set_or_update';
const DEFAULT_GET = 'volume_extension:default_get';
const DEFAULT_GET_ALL = 'volume_extension:default_get_all';
const DEFAULT_UNSET = 'volume_extension:default_unset';

const NOT_AUTHORIZED = 'You are not authorized to perform this operation.';

/**
 * api_utils.get_project for /default-types: 'not_found' answers Keystone's 404. Cinder asks
 * Keystone with the caller's token; without a lookup (noauth, tests) every project exists.
 */
export type ProjectLookup = (ctx: RequestContext, projectId: string) => Promise<'found' | 'not_found'>;

export function defaultTypeControllers(db: Db, projectLookup?: ProjectLookup) {
  /** api_utils.validate_project_and_authorize: Keystone's 404 → 404; a policy denial → 403. */
  const validateProjectAndAuthorize = async (ctx: RequestContext, projectId: string, rule: string) => {
    if (projectLookup && (await projectLookup(ctx, projectId)) === 'not_found') {
      throw new HttpFault(404, `Project with id ${projectId} not found.`);
    }
    try {
      authorize(ctx, rule, { project_id: projectId });
    } catch (e) {
      if (e instanceof NotAuthorized) throw new HttpFault(403, NOT_AUTHORIZED);
      throw e;
    }
  };

  const view = (d: ProjectDefaultType) => ({ project_id: d.project_id, volume_type_id: d.volume_type_id });

  const set: Controller = async (c) => {
    const body = validateBody<{ default_type?: { volume_type: string } }>(defaultTypeSchema, c.body, c.bodyText);
    const projectId = c.params.id;
    if (body.default_type === undefined) throw new Error("KeyError: 'default_type'");
    const wanted = body.default_type.volume_type;
    await validateProjectAndAuthorize(c.ctx, projectId, DEFAULT_SET);
    let typeId: string;
    try {
      typeId = (await getByNameOrId(db, c.ctx, wanted)).id;
    } catch (e) {
      if (e instanceof VolumeTypeNotFound) throw new HttpFault(400, e.msg);
      throw e;
    }
    return obj(200, { default_type: view(await projectDefaultVolumeTypeSet(db, typeId, projectId)) });
  };

  const detail: Controller = async (c) => {
    const projectId = c.params.id;
    await validateProjectAndAuthorize(c.ctx, projectId, DEFAULT_GET);
    const d = await projectDefaultVolumeTypeGet(db, projectId);
    if (!d) throw new VolumeTypeProjectDefaultNotFound({ project_id: projectId });
    return obj(200, { default_type: view(d) });
  };

  const index: Controller = async (c) => {
    try {
      authorize(c.ctx, DEFAULT_GET_ALL);
    } catch (e) {
      if (e instanceof NotAuthorized) throw new HttpFault(403, NOT_AUTHORIZED);
      throw e;
    }
    return obj(200, { default_types: (await projectDefaultVolumeTypeGetAll(db)).map(view) });
  };

  const unset: Controller = async (c) => {
    await validateProjectAndAuthorize(c.ctx, c.params.id, DEFAULT_UNSET);
    await projectDefaultVolumeTypeUnset(db, c.params.id);
    return obj(204, null);
  };

  return { set, detail, index, unset };
}

export function registerDefaultTypeRoutes(app: FastifyInstance, db: Db, projectLookup?: ProjectLookup): void {
  const c = defaultTypeControllers(db, projectLookup);
  const method = (controller: Controller, takesBody: 'none' | 'required'): ResourceMethod =>
    ({ kind: 'method', takesBody, controller, minVersion: MV.DEFAULT_TYPE_OVERRIDES });
  type D = { Params: { id?: string } };
  const run = (m: ResourceMethod, withId: boolean) => (req: FastifyRequest<D>, reply: FastifyReply) =>
    runResource(req, reply, m, withId ? { id: req.params.id! } : {}, undefined);
  app.get<D>('/v3/default-types', run(method(c.index, 'none'), false));
  app.put<D>('/v3/default-types/:id', run(method(c.set, 'required'), true));
  app.get<D>('/v3/default-types/:id', run(method(c.detail, 'none'), true));
  app.delete<D>('/v3/default-types/:id', run(method(c.unset, 'none'), true));
}
