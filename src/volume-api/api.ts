// What cinder/volume/api.py does for the attach/detach path: conditional DB updates (one UPDATE …
// WHERE each), Cinder's failure messages, then the RPC to the volume host.
// VolumeAPI delegates the create flow (create.ts), the attachments API (attachments.ts), the
// admin surface (admin.ts), extend (extend.ts) and retype (retype.ts).
import { nodeRequester } from '../common/http.js';
import { NovaAPI } from '../compute/nova.js';
import type { RequestContext } from '../common/context.js';
import type { Connector, Volume, VolumeAttachment, VolumeTypeData } from '../objects/volume.js';
import type { Db } from '../db/client.js';
import { dbNow } from '../db/client.js';
import * as dbapi from '../db/api.js';
import { Not } from '../db/api.js';
import { authorize, isAllowed } from '../common/policy.js';
import { InvalidVolume, InvalidVolumeAttachMode, VolumeNotFound } from '../common/exceptions.js';
import { buildOrStr } from '../common/utils.js';
import { AVAILABLE_MIGRATION_STATUS, isBooleanSpec } from '../objects/volume.js';
import type { Logger } from '../common/log.js';
import type { VolumeRpcApi } from '../rpc/volume-rpcapi.js';
import type { SchedulerRpcApi } from '../rpc/scheduler-rpcapi.js';
import { VolumeUsageNotifier, type Notifier } from '../manager/notifier.js';
import { noopNotifier } from '../notifier/notifier.js';
import type { StaleReport } from './stale.js';
import * as attachments from './attachments.js';
import type { AttachmentApiSurface, AttachmentDeps, AttachmentListRequest, AttachmentRef } from './attachments.js';
import * as admin from './admin.js';
import type { AdminApiSurface, AdminDeps, ResetStatusUpdate } from './admin.js';
import { AvailabilityZones } from './availability-zones.js';
import { retype as retypeVolume } from './retype.js';
import { extend as extendVolume, extendAttached, type ExtendDeps } from './extend.js';
import { getByNameOrId } from './volume-types.js';
import { getBoolParam } from './volume-filters.js';
import { VolumeEdits } from './volume-update.js';
import { QuotaEngine, releaseDeltas } from '../quota/index.js';
import { TransferAPI } from './transfer.js';
import { create as createVolume, type CreateDeps, type CreateVolumeRequest } from './create.js';

export interface VolumeApiSurface {
  /** Project-scoped for non-admins; volume:get policy; VolumeNotFound (404) otherwise. */
  get(ctx: RequestContext, volumeId: string): Promise<Volume>;
  /** Project-scoped unless an admin passes allTenants. */
  getAll(ctx: RequestContext, opts?: VolumeListRequest): Promise<Volume[]>;
  create(ctx: RequestContext, req: CreateVolumeRequest): Promise<Volume>;
  /** objects.VolumeType.get_by_name_or_id: VolumeTypeNotFound / VolumeTypeNotFoundByName (404). */
  getVolumeType(ctx: RequestContext, nameOrId: string): Promise<VolumeTypeData>;
  delete(ctx: RequestContext, volume: Volume, opts?: { cascade?: boolean; force?: boolean }): Promise<void>;
  reserveVolume(ctx: RequestContext, volume: Volume): Promise<void>;
  unreserveVolume(ctx: RequestContext, volume: Volume): Promise<void>;
  beginDetaching(ctx: RequestContext, volume: Volume): Promise<void>;
  rollDetaching(ctx: RequestContext, volume: Volume): Promise<void>;
  attach(
    ctx: RequestContext,
    volume: Volume,
    instanceUuid: string | null,
    hostName: string | null,
    mountpoint: string,
    mode: string,
  ): Promise<VolumeAttachment>;
  detach(ctx: RequestContext, volume: Volume, attachmentId: string | null): Promise<void>;
  initializeConnection(ctx: RequestContext, volume: Volume, connector: unknown): Promise<Record<string, unknown>>;
  terminateConnection(ctx: RequestContext, volume: Volume, connector: unknown, force?: boolean): Promise<void>;
}

export type { Connector };
export type { CreateVolumeRequest } from './create.js';
export type { AttachmentApiSurface, AttachmentListRequest, AttachmentRef } from './attachments.js';
export type { AdminApiSurface, ResetStatusUpdate } from './admin.js';

