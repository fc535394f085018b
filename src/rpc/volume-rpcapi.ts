// cinder/volume/rpcapi.py VolumeAPI, as Cinder 21.3.1 sends it (RPC_API_VERSION 3.18, default 3.0).
// Addressing (_get_cctxt): `volume.cluster_name || volume.host` with the #pool stripped gives the
// backend `H@B`; from 3.6 on the target is topic `cinder-volume.H@B`, server `H`, i.e. routing key
// `cinder-volume.H@B.H`. The version cap (minimum rpc_current_version of the cinder-volume
// services) is optional here: with no cap every method goes at the version in the table below,
// which is what a 3.18 deployment does.
import type { RequestContext } from '../common/context.js';
import { ServiceTooOld } from '../common/exceptions.js';
import { extractBackend, type Connector, type Volume, type VolumeAttachment } from '../objects/volume.js';
import type { RpcClient, Target } from './client.js';
import type { OvoPrimitive } from './ovo.js';
import { versionAtLeast } from './version.js';

export const VOLUME_TOPIC = 'cinder-volume';
export const VOLUME_RPC_API_VERSION = '3.18';
export const VOLUME_BASE_RPC_API_VERSION = '3.0';

export interface VolumeRpcApiOptions {
  /** rpc_response_timeout × 1000. */
  timeoutMs: number;
  /** Cap from the services table; null/undefined means no cap. */
  versionCap?: string | null;
}

type Routable = Pick<Volume, 'host' | 'cluster_name'>;
// Connectors are relayed verbatim (the API validates them), hence `Connector | unknown` below.

export class VolumeRpcApi {
  constructor(
    private readonly client: RpcClient,
    private readonly opts: VolumeRpcApiOptions,
  ) {}

  canSendVersion(version: string): boolean {
    const cap = this.opts.versionCap;
    return cap === null || cap === undefined || versionAtLeast(cap, version);
  }

  /** The oslo Target for a volume (its service_topic_queue, pool stripped). */
  target(volume: Routable): Target {
    const queue = volume.cluster_name || volume.host;
    if (!queue) throw new Error('volume has no host or cluster to route an RPC to');
    const backend = extractBackend(queue);
    if (this.canSendVersion('3.6')) return { topic: `${VOLUME_TOPIC}.${backend}`, server: backend.split('@')[0] };
    return { topic: VOLUME_TOPIC, server: backend };
  }

  /** The first version of `versions` the cap allows (_get_cctxt with a version tuple). */
  private pick(...versions: string[]): string {
    return versions.find((v) => this.canSendVersion(v)) ?? versions[versions.length - 1];
  }

  private call<T>(volume: Routable, ctx: RequestContext, method: string, args: Record<string, unknown>, version: string): Promise<T> {
    return this.client.call<T>(this.target(volume), ctx, method, args, { version, timeoutMs: this.opts.timeoutMs });
  }

  private cast(volume: Routable, ctx: RequestContext, method: string, args: Record<string, unknown>, version: string): Promise<void> {
    return this.client.cast(this.target(volume), ctx, method, args, { version });
  }

  private requireAttachmentApi(method: string): void {
    if (!this.canSendVersion('3.9')) {
      throw new ServiceTooOld(
        {},
        `One of cinder-volume services is too old to accept ${method} request. Required RPC API version is 3.9. Are you running mixed versions of cinder-volumes?`,
      );
    }
  }

  /** call 3.16 (3.0 without no_snapshots) accept_transfer → the driver's model update or null (volume/rpcapi.py). */
  acceptTransfer(ctx: RequestContext, volume: Volume, newUser: string | null, newProject: string | null, noSnapshots: boolean): Promise<unknown> {
    const version = this.pick('3.16', '3.0');
    const args: Record<string, unknown> = { volume_id: volume.id, new_user: newUser, new_project: newProject };
    if (version === '3.16') args.no_snapshots = noSnapshots;
    return this.call(volume, ctx, 'accept_transfer', args, version);
  }

  /** call 3.0 → connection_info dict. */
  initializeConnection(ctx: RequestContext, volume: Volume, connector: Connector | unknown): Promise<Record<string, unknown>> {
    return this.call(volume, ctx, 'initialize_connection', { connector, volume }, '3.0');
  }

  /** call 3.0 → null. */
  async terminateConnection(ctx: RequestContext, volume: Volume, connector: Connector | unknown, force = false): Promise<void> {
    await this.call(volume, ctx, 'terminate_connection', { volume_id: volume.id, connector, force }, '3.0');
  }

