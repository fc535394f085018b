// cinder/volume/api.py's attachments API (attachment_create, _attachment_reserve,
// attachment_update, attachment_delete, attachment_deletion_allowed) and the lookups the v3
// attachments controller makes around it (VolumeAttachment.get_by_id, Volume.get_by_id,
// attachment get_all, os-complete's body). VolumeAPI delegates here (src/volume-api/api.ts).
import type { RequestContext } from '../common/context.js';
import { ConflictNovaUsingAttachment, InvalidInput, InvalidVolume, VolumeAttachmentNotFound, VolumeNotFound } from '../common/exceptions.js';
import { authorize } from '../common/policy.js';
import { buildOrStr } from '../common/utils.js';
import { NovaNotFound } from '../compute/nova.js';
import * as dbapi from '../db/api.js';
import type { Connector, Volume, VolumeAttachment } from '../objects/volume.js';
import type { VolumeApiDeps } from './api.js';

/** VolumeAttachment.get_by_id: the row plus its volume (joined-loaded at the same time). */
export type AttachmentRef = VolumeAttachment & { volume: Volume };

/** Filters, pagination and scope of GET /attachments[/detail] (AttachmentsController._items). */
export interface AttachmentListRequest {
  allTenants: boolean;
  filters: Record<string, string>;
  limit: number;
  marker: string | null;
  offset: number;
  sortKeys: string[];
  sortDirs: string[];
}

/** The attachments API (cinder/volume/api.py attachment_* and the v3 attachments controller). */
export interface AttachmentApiSurface {
  /** VolumeAttachment.get_by_id: not project-scoped; VolumeAttachmentNotFound (404). */
  /**
   * The attachment and its volume. With `readScoped`, a non-admin of another project gets the
   * not-found error (beyond Cinder, whose show/os-complete lookup is not project-scoped).
   */
  getAttachment(ctx: RequestContext, attachmentId: string, opts?: { readScoped?: boolean }): Promise<AttachmentRef>;
  /** objects.Volume.get_by_id: project-scoped for non-admins, no volume:get policy (404). */
  getVolumeById(ctx: RequestContext, volumeId: string): Promise<Volume>;
  listAttachments(ctx: RequestContext, req: AttachmentListRequest): Promise<VolumeAttachment[]>;
  attachmentCreate(
    ctx: RequestContext,
    volume: Volume,
    instanceUuid: string | null,
    connector: Connector | null,
    attachMode?: string,
  ): Promise<VolumeAttachment>;
  attachmentUpdate(ctx: RequestContext, attachment: AttachmentRef, connector: Connector): Promise<VolumeAttachment>;
  attachmentComplete(ctx: RequestContext, attachment: AttachmentRef): Promise<void>;
  attachmentDelete(ctx: RequestContext, attachment: AttachmentRef): Promise<VolumeAttachment[]>;
}

/** What the attachments API uses of VolumeAPI's dependencies (defaults already applied). */
export type AttachmentDeps = Pick<VolumeApiDeps, 'db' | 'rpc' | 'logger' | 'locks'> &
  Required<Pick<VolumeApiDeps, 'serviceTokenRoles' | 'notifier' | 'nova'>>;