/** GET /volumes[/detail]: all_tenants (admins), marker, limit, offset and the sort keys. */
export type VolumeListRequest = dbapi.PageOptions & { allTenants?: boolean; marker?: string | null; filters?: Record<string, unknown> };

const P = 'volume_extension:volume_actions:';

export interface VolumeApiDeps {
  db: Db;
  rpc: VolumeRpcApi;
  /** Where creates go to be placed (cinder/scheduler/rpcapi.py). */
  scheduler: Pick<SchedulerRpcApi, 'createVolume' | 'getPools'> & Partial<Pick<SchedulerRpcApi, 'retype' | 'extendVolume'>>;
  logger: Logger;
  /** [keystone_authtoken] service_token_roles (default ['service']). */
  serviceTokenRoles?: string[];
  storageAvailabilityZone?: string;
  /** [DEFAULT] default_availability_zone and allow_availability_zone_fallback. */
  defaultAvailabilityZone?: string;
  allowAvailabilityZoneFallback?: boolean;
  /** [DEFAULT] default_volume_type (volume_types.get_default_volume_type); `__DEFAULT__` if unset. */
  defaultVolumeType?: string;
  /**
   * The API's coordination locks (tooz file backend under `[DEFAULT] state_path`), for
   * `cinder-attachment_update-<volume_id>-<connector host>`. Without it attachment updates run
   * unlocked (unit tests).
   */
  locks?: { withLock<T>(name: string, fn: () => Promise<T>): Promise<T>; removeApiVolumeLocks?(volumeId: string, warn?: (m: string) => void): void };
  /** [DEFAULT] host: notifications sent by the API are published as `volume.<host>`. */
  host?: string;
  /** Where the API's notifications go (default: nowhere, Cinder's noop driver; publisher volume.<host>). */
  notifier?: Notifier;
  /**
   * Nova, asked by the deletion guard (cinder/compute/nova.py). Default: `[nova]`'s defaults, i.e.
   * the identity endpoint of the caller's service catalog (none under noauth: EndpointNotFound).
   */
  nova?: Pick<NovaAPI, 'getServerVolume'>;
  /** cinder/quota.py QUOTAS (default: the quota options' defaults on `db`). */
  quotas?: QuotaEngine;
  /** [DEFAULT] service_down_time (60), for the stale report's up/down. */
  serviceDownTime?: number;
  /** [DEFAULT] az_cache_duration (3600 s): how long create keeps the zone list. */
  azCacheDuration?: number;
}

export class VolumeAPI implements VolumeApiSurface, AttachmentApiSurface, AdminApiSurface {
  private readonly db: Db;
  private readonly rpc: VolumeRpcApi;
  private readonly scheduler: VolumeApiDeps['scheduler'];
  private readonly log: Logger;
  private readonly serviceTokenRoles: string[];
  private readonly az: string;
  private readonly azFallback: boolean;
  private readonly defaultVolumeType: string;
  private readonly locks: VolumeApiDeps['locks'];
  private readonly notifier: Notifier;
  private readonly nova: Pick<NovaAPI, 'getServerVolume'>;
  /** Update, the metadata API, readonly flag, summary and count: src/volume-api/volume-update.ts. */
  readonly edits: VolumeEdits;
  readonly quotas: QuotaEngine;
  private readonly serviceDownTime: number;
  private readonly azs: AvailabilityZones;
  private readonly storageAz: string | undefined;
  /** cinder/transfer/api.py API (src/volume-api/transfer.ts). */
  readonly transfers: TransferAPI;

