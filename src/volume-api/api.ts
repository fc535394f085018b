// What cinder/volume/api.py does for the attach/detach path: conditional DB updates (one UPDATE …
// WHERE each), Cinder's failure messages, then the RPC to the volume host.
import type { RequestContext } from '../common/context.js';
import type { Connector, Volume, VolumeAttachment } from '../objects/volume.js';
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client.js';
import { dbNow } from '../db/client.js';
import * as dbapi from '../db/api.js';
import { Not } from '../db/api.js';
import { authorize, isAllowed } from '../common/policy.js';
import {
  ConflictNovaUsingAttachment,
  InvalidInput,
  InvalidVolume,
  InvalidVolumeAttachMode,
  VolumeNotFound,
} from '../common/exceptions.js';
import { AVAILABLE_MIGRATION_STATUS } from '../objects/volume.js';
import type { Logger } from '../common/log.js';
import type { VolumeRpcApi } from '../rpc/volume-rpcapi.js';

export interface CreateVolumeRequest {
  size: number;
  name?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
  availability_zone?: string | null;
  bootable?: boolean;
}

export interface VolumeApiSurface {
  /** Project-scoped for non-admins; volume:get policy; VolumeNotFound (404) otherwise. */
  get(ctx: RequestContext, volumeId: string): Volume;
  /** Project-scoped unless an admin passes allTenants. */
  getAll(ctx: RequestContext, opts?: { allTenants?: boolean; limit?: number; marker?: string }): Volume[];
  create(ctx: RequestContext, req: CreateVolumeRequest): Promise<Volume>;
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


const P = 'volume_extension:volume_actions:';

/** utils.build_or_str: 'a or b or c' for a tuple, the value itself for a string. */
function buildOrStr(v: string | readonly string[], fmt?: string): string {
  const s = typeof v === 'string' ? v : v.join(' or ');
  return fmt ? fmt.replace('%s', s) : s;
}

export interface VolumeApiDeps {
  db: Db;
  rpc: VolumeRpcApi;
  logger: Logger;
  /** [keystone_authtoken] service_token_roles (default ['service']). */
  serviceTokenRoles?: string[];
  storageAvailabilityZone?: string;
}

export class VolumeAPI implements VolumeApiSurface {
  private readonly db: Db;
  private readonly rpc: VolumeRpcApi;
  private readonly log: Logger;
  private readonly serviceTokenRoles: string[];
  private readonly az: string;

  constructor(deps: VolumeApiDeps) {
    this.db = deps.db;
    this.rpc = deps.rpc;
    this.log = deps.logger;
    this.serviceTokenRoles = deps.serviceTokenRoles ?? ['service'];
    this.az = deps.storageAvailabilityZone ?? 'nova';
  }

  get(ctx: RequestContext, volumeId: string): Volume {
    const volume = dbapi.volumeGet(this.db, volumeId, { projectId: ctx.is_admin ? undefined : ctx.project_id });
    // A missing volume, another project's volume and a volume:get denial all look the same.
    if (!volume || !isAllowed(ctx, 'volume:get', volume)) throw new VolumeNotFound({ volume_id: volumeId });
    return volume;
  }

  getAll(ctx: RequestContext, opts: { allTenants?: boolean; limit?: number } = {}): Volume[] {
    authorize(ctx, 'volume:get_all');
    const projectId = ctx.is_admin && opts.allTenants ? undefined : ctx.project_id;
    return dbapi.volumeGetAll(this.db, { projectId, limit: opts.limit });
  }

  async create(ctx: RequestContext, req: CreateVolumeRequest): Promise<Volume> {
    authorize(ctx, 'volume:create');
    // Cinder's scheduler picks a backend; with one volume service per backend we take the first
    // live cinder-volume service, and the manager appends the pool (#pool) when it creates the LV.
    const backends = dbapi.servicesUp(this.db, 'cinder-volume');
    const volume = dbapi.volumeCreate(
      this.db,
      {
        id: randomUUID(),
        user_id: ctx.user_id,
        project_id: ctx.project_id,
        size: req.size,
        availability_zone: req.availability_zone ?? this.az,
        status: 'creating',
        attach_status: 'detached',
        display_name: req.name ?? null,
        display_description: req.description ?? null,
        bootable: req.bootable ?? false,
        multiattach: false,
        host: backends[0]?.host ?? null,
        scheduled_at: backends[0] ? dbNow() : null,
        use_quota: true,
      },
      req.metadata ?? {},
    );
    if (!backends[0]) {
      // Scheduler NoValidBackend: the volume goes to error and stays deletable.
      this.log.error({ volume_id: volume.id }, 'No valid backend was found: no cinder-volume service is up');
      dbapi.volumeUpdate(this.db, volume.id, { status: 'error' });
      return volume;
    }
    await this.rpc.createVolume(ctx, volume);
    this.log.info({ volume_id: volume.id, host: volume.host }, 'Create volume request issued successfully.');
    return volume;
  }

