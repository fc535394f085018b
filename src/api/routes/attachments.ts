// /v3/{project_id}/attachments: the new-style attachments API (cinder/api/v3/attachments.py), as
// Nova drives it since Train (create → update → os-complete, delete to detach). Every method exists
// from 3.27 (os-complete from 3.44); below that the methods "do not exist" (404 fault). The error
// mapping is the controllers' own: create and update turn most Cinder exceptions into 500s with the
// exception's text in them (pitfall 12), delete lets everything through.
import type { FastifyInstance } from 'fastify';
import { CinderException, InvalidVolume, NotAuthorized } from '../../common/exceptions.js';
import { ATTACHMENT_FILTER_COLUMNS } from '../../db/api.js';
import type { Connector } from '../../objects/volume.js';
import type { AttachmentApiSurface, VolumeApiSurface } from '../../volume-api/api.js';
import { HttpFault, PyTypeError, firstLine } from '../faults.js';
import { MV } from '../microversion.js';
import { resourceRoutes, type ActionEntry, type Controller, type ResourceCall, type ResourceMethod } from '../resource.js';
import {
  attachmentCreateSchemas,
  attachmentUpdateSchema,
  rejectStrayTypeKey,
  validateBody,
  type AttachmentCreateBody,
  type AttachmentUpdateBody,
} from '../schemas.js';
import { attachmentDetail, attachmentSummary } from '../views.js';
import { paginationParams, queryPairs, sortParams } from '../pagination.js';

/** AttachmentsController.allowed_filters: what a non-admin keeps below 3.31. */
const ALLOWED_FILTERS = ['volume_id', 'status', 'instance_id', 'attach_status'];
/** The `attachment` entry of Cinder's stock resource_filters.json (3.31+, non-admins). */
const CONFIGURED_FILTERS = ['volume_id', 'status', 'instance_id', 'attach_status'];

/** The attachments half of the volume API, or a 500 when the app was built without it. */
function attachmentApi(api: VolumeApiSurface & Partial<AttachmentApiSurface>): AttachmentApiSurface {
  const need = <K extends keyof AttachmentApiSurface>(k: K): AttachmentApiSurface[K] => {
    const f = api[k];
    if (typeof f !== 'function') return (() => {
      throw new Error(`volume API has no ${String(k)}`);
    }) as never;
    return f.bind(api) as AttachmentApiSurface[K];
  };
  return {
    getAttachment: need('getAttachment'),
    getVolumeById: need('getVolumeById'),
    listAttachments: need('listAttachments'),
    attachmentCreate: need('attachmentCreate'),
    attachmentUpdate: need('attachmentUpdate'),
    attachmentComplete: need('attachmentComplete'),
    attachmentDelete: need('attachmentDelete'),
  };
}

/** The filters left after the sort and pagination keys were popped, as a dict (last value wins). */
function toDict(pairs: [string, string][]): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of pairs) m.set(k, v);
  return m;
}

/**
 * AttachmentsController._items up to the DB call: sort keys, limit/marker/offset with Cinder's 400
 * texts, then the filter rules of the request's version, instance_id → instance_uuid, all_tenants
 * for admins. `valid` is false when Cinder's DB layer would answer [] (a filter that is no
 * attachment column; `project_id` is allowed, `key~` is a LIKE filter on the column `key`).
 */
function listRequest(c: ResourceCall) {
  const pairs = queryPairs(c);
  const { sortKeys, sortDirs } = sortParams(pairs);
  const { marker, limit, offset } = paginationParams(pairs);
  const filters = toDict(pairs);
  const ctx = c.ctx;
  if (c.version >= MV.RESOURCE_FILTER) {
    if ([...filters.keys()].some((k) => /[^\x00-\x7f]/.test(k))) {
      throw new HttpFault(400, 'Filter keys can only contain ASCII characters.');
    }
    if (!ctx.is_admin) {
      const invalid = [...filters.keys()].filter((k) => !CONFIGURED_FILTERS.includes(k));
      const rest = invalid.filter((k) => k !== 'all_tenants');
      if (invalid.includes('all_tenants')) filters.delete('all_tenants');
      if (rest.length) throw new HttpFault(400, `Invalid filters ${rest.join(',')} are found in query options.`);
    }
  } else if (!ctx.is_admin) {
    for (const k of [...filters.keys()]) if (!ALLOWED_FILTERS.includes(k)) filters.delete(k);
  }
  const instanceId = filters.get('instance_id');
  if (instanceId) {
    filters.delete('instance_id');
    filters.set('instance_uuid', instanceId);
  }
  let allTenants = false;
  if (ctx.is_admin && filters.has('all_tenants')) {
    filters.delete('all_tenants');
    allTenants = true;
  }
  const columns = ATTACHMENT_FILTER_COLUMNS as readonly string[];
  const valid = [...filters.keys()].every((k) => k === 'project_id' || columns.includes(k.replace(/~+$/, '')));
  return { allTenants, filters: Object.fromEntries(filters), limit, marker, offset, sortKeys, sortDirs, valid };
}