  constructor(deps: VolumeApiDeps) {
    this.db = deps.db;
    this.rpc = deps.rpc;
    this.scheduler = deps.scheduler;
    this.log = deps.logger;
    this.serviceTokenRoles = deps.serviceTokenRoles ?? ['service'];
    this.az = deps.defaultAvailabilityZone ?? deps.storageAvailabilityZone ?? 'nova';
    this.azFallback = deps.allowAvailabilityZoneFallback ?? false;
    this.defaultVolumeType = deps.defaultVolumeType ?? '__DEFAULT__';
    this.locks = deps.locks;
    this.serviceDownTime = deps.serviceDownTime ?? 60;
    this.azs = new AvailabilityZones(deps.db, deps.azCacheDuration ?? 3600);
    this.storageAz = deps.storageAvailabilityZone;
    this.notifier = deps.notifier ?? new VolumeUsageNotifier(noopNotifier(deps.logger), deps.host ?? 'localhost');
    this.edits = new VolumeEdits({ db: this.db, notifier: this.notifier, logger: this.log });
    this.quotas = deps.quotas ?? new QuotaEngine(deps.db);
    this.transfers = new TransferAPI({ db: deps.db, quotas: this.quotas, rpc: deps.rpc, notifier: this.notifier, logger: deps.logger });
    this.nova = deps.nova ?? new NovaAPI({ interface: 'public' }, { requester: nodeRequester(), logger: deps.logger });
  }

  async get(ctx: RequestContext, volumeId: string): Promise<Volume> {
    const volume = await dbapi.volumeGet(this.db, volumeId, { projectId: ctx.is_admin ? undefined : ctx.project_id });
    // A missing volume, another project's volume and a volume:get denial all look the same.
    if (!volume || !isAllowed(ctx, 'volume:get', volume)) throw new VolumeNotFound({ volume_id: volumeId });
    return volume;
  }

  /**
   * volume/api.py get_all: with `filters` (the controller's dict), all_tenants is read from them
   * and the rest go to the DB as they are (src/volume-api/volume-filters.ts explains the shape).
   */
  async getAll(ctx: RequestContext, opts: VolumeListRequest = {}): Promise<Volume[]> {
    authorize(ctx, 'volume:get_all');
    const { allTenants: all, filters: given, ...page } = opts;
    const filters: Record<string, unknown> = { ...(given ?? {}) };
    const allTenants = given ? getBoolParam(filters, 'all_tenants') : all;
    // Non-admins never see the temporary target of a migration.
    if (!ctx.is_admin) filters.no_migration_targets = true;
    if (ctx.is_admin && allTenants) {
      delete filters.all_tenants;
      return await dbapi.volumeGetAll(this.db, { ...page, filters });
    }
    // volume_get_all_by_project: its project_id replaces any project_id filter.
    delete filters.project_id;
    return await dbapi.volumeGetAll(this.db, { ...page, filters, projectId: ctx.project_id });
  }

  /** os-extend: src/volume-api/extend.ts (volume/api.py extend). */
  extend(ctx: RequestContext, volume: Volume, newSize: number): Promise<void> {
    return extendVolume(this.extendDeps(), ctx, volume, newSize);
  }

  /** os-extend at 3.42 on an in-use volume (volume/api.py extend_attached_volume). */
  extendAttachedVolume(ctx: RequestContext, volume: Volume, newSize: number): Promise<void> {
    return extendAttached(this.extendDeps(), ctx, volume, newSize);
  }

  private extendDeps(): ExtendDeps {
    return { db: this.db, quotas: this.quotas, scheduler: this.scheduler as Pick<SchedulerRpcApi, 'extendVolume'>, logger: this.log };
  }

  /** os-retype: src/volume-api/retype.ts (volume/api.py retype). */
  retype(ctx: RequestContext, volume: Volume, newType: string, migrationPolicy: string | null = null): Promise<void> {
    const scheduler = this.scheduler as Pick<SchedulerRpcApi, 'retype'>;
    return retypeVolume({ db: this.db, scheduler, logger: this.log, quotas: this.quotas }, ctx, volume, newType, migrationPolicy);
  }

  getVolumeType(ctx: RequestContext, nameOrId: string): Promise<VolumeTypeData> {
    return getByNameOrId(this.db, ctx, nameOrId);
  }

  /** The create flow: src/volume-api/create.ts (volume/flows/api/create_volume.py). */
  create(ctx: RequestContext, req: CreateVolumeRequest): Promise<Volume> {
    return createVolume(this.createDeps(), ctx, req);
  }

  private createDeps(): CreateDeps {
    return {
      db: this.db,
      scheduler: this.scheduler,
      logger: this.log,
      quotas: this.quotas,
      defaultVolumeType: this.defaultVolumeType,
      defaultAvailabilityZone: this.az,
      allowAvailabilityZoneFallback: this.azFallback,
      storageAvailabilityZone: this.storageAz,
      azs: this.azs,
    };
  }

