// What a cinder-volume tells the schedulers about its backend (cinder/volume/manager.py
// _report_driver_status, _append_volume_stats, _count_allocated_capacity, _update_allocated_capacity,
// and cinder/manager.py SchedulerDependentManager._publish_service_capabilities): the driver's
// stats, each pool with the allocated capacity this manager counts, sent on the scheduler fanout
// every backend_stats_polling_interval and whenever a scheduler asks (publish_service_capabilities).
import { adminContext, type RequestContext } from '../common/context.js';
import type { Logger } from '../common/log.js';
import type { SchedulerRpcApi } from '../rpc/scheduler-rpcapi.js';
import type { Volume } from '../objects/volume.js';

/** The driver's part (cinder/volume/driver.py get_volume_stats). */
export interface StatsDriver {
  initialized: boolean;
  getVolumeStats(refresh: boolean): Promise<object | null>;
}

/** Protocols whose pools are reported `cacheable` unless the driver says otherwise (constants.CACHEABLE_PROTOCOLS). */
const CACHEABLE_PROTOCOLS = ['FC', 'iSCSI', 'NVMeOF'];

/** volume_utils.extract_host(host, 'pool'): the part after '#', or null. */
function poolOf(host: string | null): string | null {
  const i = host?.indexOf('#') ?? -1;
  return i >= 0 ? host!.slice(i + 1) : null;
}

export class CapabilityReporter {
  /** self.stats['pools']: pool name → allocated_capacity_gb. */
  private readonly allocated = new Map<string, number>();
  private lastCapabilities: Record<string, unknown> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly d: {
      driver: StatsDriver;
      scheduler: SchedulerRpcApi;
      /** H@B, as the service registers. */
      host: string;
      /** The pool for volumes whose host carries none (volume_backend_name). */
      defaultPool: string;
      cluster: string | null;
      logger: Logger;
    },
  ) {}

  /** _count_allocated_capacity over this backend's volumes at start-up (every volume, whatever its status). */
  countAllocated(volumes: Pick<Volume, 'host' | 'size'>[]): void {
    this.allocated.clear();
    for (const v of volumes) this.add(v.host, v.size);
  }

  /** _update_allocated_capacity: a create adds its size, a delete takes it back. */
  add(host: string | null, sizeGb: number | null): void {
    const pool = poolOf(host) ?? this.d.defaultPool;
    this.allocated.set(pool, (this.allocated.get(pool) ?? 0) + (sizeGb ?? 0));
  }

  /** _report_driver_status: poll the driver and keep the report to publish. */
  async reportDriverStatus(): Promise<void> {
    if (!this.d.driver.initialized) {
      this.d.logger.warn('Update driver status failed: (config name lvm) is uninitialized.');
      return;
    }
    const fresh = (await this.d.driver.getVolumeStats(true)) as Record<string, unknown> | null;
    const stats = fresh ? structuredClone(fresh) : null;
    if (!stats || Object.keys(stats).length === 0) return;
    this.appendVolumeStats(stats);
    const pools = Array.isArray(stats.pools) ? (stats.pools as Record<string, unknown>[]) : null;
    if (CACHEABLE_PROTOCOLS.includes(String(stats.storage_protocol))) {
      for (const p of pools ?? [stats]) if (p.cacheable === undefined || p.cacheable === null) p.cacheable = true;
    }
    // _append_filter_goodness_functions: None unless the driver set one.
    if (!('filter_function' in stats)) stats.filter_function = null;
    if (!('goodness_function' in stats)) stats.goodness_function = null;
    this.lastCapabilities = stats;
  }

  /** _append_volume_stats: each reported pool gets the allocated capacity counted here. */
  private appendVolumeStats(stats: Record<string, unknown>): void {
    if (Array.isArray(stats.pools)) {
      for (const p of stats.pools as Record<string, unknown>[]) {
        p.allocated_capacity_gb = this.allocated.get(String(p.pool_name)) ?? 0;
      }
    } else {
      stats.allocated_capacity_gb = this.allocated.size ? [...this.allocated.values()][0] : 0;
    }
  }

  /** _publish_service_capabilities: the fanout to every scheduler, then the notify cast. */
  async publish(ctx: RequestContext = adminContext()): Promise<void> {
    if (!this.lastCapabilities) return;
    await this.d.scheduler.updateServiceCapabilities(ctx, 'volume', this.d.host, this.lastCapabilities, this.d.cluster);
    await this.d.scheduler.notifyServiceCapabilities(ctx, 'volume', this.d.cluster ?? this.d.host, this.lastCapabilities);
  }

  /** publish_service_capabilities (the periodic task, and the RPC the schedulers fanout at start). */
  async publishServiceCapabilities(ctx?: RequestContext): Promise<void> {
    try {
      await this.reportDriverStatus();
      await this.publish(ctx);
    } catch (e) {
      this.d.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'Error during VolumeManager.publish_service_capabilities');
    }
  }

  start(intervalS: number): void {
    this.timer = setInterval(() => void this.publishServiceCapabilities(), intervalS * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