  async delete(ctx: RequestContext, volume: Volume, opts: { cascade?: boolean; force?: boolean } = {}): Promise<void> {
    authorize(ctx, 'volume:delete', volume);
    if (opts.force) authorize(ctx, 'volume:force_delete', volume);
    if (!volume.host) {
      // Scheduling never happened: nothing on a backend to clean up.
      dbapi.volumeDestroy(this.db, volume.id);
      this.log.info({ volume_id: volume.id }, 'Delete volume request issued successfully.');
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
    if (!dbapi.volumeConditionalUpdate(this.db, volume.id, values, expected)) {
      const status = opts.force ? '' : buildOrStr(statuses, 'status must be %s and');
      throw new InvalidVolume({
        reason: `Volume ${status} must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.`,
      });
    }
    const refreshed = dbapi.volumeGetOrThrow(this.db, volume.id);
    await this.rpc.deleteVolume(ctx, refreshed);
    this.log.info({ volume_id: volume.id }, 'Delete volume request issued successfully.');
  }

  async reserveVolume(ctx: RequestContext, volume: Volume): Promise<void> {
    authorize(ctx, `${P}reserve`, volume);
    const status = volume.multiattach ? (['available', 'in-use'] as const) : 'available';
    const ok = dbapi.volumeConditionalUpdate(this.db, volume.id, { status: 'attaching' }, {
      multiattach: volume.multiattach ?? false,
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
    const ok = dbapi.volumeConditionalUpdate(
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
    const ok = dbapi.volumeConditionalUpdate(this.db, volume.id, { status: 'detaching' }, {
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
    dbapi.volumeConditionalUpdate(this.db, volume.id, { status: 'in-use' }, { status: 'detaching' });
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
      dbapi.adminMetadataSet(this.db, volume.id, { readonly: 'False' });
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
    this.attachmentDeletionAllowed(ctx, attachmentId, volume);
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
    this.attachmentDeletionAllowed(ctx, null, volume);
    await this.rpc.terminateConnection(ctx, volume, connector as Connector, force);
    this.log.info({ volume_id: volume.id }, 'Terminate volume connection completed successfully.');
    // An 'attaching' volume goes back to in-use/available, as Cinder's API does after the RPC.
    await this.unreserveVolume(ctx, volume);
  }

  /** A request carrying a service token whose roles intersect service_token_roles. */
  isServiceRequest(ctx: RequestContext): boolean {
    return ctx.service_roles.some((r) => this.serviceTokenRoles.includes(r));
  }

  /**
   * attachment_deletion_allowed (bug #2004555 / OSSA-2023-003): refuse, with 409, a user's
   * detach of an attachment a VM may still use. Service requests always pass; attachments with
   * no instance or no connection_info (every legacy os-attach row) always pass.
   */
  attachmentDeletionAllowed(
    ctx: RequestContext,
    attachmentOrId: string | VolumeAttachment | null,
    volume: Volume | null,
  ): void {
    if (this.isServiceRequest(ctx)) return;
    let ref = attachmentOrId;
    if (!ref && volume) {
      if (volume.volume_attachment.length === 0) return;
      if (volume.volume_attachment.length === 1) ref = volume.volume_attachment[0];
    }
    const attachment = typeof ref === 'string' ? dbapi.attachmentGet(this.db, ref) : ref;
    let serverId = '';
    if (attachment) {
      if (volume && volume.id !== attachment.volume_id) {
        throw new InvalidInput({ reason: 'Mismatched volume and attachment' });
      }
      serverId = attachment.instance_uuid ?? '';
      const info = attachment.connection_info;
      if (!serverId || !info || Object.keys(info).length === 0) return;
      // Asking Nova (GET /servers/{id}/os-volume_attachments/{volume}) is not wired yet: without
      // that answer the safe choice is Cinder's "Nova still uses it" outcome.
      this.log.warn(
        { volume_id: attachment.volume_id, attachment_id: attachment.id },
        'Attachment connected to a VM and Nova cannot be asked: refusing the user call',
      );
    }
    this.log.error(
      { volume_id: volume?.id },
      'Detected user call to delete in-use attachment. Call must come from the nova service and nova must be configured to send the service token. Bug #2004555',
    );
    throw new ConflictNovaUsingAttachment({ instance_id: serverId });
  }

  private isVolumeMigrating(volume: Volume): boolean {
    return !(AVAILABLE_MIGRATION_STATUS as readonly (string | null)[]).includes(volume.migration_status);
  }
}
