// cinder/scheduler/rpcapi.py SchedulerAPI, as Cinder 21.3.1 sends it (RPC_API_VERSION 3.12, default
// 3.0), on topic `cinder-scheduler` with no server: any scheduler takes a create. Capability reports
// go out on the fanout, so every scheduler keeps the same view of the backends.
import type { RequestContext } from '../common/context.js';
import type { Volume } from '../objects/volume.js';
import type { RpcClient } from './client.js';
import { WirePrimitive, type OvoPrimitive } from './ovo.js';

export const SCHEDULER_TOPIC = 'cinder-scheduler';
export const SCHEDULER_RPC_API_VERSION = '3.12';

/** PERFECT_TIME_FORMAT as jsonutils.to_primitive renders a datetime: '%Y-%m-%dT%H:%M:%S.%f'. */
export function capabilityTimestamp(d = new Date()): string {
  return `${d.toISOString().slice(0, 23)}000`;
}

export class SchedulerRpcApi {
  constructor(
    private readonly client: RpcClient,
    private readonly opts: { timeoutMs: number },
  ) {}

  /** cast 3.0; backup_id rides along from 3.10 (the cap is never below it here). */
  createVolume(
    ctx: RequestContext,
    volume: Volume,
    requestSpec: OvoPrimitive,
    filterProperties: Record<string, unknown>,
  ): Promise<void> {
    return this.client.cast(
      { topic: SCHEDULER_TOPIC },
      ctx,
      'create_volume',
      { snapshot_id: null, image_id: null, request_spec: requestSpec, filter_properties: filterProperties, volume, backup_id: null },
      { version: '3.0' },
    );
  }

  /**
   * retype, cast 3.0 (the default version): the request spec goes as jsonutils.to_primitive makes
   * it, a plain dict (src/volume-api/retype.ts builds it), beside the Volume object.
   */
  retype(ctx: RequestContext, volume: Volume, requestSpec: Record<string, unknown>, filterProperties: Record<string, unknown> | null = null): Promise<void> {
    return this.client.cast(
      { topic: SCHEDULER_TOPIC },
      ctx,
      'retype',
      // Verbatim: a plain dict, even where it looks like a Volume (volume_properties).
      { request_spec: new WirePrimitive(requestSpec), filter_properties: filterProperties, volume },
      { version: '3.0' },
    );
  }

  /**
   * extend_volume, cast 3.0: the request spec as jsonutils.to_primitive makes it (a plain dict:
   * volume_properties, volume_type, volume_id), the reservations as the API got them.
   */
  extendVolume(
    ctx: RequestContext,
    volume: Volume,
    newSize: number,
    reservations: unknown,
    requestSpec: Record<string, unknown>,
    filterProperties: Record<string, unknown> | null = null,
  ): Promise<void> {
    return this.client.cast(
      { topic: SCHEDULER_TOPIC },
      ctx,
      'extend_volume',
      { volume, new_size: newSize, reservations, request_spec: new WirePrimitive(requestSpec), filter_properties: filterProperties },
      { version: '3.0' },
    );
  }

  /** call 3.0 → [{name, capabilities}]. */
  getPools(ctx: RequestContext, filters: Record<string, unknown> | null = null): Promise<Array<{ name: string; capabilities: Record<string, unknown> }>> {
    return this.client.call({ topic: SCHEDULER_TOPIC }, ctx, 'get_pools', { filters }, { version: '3.0', timeoutMs: this.opts.timeoutMs });
  }

  /** fanout cast 3.3 (with cluster_name and the report's timestamp). */
  updateServiceCapabilities(
    ctx: RequestContext,
    serviceName: string,
    host: string,
    capabilities: Record<string, unknown>,
    clusterName: string | null,
    timestamp = capabilityTimestamp(),
  ): Promise<void> {
    return this.client.fanoutCast(
      SCHEDULER_TOPIC,
      ctx,
      'update_service_capabilities',
      { service_name: serviceName, host, capabilities, cluster_name: clusterName, timestamp },
      { version: '3.3' },
    );
  }

  /** cast 3.5 to one scheduler (`backend` is the service's topic queue, H@B or C@B). */
  notifyServiceCapabilities(
    ctx: RequestContext,
    serviceName: string,
    backend: string,
    capabilities: Record<string, unknown>,
    timestamp = capabilityTimestamp(),
  ): Promise<void> {
    return this.client.cast(
      { topic: SCHEDULER_TOPIC },
      ctx,
      'notify_service_capabilities',
      { service_name: serviceName, capabilities, backend, timestamp },
      { version: '3.5' },
    );
  }
}