/** Python's str.format of a value (the lock name): str() of it, None as 'None'. */
function pyFormat(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

export async function getAttachment(
  d: Pick<VolumeApiDeps, 'db'>,
  ctx: RequestContext,
  attachmentId: string,
  opts: { readScoped?: boolean } = {},
): Promise<AttachmentRef> {
  const attachment = await dbapi.attachmentGet(d.db, attachmentId);
  // The joined volume: any project's (Cinder's lookup is not project-scoped).
  const volume = attachment ? await dbapi.volumeGet(d.db, attachment.volume_id) : null;
  // Cinder 21.3.1 shows any project's attachment, connection_info included, to whoever knows its
  // id, and os-complete's 404 names its volume; here another project's member is told it does
  // not exist. Update and delete keep Cinder's 403 (their policy check comes first).
  const hidden = opts.readScoped && volume && !ctx.is_admin && volume.project_id !== ctx.project_id;
  if (!attachment || !volume || hidden) throw new VolumeAttachmentNotFound({ filter: `attachment_id = ${attachmentId}` });
  return { ...attachment, volume };
}

export async function getVolumeById(d: Pick<VolumeApiDeps, 'db'>, ctx: RequestContext, volumeId: string): Promise<Volume> {
  const volume = await dbapi.volumeGet(d.db, volumeId, { projectId: ctx.is_admin ? undefined : ctx.project_id });
  if (!volume) throw new VolumeNotFound({ volume_id: volumeId });
  return volume;
}

export async function listAttachments(d: Pick<VolumeApiDeps, 'db'>, ctx: RequestContext, req: AttachmentListRequest): Promise<VolumeAttachment[]> {
  // volume_attachment_get_all_by_project puts the caller's project over any project_id filter;
  // with all_tenants an admin's project_id filter stays.
  const { project_id: projectFilter, ...filters } = req.filters;
  return await dbapi.attachmentGetAll(d.db, {
    projectId: ctx.is_admin && req.allTenants ? projectFilter : ctx.project_id,
    filters,
    limit: req.limit,
    marker: req.marker,
    offset: req.offset,
    sortKeys: req.sortKeys,
    sortDirs: req.sortDirs,
  });
}

/**
 * _attachment_reserve: status → 'reserved' in one conditional UPDATE (multiattach as loaded),
 * else allowed only for the same instance on an in-use/reserved volume (live migration), then
 * INSERT the reserved attachment row.
 */
async function attachmentReserve(d: AttachmentDeps, ctx: RequestContext, vref: Volume, instanceUuid: string | null): Promise<VolumeAttachment> {
  if (vref.multiattach && vref.status === 'in-use' && vref.bootable) {
    authorize(ctx, 'volume:multiattach_bootable_volume', vref);
  }
  const statuses = vref.multiattach
    ? (['available', 'in-use', 'downloading'] as const)
    : (['available', 'downloading'] as const);
  const ok = await dbapi.volumeConditionalUpdate(d.db, vref.id, { status: 'reserved' }, {
    multiattach: vref.multiattach,
    status: statuses,
  });
  // conditional_update reflects a successful change into the object: the volume that the
  // attachment_update RPC carries is 'reserved'.
  if (ok) vref.status = 'reserved';
  if (!ok) {
    let override = false;
    let current = vref;
    if (instanceUuid && (vref.status === 'in-use' || vref.status === 'reserved')) {
      // Refreshed: concurrent reservations for the same instance (LP bug 1694530).
      current = await getVolumeById(d, ctx, vref.id);
      override = current.volume_attachment.some((a) => a.instance_uuid === instanceUuid);
    }
    if (!override) {
      throw new InvalidVolume({
        reason: `Volume ${current.id} status must be ${buildOrStr(statuses)} to reserve, but the current status is ${current.status}.`,
      });
    }
  }
  return await dbapi.volumeAttach(d.db, { volume_id: vref.id, attach_status: 'reserved', instance_uuid: instanceUuid });
}

/**
 * attachment_create. The answer is the object as it stood after the reserve plus the two fields
 * the API saves (connection_info, attach_mode): status stays 'reserved' even when the manager
 * moved the row to 'attaching' (pitfall 17), and the saved attach_mode overwrites the manager's.
 * A failing RPC leaves the reservation behind (volume and row 'reserved', pitfall 18).
 */
export async function attachmentCreate(
  d: AttachmentDeps,
  ctx: RequestContext,
  volume: Volume,
  instanceUuid: string | null,
  connector: Connector | null,
  attachMode = 'null',
): Promise<VolumeAttachment> {
  authorize(ctx, 'volume:attachment_create', volume);
  if ((volume.status ?? '').includes('error')) {
    const msg =
      'Volume attachments can not be created if the volume is in an error state. ' +
      `The Volume ${volume.id} currently has a status of: ${volume.status} `;
    d.logger.error({ volume_id: volume.id }, msg);
    throw new InvalidVolume({ reason: msg });
  }
  const attachment = await attachmentReserve(d, ctx, volume, instanceUuid);
  let connectionInfo: Record<string, unknown> = {};
  // `if connector:` — an empty connector is no connector.
  if (connector && Object.keys(connector).length > 0) {
    connectionInfo = await d.rpc.attachmentUpdate(ctx, volume, connector, attachment.id);
  }
  attachment.connection_info = connectionInfo;
  // Any non-empty admin `readonly` (even 'False', which every legacy attach leaves) means 'ro'.
  if ((await dbapi.adminMetadataGet(d.db, volume.id)).readonly) {
    d.logger.warn(
      { volume_id: volume.id },
      'Using volume_admin_metadata to set Read Only mode is deprecated!  Please use the mode argument in attachment-create.',
    );
    attachment.attach_mode = 'ro';
  } else {
    attachment.attach_mode = attachMode;
  }
  await dbapi.attachmentUpdate(d.db, attachment.id, {
    connection_info: attachment.connection_info,
    attach_mode: attachment.attach_mode,
  });
  return attachment;
}

/**
 * attachment_update, under the API lock `cinder-attachment_update-<volume_id>-<connector host>`
 * (a connector without `host` fails while the name is built, before the policy check). Returns
 * the caller's stale attachment with only connection_info refreshed.
 */
export async function attachmentUpdate(d: AttachmentDeps, ctx: RequestContext, attachment: AttachmentRef, connector: Connector): Promise<VolumeAttachment> {
  if (!Object.prototype.hasOwnProperty.call(connector, 'host')) {
    throw new Error("KeyError: 'host' (building the attachment_update lock name)");
  }
  const host = pyFormat(connector.host);
  // tooz refuses lock names that would leave its directory; so do we.
  if (host.includes('/') || host.includes('\0')) throw new Error('invalid attachment_update lock name');
  const run = () => attachmentUpdateLocked(d, ctx, attachment, connector);
  if (!d.locks) return run();
  return d.locks.withLock(`attachment_update-${attachment.volume_id}-${host}`, run);
}

async function attachmentUpdateLocked(
  d: AttachmentDeps,
  ctx: RequestContext,
  attachment: AttachmentRef,
  connector: Connector,
): Promise<VolumeAttachment> {
  authorize(ctx, 'volume:attachment_update', { project_id: attachment.volume.project_id });
  const volume = await getVolumeById(d, ctx, attachment.volume_id);
  if ((volume.status ?? '').includes('error')) {
    const msg =
      'Volume attachments can not be updated if the volume is in an error state. ' +
      `The Volume ${volume.id} currently has a status of: ${volume.status} `;
    d.logger.error({ volume_id: volume.id }, msg);
    throw new InvalidVolume({ reason: msg });
  }
  // Several connected attachments need multiattach (the column or the type's extra spec), except
  // to one host (a Nova instance migration).
  if (volume.volume_attachment.length > 1 && !(volume.multiattach || volume.volume_type?.extra_specs?.multiattach === '<is> True')) {
    const hosts = new Set<string>();
    for (const a of volume.volume_attachment) {
      if (!a.connection_info || Object.keys(a.connection_info).length === 0) continue;
      // a.connector['host']: a TypeError/KeyError in Cinder (500) when it is missing.
      if (!a.connector || !Object.prototype.hasOwnProperty.call(a.connector, 'host')) {
        throw new Error(`attachment ${a.id} has connection_info but no connector host`);
      }
      hosts.add(pyFormat(a.connector.host));
    }
    if (hosts.size > 0) {
      throw new InvalidVolume({ reason: `duplicate connectors detected on volume ${volume.id}` });
    }
  }
  const info = await d.rpc.attachmentUpdate(ctx, volume, connector, attachment.id);
  await dbapi.attachmentUpdate(d.db, attachment.id, { connection_info: info });
  const { volume: _v, ...stale } = attachment;
  return { ...stale, connection_info: info };
}

/**
 * os-complete (the controller's body in Cinder): the volume is loaded project-scoped (404 for
 * another project), then the policy; then, unconditionally, the attachment 'attached' and the
 * volume in-use/attached, and volume.attach.end from the API.
 */
export async function attachmentComplete(d: AttachmentDeps, ctx: RequestContext, attachment: AttachmentRef): Promise<void> {
  const volume = await getVolumeById(d, ctx, attachment.volume_id);
  authorize(ctx, 'volume:attachment_complete', { project_id: attachment.volume.project_id });
  await dbapi.attachmentUpdate(d.db, attachment.id, { attach_status: 'attached' });
  await dbapi.volumeUpdate(d.db, volume.id, { status: 'in-use', attach_status: 'attached' });
  d.notifier.info(ctx, { ...volume, status: 'in-use', attach_status: 'attached' }, 'attach.end');
}

/**
 * attachment_delete: policy, the OSSA-2023-003 guard, then (reserved: detach.start here, no RPC;
 * otherwise the manager's terminate/remove_export, which sends detach.start) finish_detach and
 * detach.end from the API. A manager failure propagates before any DB write. Returns the
 * volume's other live attachments (not 'detached').
 */
export async function attachmentDelete(d: AttachmentDeps, ctx: RequestContext, attachment: AttachmentRef): Promise<VolumeAttachment[]> {
  authorize(ctx, 'volume:attachment_delete', { project_id: attachment.volume.project_id });
  const { volume: loaded, ...row } = attachment;
  await attachmentDeletionAllowed(d, ctx, row, null);
  const volume = loaded;
  if (attachment.attach_status === 'reserved') {
    d.notifier.info(ctx, volume, 'detach.start');
  } else {
    await d.rpc.attachmentDelete(ctx, attachment.id, volume);
  }
  // The volume's attachment list as lazily loaded now (live rows not 'detached'), minus this one.
  const remaining = (await dbapi.attachmentGetAllByVolumeId(d.db, volume.id)).filter((a) => a.id !== attachment.id);
  const after = await dbapi.finishDetach(d.db, volume.id, attachment.id);
  d.notifier.info(ctx, { ...after, volume_attachment: remaining }, 'detach.end');
  d.logger.info({ volume_id: volume.id, attachment_id: attachment.id }, 'Attachment delete completed successfully.');
  return remaining;
}

/** A request carrying a service token whose roles intersect service_token_roles. */
export function isServiceRequest(d: Pick<AttachmentDeps, 'serviceTokenRoles'>, ctx: RequestContext): boolean {
  return ctx.service_roles.some((r) => d.serviceTokenRoles.includes(r));
}

/**
 * attachment_deletion_allowed (bug #2004555 / OSSA-2023-003): refuse, with 409, a user's
 * detach of an attachment a VM may still use. Service requests always pass; attachments with
 * no instance or no connection_info (every legacy os-attach row) always pass; otherwise Nova is
 * asked, and only an attachment Nova still reports under the same id is refused. Nova failures
 * other than 404 propagate (FaultWrapper answers with their status, or 500), as in Cinder.
 */
export async function attachmentDeletionAllowed(
  d: AttachmentDeps,
  ctx: RequestContext,
  attachmentOrId: string | VolumeAttachment | null,
  volume: Volume | null,
): Promise<void> {
  if (isServiceRequest(d, ctx)) return;
  let ref = attachmentOrId;
  if (!ref && volume) {
    if (volume.volume_attachment.length === 0) return;
    if (volume.volume_attachment.length === 1) ref = volume.volume_attachment[0];
  }
  const attachment = typeof ref === 'string' ? await dbapi.attachmentGet(d.db, ref) : ref;
  let serverId = '';
  if (attachment) {
    if (volume && volume.id !== attachment.volume_id) {
      throw new InvalidInput({ reason: 'Mismatched volume and attachment' });
    }
    serverId = attachment.instance_uuid ?? '';
    const info = attachment.connection_info;
    if (!serverId || !info || Object.keys(info).length === 0) return;
    const ids = { volume_id: attachment.volume_id, attachment_id: attachment.id, server_id: serverId };
    d.logger.info(ids, `Attachment connected to vm ${serverId}, checking data on nova`);
    let novaVolume;
    try {
      novaVolume = await d.nova.getServerVolume(ctx, serverId, volume?.id ?? attachment.volume_id);
    } catch (e) {
      if (!(e instanceof NovaNotFound)) throw e;
      d.logger.warn(ids, 'Instance or volume not found on Nova, deleting attachment locally, which may leave leftover devices on Nova compute');
      return;
    }
    if (novaVolume.attachment_id !== attachment.id) {
      d.logger.warn(
        { ...ids, nova_attachment_id: novaVolume.attachment_id },
        `Mismatch! Nova has different attachment id (${novaVolume.attachment_id}) for the volume, deleting attachment locally. May leave leftover devices in a compute node`,
      );
      return;
    }
  }
  d.logger.error(
    { volume_id: volume?.id },
    'Detected user call to delete in-use attachment. Call must come from the nova service and nova must be configured to send the service token. Bug #2004555',
  );
  throw new ConflictNovaUsingAttachment({ instance_id: serverId });
}
