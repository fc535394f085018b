// The admin actions' volume-API side: api/contrib/admin_actions.py's os-reset_status body,
// scheduler_stats get_pools, capabilities show, and this port's stale report. VolumeAPI delegates
// here (src/volume-api/api.ts).
import type { RequestContext } from '../common/context.js';
import { MessagingTimeout, NotFound, RPCTimeout } from '../common/exceptions.js';
import { authorize } from '../common/policy.js';
import * as dbapi from '../db/api.js';
import type { VolumeAttachment } from '../objects/volume.js';
import type { VolumeApiDeps } from './api.js';
import { getVolumeById } from './attachments.js';
import { staleReport as buildStaleReport, type StaleReport } from './stale.js';

/** What os-reset_status writes (validate_update's result; migration_status null = NULL). */
export interface ResetStatusUpdate {
  status?: string;
  attach_status?: string;
  migration_status?: string | null;
}

/** The admin actions' volume-API side (cinder/api/contrib/admin_actions.py). */
export interface AdminApiSurface {
  /** Live attachments not 'detached' (volume_attachment_get_all_by_volume_id). */
  liveAttachments(volumeId: string): Promise<VolumeAttachment[]>;
  /** The unconditional UPDATE, then detach every live attachment when attach_status=detached. */
  resetStatus(ctx: RequestContext, volumeId: string, update: ResetStatusUpdate): Promise<void>;
  /** Volumes and attachments in a transient status for more than `olderThanS` (admins only). */
  staleReport(ctx: RequestContext, olderThanS: number): Promise<StaleReport>;
  /** scheduler_stats get_pools: the scheduler's pools ([{name, capabilities}]). */
  getPools(ctx: RequestContext, filters: Record<string, unknown>): Promise<Array<{ name: string; capabilities: Record<string, unknown> }>>;
  /** capabilities show: the backend's capabilities and the topic queue they came from. */
  getCapabilities(ctx: RequestContext, host: string): Promise<{ capabilities: Record<string, unknown>; topic: string }>;
}

/** What the admin surface uses of VolumeAPI's dependencies (defaults already applied). */
export type AdminDeps = Pick<VolumeApiDeps, 'db' | 'rpc' | 'scheduler' | 'logger'> &
  Required<Pick<VolumeApiDeps, 'notifier' | 'serviceDownTime'>>;

export function getPools(d: AdminDeps, ctx: RequestContext, filters: Record<string, unknown>): Promise<Array<{ name: string; capabilities: Record<string, unknown> }>> {
  authorize(ctx, 'scheduler_extension:scheduler_stats:get_pools');
  return d.scheduler.getPools(ctx, filters);
}

/**
 * api/contrib/capabilities.py show: the first cinder-volume service of that host or cluster
 * answers get_capabilities (discover=False); none is a 404, no answer in time a 502.
 */
export async function getCapabilities(d: AdminDeps, ctx: RequestContext, host: string): Promise<{ capabilities: Record<string, unknown>; topic: string }> {
  authorize(ctx, 'volume_extension:capabilities');
  const [service] = await dbapi.servicesOfHostOrCluster(d.db, host, 'cinder-volume');
  if (!service) throw new NotFound({}, `Can't find service: ${host}`);
  const topic = service.cluster_name || service.host || host;
  try {
    return { capabilities: await d.rpc.getCapabilities(ctx, topic, false), topic };
  } catch (e) {
    if (e instanceof MessagingTimeout) throw new RPCTimeout({ service: topic });
    throw e;
  }
}

export function staleReport(d: AdminDeps, ctx: RequestContext, olderThanS: number): Promise<StaleReport> {
  authorize(ctx, 'cinder-ts:stale_report');
  return buildStaleReport(d.db, olderThanS, new Date(), d.serviceDownTime);
}

export function liveAttachments(d: AdminDeps, volumeId: string): Promise<VolumeAttachment[]> {
  return dbapi.attachmentGetAllByVolumeId(d.db, volumeId);
}

/**
 * The body of os-reset_status after its checks: volume.reset_status.start, the unconditional
 * UPDATE, and for attach_status=detached volume_detached for every live attachment (which
 * recomputes the status, so the status just set can become 'available') and the attached_mode
 * soft delete; then volume.reset_status.end. Nothing on the backend changes (the export and the
 * ACL stay, field failure F1). The volume's `workers` row goes (_remove_worker).
 */
export async function resetStatus(d: AdminDeps, ctx: RequestContext, volumeId: string, update: ResetStatusUpdate): Promise<void> {
  d.notifier.info(ctx, await getVolumeById(d, ctx, volumeId), 'reset_status.start');
  await dbapi.volumeUpdate(d.db, volumeId, update as Record<string, unknown>);
  // _remove_worker: the cleanup entry is useless once an admin set the status.
  if (await dbapi.workerDestroyByResource(d.db, 'Volume', volumeId)) {
    d.logger.debug({ volume_id: volumeId }, `Worker entry for volumes with id ${volumeId} has been deleted.`);
  }
  if (update.attach_status === 'detached') {
    for (const a of await dbapi.attachmentGetAllByVolumeId(d.db, volumeId)) await dbapi.volumeDetached(d.db, volumeId, a.id);
    await dbapi.adminMetadataDelete(d.db, volumeId, 'attached_mode');
  }
  d.notifier.info(ctx, await getVolumeById(d, ctx, volumeId), 'reset_status.end');
}