  async delete(ctx: RequestContext, volume: Volume, opts: { cascade?: boolean; force?: boolean } = {}): Promise<void> {
    // Only volume:delete here: the caller checked its own force rule (DELETE ?force at 3.23:
    // volume:force_delete; os-force_delete: volume_extension:volume_admin_actions:force_delete).
    authorize(ctx, 'volume:delete', volume);
    if (!volume.host) {
      // Scheduling never happened (or failed): nothing on a backend to clean up. Beyond Cinder, the
      // create's workers row goes too, so no row is left that no service will ever claim.
      this.notifier.info(ctx, volume, 'delete.start');
      // volume/api.py delete: the quota is given back unless the volume was error_managing.
      let reservations: string[] | null = null;
      if (volume.status !== 'error_managing' && volume.use_quota !== false) {
        const projectId = volume.project_id;
        reservations = await releaseDeltas(this.quotas, volume)
          .then((d) => this.quotas.reserve(ctx, d, { projectId }))
          .catch((e: unknown) => (this.log.error({ err: e }, 'Failed to update quota while deleting volume.'), null));
      }
      await dbapi.volumeDestroy(this.db, volume.id);
      if (reservations) await this.quotas.commit(ctx, reservations, { projectId: volume.project_id });
      await dbapi.workerDestroyFor(this.db, volume.id, 'creating');
      // Volume.destroy() leaves the object status 'deleted', migration_status None.
      this.notifier.info(ctx, { ...volume, status: 'deleted', migration_status: null }, 'delete.end');
      this.log.info({ volume_id: volume.id }, 'Delete volume request issued successfully.');
      this.cleanVolumeFileLocks(volume.id);
      return;
    }
    const expected: Record<string, dbapi.Expected> = {
      attach_status: new Not('attached'),
      migration_status: AVAILABLE_MIGRATION_STATUS,
      consistencygroup_id: null,
      group_id: null,
    };
    const statuses = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'] as const;
    if (!opts.force) expected.status = statuses;
    const values = {
      status: volume.status === 'error_managing' ? 'error_managing_deleting' : 'deleting',
      terminated_at: dbNow(),
    };
    // No snapshots table in this port: the "has snapshots" filter is always false.
    if (!await dbapi.volumeConditionalUpdate(this.db, volume.id, values, expected)) {
      const status = opts.force ? '' : buildOrStr(statuses, 'status must be %s and');
      throw new InvalidVolume({
        reason: `Volume ${status} must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.`,
      });
    }
    const refreshed = await dbapi.volumeGetOrThrow(this.db, volume.id);
    await this.rpc.deleteVolume(ctx, refreshed);
    this.cleanVolumeFileLocks(volume.id);
    this.log.info({ volume_id: volume.id }, 'Delete volume request issued successfully.');
  }

  /** utils.api_clean_volume_file_locks: the volume's `cinder-attachment_update-<id>-*` lock files. */
  private cleanVolumeFileLocks(volumeId: string): void {
    this.locks?.removeApiVolumeLocks?.(volumeId, (m) => this.log.warn(m));
  }

  async reserveVolume(ctx: RequestContext, volume: Volume): Promise<void> {
    authorize(ctx, `${P}reserve`, volume);
    const status = volume.multiattach ? (['available', 'in-use'] as const) : 'available';
    const ok = await dbapi.volumeConditionalUpdate(this.db, volume.id, { status: 'attaching' }, {
      // As loaded: a NULL multiattach column matches only IS NULL, as in Cinder's expected values.
      multiattach: volume.multiattach ?? null,
      status,
    });
    if (!ok) {
      const msg = `Volume status must be ${buildOrStr(status)} to reserve, but the status is ${volume.status}.`;
      this.log.error({ volume_id: volume.id }, msg);
      throw new InvalidVolume({ reason: msg });
    }
    this.log.info({ volume_id: volume.id }, 'Reserve volume completed successfully.');
  }

