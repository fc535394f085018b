// POST /v3/{project_id}/volumes/{id}/action: the legacy attach/detach actions of
// cinder/api/contrib/volume_actions.py. Each controller runs, as Cinder's does:
// schema → volume lookup (volume_api.get: 404, also for other projects) → the action's policy
// (checked first thing inside Cinder's volume API methods: 403) → the volume API call, with the
// controller's own exception translation.
import type { FastifyInstance } from 'fastify';
import {
  InvalidInput,
  InvalidVolume,
  RemoteError,
  VolumeBackendAPIException,
} from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import type { VolumeApiSurface } from '../../volume-api/api.js';
import { HttpFault, firstLine } from '../faults.js';
import { runResource, type Controller, type ResourceCall, type ResourceResult } from '../resource.js';
import {
  attachSchema,
  detachSchema,
  initializeConnectionSchema,
  terminateConnectionSchema,
  validateBody,
  type AttachBody,
  type DetachBody,
  type InitializeConnectionBody,
  type TerminateConnectionBody,
  retypeSchema,
  type RetypeBody,
  extendSchema,
  type ExtendBody,
} from '../schemas.js';
import { MV } from '../microversion.js';
import type { ExtendApiSurface } from '../../volume-api/extend.js';
import type { RetypeApiSurface } from '../../volume-api/retype.js';

const ACCEPTED: ResourceResult = { kind: 'object', status: 202, body: null };

const rule = (action: string) => `volume_extension:volume_actions:${action}`;

