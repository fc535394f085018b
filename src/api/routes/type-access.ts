// Volume type access (cinder/api/contrib/volume_type_access.py): VolumeTypeAccessController's
// /v3/{project_id}/types/{type_id}/os-volume-type-access (only index exists), and
// VolumeTypeActionController's addProjectAccess/removeProjectAccess, which the /types action route
// dispatches (src/api/routes/types.ts). Its _extend_vol_type is the views' extendIsPublic
// (src/api/views-types.ts). Cinder's volume_type_project.* notifications are not sent.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VolumeTypeAccessExists, VolumeTypeAccessNotFound } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import type { Db } from '../../db/client.js';
import { addVolumeTypeAccess, getVolumeType, removeVolumeTypeAccess } from '../../volume-api/volume-types.js';
import { HttpFault } from '../faults.js';
import { runResource, type Controller, type ResourceMethod } from '../resource.js';
import { addProjectAccessSchema, removeProjectAccessSchema } from '../schemas-types.js';
import { validateBody } from '../schemas.js';
import { obj } from '../views-types.js';

// cinder/policies/volume_access.py
const TYPE_ACCESS_ADD = 'volume_extension:volume_type_access:addProjectAccess';
const TYPE_ACCESS_REMOVE = 'volume_extension:volume_type_access:removeProjectAccess';
const TYPE_ACCESS_WHO = 'volume_extension:volume_type_access:get_all_for_type';

/** VolumeTypeActionController's actions on POST /types/{id}/action. */
export function typeAccessActions(db: Db): Map<string, Controller> {
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

  return new Map([
    ['addProjectAccess', addProjectAccess],
    ['removeProjectAccess', removeProjectAccess],
  ]);
}

/** VolumeTypeAccessController.index: the projects a private type is shared with. */
export function typeAccessIndex(db: Db): Controller {
  return async (c) => {
    authorize(c.ctx, TYPE_ACCESS_WHO);
    const t = await getVolumeType(db, c.ctx, c.params.type_id, { projects: true });
    if (t.is_public) throw new VolumeTypeAccessNotFound({}, 'Access list not available for public volume types.');
    return obj(200, { volume_type_access: (t.projects ?? []).map((p) => ({ volume_type_id: t.id, project_id: p })) });
  };
}

/**
 * The os-volume-type-access resource under types: index, and the resource's other routes, whose
 * controller methods do not exist. The path parameters are the /types routes' own (`id` is the type).
 */
export function registerTypeAccessRoutes(app: FastifyInstance, db: Db): void {
  const index: ResourceMethod = { kind: 'method', takesBody: 'none', controller: typeAccessIndex(db) };
  const absent: ResourceMethod = { kind: 'absent' };
  type P = { Params: { project_id?: string; id: string; key?: string } };
  for (const prefix of ['/v3/:project_id', '/v3']) {
    const project = (p: P['Params']) => (prefix === '/v3' ? undefined : p.project_id);
    const params = (p: P['Params']): Record<string, string> => ({ type_id: p.id, ...(p.key !== undefined ? { id: p.key } : {}) });
    const run = (method: ResourceMethod) => (req: FastifyRequest<P>, reply: FastifyReply) =>
      runResource(req, reply, method, params(req.params), project(req.params));
    app.get<P>(`${prefix}/types/:id/os-volume-type-access`, run(index));
    app.post<P>(`${prefix}/types/:id/os-volume-type-access`, run(absent));
    app.get<P>(`${prefix}/types/:id/os-volume-type-access/:key`, run(absent));
    app.put<P>(`${prefix}/types/:id/os-volume-type-access/:key`, run(absent));
    app.delete<P>(`${prefix}/types/:id/os-volume-type-access/:key`, run(absent));
  }
}