  async unreserveVolume(ctx: RequestContext, volume: Volume): Promise<void> {
    authorize(ctx, `${P}unreserve`, volume);
    const ok = await dbapi.volumeConditionalUpdate(
      this.db,
      volume.id,
      { status: dbapi.STATUS_FROM_LIVE_ATTACHMENTS },
      { status: 'attaching' },
    );
    if (!ok) {
      this.log.debug({ volume_id: volume.id }, 'Attempted to unreserve volume that was not reserved, nothing to do.');
      return;
    }
    this.log.info({ volume_id: volume.id }, 'Unreserve volume completed successfully.');
  }

  async beginDetaching(ctx: RequestContext, volume: Volume): Promise<void> {
    authorize(ctx, `${P}begin_detaching`, volume);
    const ok = await dbapi.volumeConditionalUpdate(this.db, volume.id, { status: 'detaching' }, {
      status: 'in-use',
      attach_status: 'attached',
      migration_status: AVAILABLE_MIGRATION_STATUS,
    });
    // During a migration the user must not see 'detaching': silently accept (Cinder does).
    if (!(ok || this.isVolumeMigrating(volume))) {
      const msg =
        "Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.";
      this.log.error({ volume_id: volume.id }, msg);
      throw new InvalidVolume({ reason: msg });
    }
    this.log.info({ volume_id: volume.id }, 'Begin detaching volume completed successfully.');
  }

  async rollDetaching(ctx: RequestContext, volume: Volume): Promise<void> {
    authorize(ctx, `${P}roll_detaching`, volume);
    // The result is ignored on purpose: roll_detaching is always 202.
    await dbapi.volumeConditionalUpdate(this.db, volume.id, { status: 'in-use' }, { status: 'detaching' });
    this.log.info({ volume_id: volume.id }, 'Roll detaching of volume completed successfully.');
  }

  async attach(
    ctx: RequestContext,
    volume: Volume,
    instanceUuid: string | null,
    hostName: string | null,
    mountpoint: string,
    mode: string,
  ): Promise<VolumeAttachment> {
    authorize(ctx, `${P}attach`, volume);
    if (volume.status === 'maintenance') {
      throw new InvalidVolume({ reason: 'The volume cannot be attached in maintenance mode.' });
    }
    // Every legacy attach leaves readonly in admin metadata (added only when absent).
    let readonly = volume.admin_metadata.readonly;
    if (readonly === undefined) {
      await dbapi.adminMetadataSet(this.db, volume.id, { readonly: 'False' });
      readonly = 'False';
      volume.admin_metadata = { ...volume.admin_metadata, readonly };
    }
    if (readonly === 'True' && mode !== 'ro') {
      throw new InvalidVolumeAttachMode({ mode, volume_id: volume.id });
    }
    const attachment = await this.rpc.attachVolume(ctx, volume, instanceUuid, hostName, mountpoint, mode);
    this.log.info({ volume_id: volume.id, attachment_id: attachment.id }, 'Attach volume completed successfully.');
    return attachment;
  }

  async detach(ctx: RequestContext, volume: Volume, attachmentId: string | null): Promise<void> {
    authorize(ctx, `${P}detach`, volume);
    await this.attachmentDeletionAllowed(ctx, attachmentId, volume);
    if (volume.status === 'maintenance') {
      throw new InvalidVolume({ reason: 'The volume cannot be detached in maintenance mode.' });
    }
    await this.rpc.detachVolume(ctx, volume, attachmentId);
    this.log.info({ volume_id: volume.id, attachment_id: attachmentId }, 'Detach volume completed successfully.');
  }

  async initializeConnection(ctx: RequestContext, volume: Volume, connector: unknown): Promise<Record<string, unknown>> {
    authorize(ctx, `${P}initialize_connection`, volume);
    if (volume.status === 'maintenance') {
      throw new InvalidVolume({ reason: 'The volume connection cannot be initialized in maintenance mode.' });
    }
    const info = await this.rpc.initializeConnection(ctx, volume, connector as Connector);
    this.log.info({ volume_id: volume.id }, 'Initialize volume connection completed successfully.');
    return info as Record<string, unknown>;
  }

  async terminateConnection(ctx: RequestContext, volume: Volume, connector: unknown, force = false): Promise<void> {
    authorize(ctx, `${P}terminate_connection`, volume);
    await this.attachmentDeletionAllowed(ctx, null, volume);
    await this.rpc.terminateConnection(ctx, volume, connector as Connector, force);
    this.log.info({ volume_id: volume.id }, 'Terminate volume connection completed successfully.');
    // An 'attaching' volume goes back to in-use/available, as Cinder's API does after the RPC.
    await this.unreserveVolume(ctx, volume);
  }