/** True when the body is a JSON object (the root `type: object` keyword passed). */
function isObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function attachmentControllers(volumeApi: VolumeApiSurface & Partial<AttachmentApiSurface>) {
  const api = attachmentApi(volumeApi);

  const list =
    (detail: boolean): Controller =>
    async (c) => {
      const r = listRequest(c);
      const rows = r.valid ? await api.listAttachments(c.ctx, r) : [];
      return {
        kind: 'object',
        status: 200,
        body: { attachments: rows.map((a) => (detail ? attachmentDetail(a) : attachmentSummary(a))) },
      };
    };

  const show: Controller = async (c) => {
    const attachment = await api.getAttachment(c.ctx, c.params.id, { readScoped: true });
    // The volume is read with an admin context; its admin metadata `format` joins connection_info.
    const format = attachment.volume.admin_metadata.format;
    if (format !== undefined) {
      if (attachment.connection_info === null) throw new PyTypeError("'NoneType' object does not support item assignment");
      attachment.connection_info = { ...attachment.connection_info, format };
    }
    return { kind: 'object', status: 200, body: { attachment: attachmentDetail(attachment) } };
  };

  const create: Controller = async (c) => {
    if (isObject(c.body)) rejectStrayTypeKey(c.body);
    const schema = c.version >= MV.ATTACHMENT_CREATE_MODE_ARG ? attachmentCreateSchemas.v354 : attachmentCreateSchemas.base;
    const body = validateBody<AttachmentCreateBody>(schema, c.body, c.bodyText).attachment;
    const instanceUuid = body.instance_uuid ?? null;
    const volume = await api.getVolumeById(c.ctx, body.volume_uuid);
    const connector = (body.connector ?? null) as Connector | null;
    const mode = c.version >= MV.ATTACHMENT_CREATE_MODE_ARG ? (body.mode ?? 'null') : undefined;
    let created;
    try {
      created = await api.attachmentCreate(c.ctx, volume, instanceUuid, connector, mode);
    } catch (err) {
      if (err instanceof NotAuthorized || err instanceof InvalidVolume) throw err;
      const msg =
        err instanceof CinderException
          ? `Unable to create attachment for volume (${firstLine(err.msg)}).`
          : 'Unable to create attachment for volume.';
      c.log.error({ err }, msg);
      throw new HttpFault(500, msg);
    }
    return { kind: 'object', status: 200, body: { attachment: attachmentDetail(created) } };
  };

  const update: Controller = async (c) => {
    if (isObject(c.body)) rejectStrayTypeKey(c.body);
    const body = validateBody<AttachmentUpdateBody>(attachmentUpdateSchema, c.body, c.bodyText).attachment;
    const attachment = await api.getAttachment(c.ctx, c.params.id);
    let updated;
    try {
      updated = await api.attachmentUpdate(c.ctx, attachment, body.connector as Connector);
    } catch (err) {
      if (err instanceof NotAuthorized) throw err;
      const msg =
        err instanceof CinderException ? `Unable to update attachment.(${firstLine(err.msg)}).` : 'Unable to update the attachment.';
      c.log.error({ err }, msg);
      throw new HttpFault(500, msg);
    }
    return { kind: 'object', status: 200, body: { attachment: attachmentDetail(updated) } };
  };

  const remove: Controller = async (c) => {
    const attachment = await api.getAttachment(c.ctx, c.params.id);
    const remaining = await api.attachmentDelete(c.ctx, attachment);
    return { kind: 'object', status: 200, body: { attachments: remaining.map(attachmentSummary) } };
  };

  // os-complete has no schema: cinderclient sends null, anything else is accepted too.
  const complete: Controller = async (c) => {
    const attachment = await api.getAttachment(c.ctx, c.params.id, { readScoped: true });
    await api.attachmentComplete(c.ctx, attachment);
    return { kind: 'object', status: 204, body: null };
  };

  return { list, show, create, update, remove, complete };
}

export function registerAttachmentRoutes(app: FastifyInstance, api: VolumeApiSurface & Partial<AttachmentApiSurface>): void {
  const c = attachmentControllers(api);
  const v = MV.NEW_ATTACH;
  const actions = new Map<string, ActionEntry>([['os-complete', { controller: c.complete, minVersion: MV.NEW_ATTACH_COMPLETION }]]);
  const m = {
    index: { kind: 'method', takesBody: 'none', controller: c.list(false), minVersion: v },
    detail: { kind: 'method', takesBody: 'none', controller: c.list(true), minVersion: v },
    // routes maps GET /attachments/summary to a `summary` method the controller does not have.
    summary: { kind: 'absent' },
    show: { kind: 'method', takesBody: 'none', controller: c.show, minVersion: v },
    create: { kind: 'method', takesBody: 'required', controller: c.create, minVersion: v },
    update: { kind: 'method', takesBody: 'required', controller: c.update, minVersion: v },
    remove: { kind: 'method', takesBody: 'none', controller: c.remove, minVersion: v },
    action: { kind: 'action', actions },
  } satisfies Record<string, ResourceMethod>;

  const on = resourceRoutes(app, '/attachments');
  on('GET', '', m.index);
  on('POST', '', m.create);
  on('GET', '/detail', m.detail);
  on('GET', '/summary', m.summary);
  on('GET', '/:id', m.show);
  on('PUT', '/:id', m.update);
  on('DELETE', '/:id', m.remove);
  on('POST', '/:id/action', m.action);
}