/** The action table; exported so further actions (admin actions) can be added by name. */
export function volumeActions(api: VolumeApiSurface): Map<string, Controller> {
  const lookup = (c: ResourceCall) => api.get(c.ctx, c.params.id);

  // os-reserve / os-unreserve / os-begin_detaching / os-roll_detaching have no schema:
  // any value (null, {}, {"fake": "fake"}) is accepted.
  const simple =
    (policy: string, call: (c: ResourceCall, v: Awaited<ReturnType<typeof lookup>>) => Promise<void>): Controller =>
    async (c) => {
      const volume = await lookup(c);
      authorize(c.ctx, rule(policy), volume);
      await call(c, volume);
      return ACCEPTED;
    };

  const actions = new Map<string, Controller>();

  actions.set('os-reserve', simple('reserve', (c, v) => api.reserveVolume(c.ctx, v)));
  actions.set('os-unreserve', simple('unreserve', (c, v) => api.unreserveVolume(c.ctx, v)));
  actions.set('os-begin_detaching', simple('begin_detaching', (c, v) => api.beginDetaching(c.ctx, v)));
  actions.set('os-roll_detaching', simple('roll_detaching', (c, v) => api.rollDetaching(c.ctx, v)));

  actions.set('os-attach', async (c) => {
    const body = validateBody<AttachBody>(attachSchema, c.body, c.bodyText)['os-attach'];
    const volume = await lookup(c);
    const instanceUuid = body.instance_uuid ?? null;
    const hostName = body.host_name ?? null;
    const mode = body.mode ?? 'rw';
    authorize(c.ctx, rule('attach'), volume);
    try {
      await api.attach(c.ctx, volume, instanceUuid, hostName, body.mountpoint, mode);
    } catch (err) {
      // Only exceptions from modules outside allowed_remote_exmods arrive as RemoteError.
      if (err instanceof RemoteError && ['InvalidVolume', 'InvalidUUID', 'InvalidVolumeAttachMode'].includes(err.excType)) {
        throw new HttpFault(400, `Error attaching volume - ${err.excType}: ${err.value}`);
      }
      throw err;
    }
    c.log.debug('Attach volume accepted');
    return ACCEPTED;
  });

  actions.set('os-detach', async (c) => {
    const detach = validateBody<DetachBody>(detachSchema, c.body, c.bodyText)['os-detach'];
    const volume = await lookup(c);
    // `body['os-detach'].get(...)` on None: AttributeError, a 500 (the schema allows null).
    if (detach === null) throw new Error("AttributeError: 'NoneType' object has no attribute 'get'");
    const attachmentId = detach.attachment_id ?? null;
    authorize(c.ctx, rule('detach'), volume);
    try {
      await api.detach(c.ctx, volume, attachmentId);
    } catch (err) {
      if (err instanceof RemoteError && ['VolumeAttachmentNotFound', 'InvalidVolume'].includes(err.excType)) {
        throw new HttpFault(400, `Error detaching volume - ${err.excType}: ${err.value}`);
      }
      throw err;
    }
    c.log.debug('Detach volume accepted');
    return ACCEPTED;
  });

  actions.set('os-initialize_connection', async (c) => {
    const body = validateBody<InitializeConnectionBody>(initializeConnectionSchema, c.body, c.bodyText);
    const volume = await lookup(c);
    const connector = body['os-initialize_connection'].connector;
    authorize(c.ctx, rule('initialize_connection'), volume);
    let info: Record<string, unknown>;
    try {
      info = await api.initializeConnection(c.ctx, volume, connector);
    } catch (err) {
      if (err instanceof InvalidInput) throw new HttpFault(400, firstLine(err.msg));
      if (err instanceof VolumeBackendAPIException) {
        throw new HttpFault(500, 'Unable to fetch connection information from backend.');
      }
      if (err instanceof RemoteError && err.excType === 'InvalidInput') throw new InvalidInput({ reason: err.value });
      throw err;
    }
    // connection_info carries CHAP credentials: it is never logged.
    c.log.debug('Initialize volume connection completed');
    return { kind: 'object', status: 200, body: { connection_info: info } };
  });

  // _retype: the schema, the volume (404), then volume_api.retype (its policy first); no exception
  // translation of its own, so the API's faults apply (400 InvalidInput/InvalidVolume, 404 type).
  actions.set('os-retype', async (c) => {
    const body = validateBody<RetypeBody>(retypeSchema, c.body, c.bodyText)['os-retype'];
    const volume = await lookup(c);
    const retyper = api as VolumeApiSurface & Partial<RetypeApiSurface>;
    if (!retyper.retype) throw new Error('volume API has no retype');
    await retyper.retype(c.ctx, volume, body.new_type, body.migration_policy ?? null);
    return ACCEPTED;
  });

  // _extend: the schema, the volume (404), then at 3.42 an in-use volume goes to
  // extend_attached_volume, any other to extend (each checks its policy first). InvalidVolume is
  // the controller's 400 with the exception's text; InvalidInput keeps its own 400.
  actions.set('os-extend', async (c) => {
    const body = validateBody<ExtendBody>(extendSchema, c.body, c.bodyText)['os-extend'];
    const volume = await lookup(c);
    const size = Number.parseInt(String(body.new_size), 10);
    const extender = api as VolumeApiSurface & Partial<ExtendApiSurface>;
    if (!extender.extend || !extender.extendAttachedVolume) throw new Error('volume API has no extend');
    try {
      if (c.version >= MV.VOLUME_EXTEND_INUSE && volume.status === 'in-use') {
        await extender.extendAttachedVolume(c.ctx, volume, size);
      } else {
        await extender.extend(c.ctx, volume, size);
      }
    } catch (err) {
      if (err instanceof InvalidVolume) throw new HttpFault(400, err.msg);
      throw err;
    }
    return ACCEPTED;
  });

  actions.set('os-terminate_connection', async (c) => {
    const body = validateBody<TerminateConnectionBody>(terminateConnectionSchema, c.body, c.bodyText);
    const volume = await lookup(c);
    const connector = body['os-terminate_connection'].connector;
    authorize(c.ctx, rule('terminate_connection'), volume);
    try {
      await api.terminateConnection(c.ctx, volume, connector);
    } catch (err) {
      if (err instanceof VolumeBackendAPIException) {
        throw new HttpFault(500, 'Unable to terminate volume connection from backend.');
      }
      throw err;
    }
    c.log.debug('Terminate volume connection accepted');
    return ACCEPTED;
  });

  return actions;
}

export function registerVolumeActionRoutes(app: FastifyInstance, actions: ReadonlyMap<string, Controller>): void {
  const method = { kind: 'action', actions } as const;
  app.post<{ Params: { project_id: string; id: string } }>('/v3/:project_id/volumes/:id/action', (req, reply) =>
    runResource(req, reply, method, req.params, req.params.project_id),
  );
  app.post<{ Params: { id: string } }>('/v3/volumes/:id/action', (req, reply) =>
    runResource(req, reply, method, req.params, undefined),
  );
}