  // ---------------------------------------------------------------------------------------------
  // new-style attachments: src/volume-api/attachments.ts (volume/api.py attachment_*)

  getAttachment(ctx: RequestContext, attachmentId: string, opts: { readScoped?: boolean } = {}): Promise<AttachmentRef> {
    return attachments.getAttachment(this.attachmentDeps(), ctx, attachmentId, opts);
  }

  getVolumeById(ctx: RequestContext, volumeId: string): Promise<Volume> {
    return attachments.getVolumeById(this.attachmentDeps(), ctx, volumeId);
  }

  listAttachments(ctx: RequestContext, req: AttachmentListRequest): Promise<VolumeAttachment[]> {
    return attachments.listAttachments(this.attachmentDeps(), ctx, req);
  }

  attachmentCreate(
    ctx: RequestContext,
    volume: Volume,
    instanceUuid: string | null,
    connector: Connector | null,
    attachMode?: string,
  ): Promise<VolumeAttachment> {
    return attachments.attachmentCreate(this.attachmentDeps(), ctx, volume, instanceUuid, connector, attachMode);
  }

  attachmentUpdate(ctx: RequestContext, attachment: AttachmentRef, connector: Connector): Promise<VolumeAttachment> {
    return attachments.attachmentUpdate(this.attachmentDeps(), ctx, attachment, connector);
  }

  attachmentComplete(ctx: RequestContext, attachment: AttachmentRef): Promise<void> {
    return attachments.attachmentComplete(this.attachmentDeps(), ctx, attachment);
  }

  attachmentDelete(ctx: RequestContext, attachment: AttachmentRef): Promise<VolumeAttachment[]> {
    return attachments.attachmentDelete(this.attachmentDeps(), ctx, attachment);
  }

  /** A request carrying a service token whose roles intersect service_token_roles. */
  isServiceRequest(ctx: RequestContext): boolean {
    return attachments.isServiceRequest(this.attachmentDeps(), ctx);
  }

  /** attachment_deletion_allowed (OSSA-2023-003), for os-detach, os-terminate_connection and attachment delete. */
  attachmentDeletionAllowed(ctx: RequestContext, attachmentOrId: string | VolumeAttachment | null, volume: Volume | null): Promise<void> {
    return attachments.attachmentDeletionAllowed(this.attachmentDeps(), ctx, attachmentOrId, volume);
  }

  private attachmentDeps(): AttachmentDeps {
    const { db, rpc, log: logger, locks, serviceTokenRoles, notifier, nova } = this;
    return { db, rpc, logger, locks, serviceTokenRoles, notifier, nova };
  }

  // ---------------------------------------------------------------------------------------------
  // admin actions (api/contrib/admin_actions.py): src/volume-api/admin.ts

  getPools(ctx: RequestContext, filters: Record<string, unknown>): Promise<Array<{ name: string; capabilities: Record<string, unknown> }>> {
    return admin.getPools(this.adminDeps(), ctx, filters);
  }

  getCapabilities(ctx: RequestContext, host: string): Promise<{ capabilities: Record<string, unknown>; topic: string }> {
    return admin.getCapabilities(this.adminDeps(), ctx, host);
  }

  staleReport(ctx: RequestContext, olderThanS: number): Promise<StaleReport> {
    return admin.staleReport(this.adminDeps(), ctx, olderThanS);
  }

  liveAttachments(volumeId: string): Promise<VolumeAttachment[]> {
    return admin.liveAttachments(this.adminDeps(), volumeId);
  }

  resetStatus(ctx: RequestContext, volumeId: string, update: ResetStatusUpdate): Promise<void> {
    return admin.resetStatus(this.adminDeps(), ctx, volumeId, update);
  }

  private adminDeps(): AdminDeps {
    const { db, rpc, scheduler, log: logger, notifier, serviceDownTime } = this;
    return { db, rpc, scheduler, logger, notifier, serviceDownTime };
  }

  private isVolumeMigrating(volume: Volume): boolean {
    return !(AVAILABLE_MIGRATION_STATUS as readonly (string | null)[]).includes(volume.migration_status);
  }
}