  /** call 3.3 (3.0 without `volume` under a lower cap) → the VolumeAttachment. */
  attachVolume(
    ctx: RequestContext,
    volume: Volume,
    instanceUuid: string | null,
    hostName: string | null,
    mountpoint: string,
    mode: string,
  ): Promise<VolumeAttachment> {
    const version = this.pick('3.3', '3.0');
    const args: Record<string, unknown> = {
      volume_id: volume.id,
      instance_uuid: instanceUuid,
      host_name: hostName,
      mountpoint,
      mode,
      volume,
    };
    if (version !== '3.3') delete args.volume;
    return this.call(volume, ctx, 'attach_volume', args, version);
  }

  /** call 3.4 (3.0 without `volume` under a lower cap) → null. */
  async detachVolume(ctx: RequestContext, volume: Volume, attachmentId: string | null): Promise<void> {
    const version = this.pick('3.4', '3.0');
    const args: Record<string, unknown> = { volume_id: volume.id, attachment_id: attachmentId, volume };
    if (version !== '3.4') delete args.volume;
    await this.call(volume, ctx, 'detach_volume', args, version);
  }

  /** cast 3.0, or call when `sync`. */
  async removeExport(ctx: RequestContext, volume: Volume, sync = false): Promise<void> {
    const args = { volume_id: volume.id };
    if (sync) await this.call(volume, ctx, 'remove_export', args, '3.0');
    else await this.cast(volume, ctx, 'remove_export', args, '3.0');
  }

  /** cast 3.0 (the scheduler's, to the backend it chose): the RequestSpec object travels on. */
  createVolume(
    ctx: RequestContext,
    volume: Volume,
    requestSpec: OvoPrimitive | Record<string, unknown> = {},
    filterProperties: Record<string, unknown> = {},
    allowReschedule = true,
  ): Promise<void> {
    return this.cast(
      volume,
      ctx,
      'create_volume',
      { request_spec: requestSpec, filter_properties: filterProperties, allow_reschedule: allowReschedule, volume },
      '3.0',
    );
  }

  /** cast 3.0. */
  deleteVolume(ctx: RequestContext, volume: Volume, unmanageOnly = false, cascade = false): Promise<void> {
    return this.cast(volume, ctx, 'delete_volume', { volume, unmanage_only: unmanageOnly, cascade }, '3.0');
  }

  /** call 3.9 → connection_info dict. */
  async attachmentUpdate(ctx: RequestContext, vref: Volume, connector: Connector | unknown, attachmentId: string): Promise<Record<string, unknown>> {
    this.requireAttachmentApi('attachment_update');
    return this.call(vref, ctx, 'attachment_update', { vref, connector, attachment_id: attachmentId }, '3.9');
  }

  /** call 3.9 → null. */
  async attachmentDelete(ctx: RequestContext, attachmentId: string, vref: Volume): Promise<void> {
    this.requireAttachmentApi('attachment_delete');
    await this.call(vref, ctx, 'attachment_delete', { attachment_id: attachmentId, vref }, '3.9');
  }

  /** extend_volume, cast 3.0 to the volume's service_topic_queue (reservations relayed as given). */
  extendVolume(ctx: RequestContext, volume: Volume, newSize: number, reservations: string[] | null): Promise<void> {
    return this.cast(volume, ctx, 'extend_volume', { volume, new_size: newSize, reservations }, '3.0');
  }

  /**
   * retype, cast 3.5 to the volume's service_topic_queue: `host` is the backend the scheduler chose
   * ({host, cluster_name, capabilities}); under a cap below 3.5, 3.0 without cluster_name.
   */
  retype(
    ctx: RequestContext,
    volume: Volume,
    newTypeId: string,
    destBackend: { host: string; cluster_name?: string | null; capabilities: Record<string, unknown> },
    migrationPolicy = 'never',
    reservations: unknown = null,
    oldReservations: unknown = null,
  ): Promise<void> {
    const host: Record<string, unknown> = {
      host: destBackend.host,
      cluster_name: destBackend.cluster_name ?? null,
      capabilities: destBackend.capabilities,
    };
    let version = '3.5';
    if (!this.canSendVersion(version)) {
      version = '3.0';
      delete host.cluster_name;
    }
    return this.cast(
      volume,
      ctx,
      'retype',
      { volume, new_type_id: newTypeId, host, migration_policy: migrationPolicy, reservations, old_reservations: oldReservations },
      version,
    );
  }

  /** call 3.0 to the backend `backendId` (a service_topic_queue) → the driver's capabilities. */
  getCapabilities(ctx: RequestContext, backendId: string, discover: boolean): Promise<Record<string, unknown>> {
    return this.call({ host: backendId, cluster_name: null }, ctx, 'get_capabilities', { discover }, '3.0');
  }

  /** fanout cast 3.0 to every cinder-volume (fixture 09). */
  publishServiceCapabilities(ctx: RequestContext): Promise<void> {
    return this.client.fanoutCast(VOLUME_TOPIC, ctx, 'publish_service_capabilities', {}, { version: '3.0' });
  }
}
