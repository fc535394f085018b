// The backend filters of cinder/scheduler/filters/ that a default deployment enables, the capacity
// arithmetic they share with the weighers (cinder/utils.py calculate_capacity_factors), and the
// filter handler (cinder/scheduler/base_filter.py get_filtered_objects) with its log lines.
import type { Logger } from '../common/log.js';
import { match, pyEquals } from './extra-specs-ops.js';
import type { BackendState } from './host-manager.js';
import { truthy, type Capabilities, type FilterProperties } from './types.js';

/** Python round(x, 2): nearest, ties (exactly representable ones) to even. */
export function pyRound2(x: number): number {
  if (!Number.isFinite(x)) return x;
  // An exact tie k + 0.5 hundredths is a multiple of 1/8 (200 = 8 * 25), so 8x and 100x are exact.
  const scaled = x * 100;
  if (Number.isInteger(x * 8) && !Number.isInteger(scaled)) {
    const lo = Math.floor(scaled);
    return (lo % 2 === 0 ? lo : lo + 1) / 100;
  }
  // toFixed rounds the exact binary value, as Python does for the non-tie case.
  return Number(x.toFixed(2));
}

export interface CapacityFactors {
  total_capacity: number;
  free_capacity: number;
  reserved_capacity: number;
  total_reserved_available_capacity: number;
  max_over_subscription_ratio: number | null;
  total_available_capacity: number;
  provisioned_capacity: number;
  calculated_free_capacity: number;
  virtual_free_capacity: number;
  free_percent: number;
  provisioned_ratio: number;
  provisioned_type: 'thin' | 'thick';
}

/**
 * cinder/utils.py calculate_capacity_factors: reserved space is floor(total * reserved%); a thin
 * request on a thin-capable pool may use (total - reserved) * ratio minus what is provisioned; a
 * thick one may use the lesser of the reported free space and (total - reserved - provisioned).
 */
export function calculateCapacityFactors(
  totalCapacity: number,
  freeCapacity: number,
  provisionedCapacity: number,
  thinProvisioningSupport: boolean,
  maxOverSubscriptionRatio: number,
  reservedPercentage: number,
  thin: boolean,
): CapacityFactors {
  const total = Number(totalCapacity);
  const reserved = Number(reservedPercentage) / 100;
  const reservedCapacity = Math.floor(total * reserved);
  const totalReservedAvailable = total - reservedCapacity;
  const isThin = thin && thinProvisioningSupport;
  const totalAvailable = isThin ? totalReservedAvailable * maxOverSubscriptionRatio : totalReservedAvailable;
  const calculatedFree = totalAvailable - provisionedCapacity;
  let virtualFree = calculatedFree;
  if (!isThin && freeCapacity < calculatedFree) virtualFree = freeCapacity;
  const provisionedRatio = totalAvailable ? provisionedCapacity / totalAvailable : 0;
  const freePercent = totalAvailable ? (virtualFree / totalAvailable) * 100 : 0;
  return {
    total_capacity: total,
    free_capacity: freeCapacity,
    reserved_capacity: reservedCapacity,
    total_reserved_available_capacity: pyRound2(totalReservedAvailable),
    max_over_subscription_ratio: isThin ? maxOverSubscriptionRatio : null,
    total_available_capacity: pyRound2(totalAvailable),
    provisioned_capacity: provisionedCapacity,
    calculated_free_capacity: pyRound2(calculatedFree),
    virtual_free_capacity: pyRound2(virtualFree),
    free_percent: pyRound2(freePercent),
    provisioned_ratio: pyRound2(provisionedRatio),
    provisioned_type: isThin ? 'thin' : 'thick',
  };
}

/** cinder/utils.py calculate_virtual_free_capacity. */
export function calculateVirtualFreeCapacity(
  total: number, free: number, provisioned: number, thinSupport: boolean, ratio: number, reservedPct: number, thin: boolean,
): number {
  return calculateCapacityFactors(total, free, provisioned, thinSupport, ratio, reservedPct, thin).virtual_free_capacity;
}

/** utils.calculate_max_over_subscription_ratio ('auto' derives it from what is already provisioned). */
export function calculateMaxOverSubscriptionRatio(cap: Capabilities, globalRatio: string | number, log?: Logger): number {
  const allocated = (cap.allocated_capacity_gb ?? 0) as number;
  const provisioned = (cap.provisioned_capacity_gb ?? allocated) as number;
  const total = cap.total_capacity_gb ?? 0;
  const free = cap.free_capacity_gb ?? 0;
  // Without thin support, or with infinite/unknown capacities, the filters never use the ratio.
  if (!cap.thin_provisioning_support) return 1.0;
  if (['infinite', 'unknown'].includes(total as string) || ['infinite', 'unknown'].includes(free as string)) return 1.0;
  const ratio = truthy(cap.max_over_subscription_ratio) ? cap.max_over_subscription_ratio : globalRatio;
  if (ratio !== 'auto') return Number(ratio);
  const poolName = cap.pool_name ?? cap.volume_backend_name;
  // utils.INITIAL_AUTO_MOSR when nothing is provisioned yet.
  const value = provisioned !== 0 ? 1 + provisioned / ((total as number) - (free as number) + 1) : 20;
  log?.info(`Auto max_over_subscription_ratio for pool ${poolName} is ${value}`);
  return value;
}

/** One capacity.pool / capacity.backend notification payload (HostManager._get_usage). */
export interface CapacityUsage {
  type: 'pool' | 'backend';
  name_to_id: string;
  total: number;
  free: number;
  allocated: number;
  provisioned: number;
  virtual_free: number;
  reported_at: string;
}

/**
 * _get_usage: per changed pool, and summed for the backend over every pool with known capacities.
 * (Cinder also appends an empty entry for a changed pool whose capacity is unknown; it is left out.)
 */
export function getUsage(capabilities: Capabilities, updatedPools: Capabilities[], host: string, ts: string, globalRatio: string | number): CapacityUsage[] {
  const pools = capabilities.pools;
  if (!Array.isArray(pools) || !pools.length) return [];
  const usage: CapacityUsage[] = [];
  const backend: CapacityUsage = { type: 'backend', name_to_id: host, total: 0, free: 0, allocated: 0, provisioned: 0, virtual_free: 0, reported_at: ts };
  for (const pool of pools as Capabilities[]) {
    const total = pool.total_capacity_gb;
    const free = pool.free_capacity_gb;
    let poolUsage: CapacityUsage | null = null;
    if (![total, free].some((v) => v === 'unknown' || v === 'infinite' || v === null || v === undefined)) {
      const support = Boolean(pool.thin_provisioning_support);
      const ratio = calculateMaxOverSubscriptionRatio(pool, globalRatio);
      const virtualFree = calculateVirtualFreeCapacity(
        total as number, free as number, pool.provisioned_capacity_gb as number, support, ratio, pool.reserved_percentage as number, support,
      );
      poolUsage = {
        type: 'pool', name_to_id: `${host}#${pool.pool_name}`, total: Number(total), free: Number(free),
        allocated: Number(pool.allocated_capacity_gb), provisioned: Number(pool.provisioned_capacity_gb), virtual_free: virtualFree, reported_at: ts,
      };
      for (const k of ['total', 'free', 'allocated', 'provisioned', 'virtual_free'] as const) backend[k] += poolUsage[k];
    }
    if (poolUsage && updatedPools.some((u) => pyEquals(u, pool))) usage.push(poolUsage);
  }
  usage.push(backend);
  return usage;
}

/** Whether the volume type asks for thin provisioning (anything but 'provisioning:type' = 'thick'). */
export function requestIsThin(props: { volume_type?: unknown }): boolean {
  const vt = (props.volume_type ?? {}) as { extra_specs?: Record<string, unknown> | null };
  return (vt.extra_specs ?? {})['provisioning:type'] !== 'thick';
}

export interface BackendFilter {
  readonly name: string;
  /** base_filter.BaseFilter.run_filter_once_per_request. */
  readonly runFilterOncePerRequest: boolean;
  backendPasses(backend: BackendState, props: FilterProperties): boolean;
}

/** filters/availability_zone_filter.py: the request's zone list, or its one zone, if any. */
export class AvailabilityZoneFilter implements BackendFilter {
  readonly name = 'AvailabilityZoneFilter';
  readonly runFilterOncePerRequest = true;
  backendPasses(backend: BackendState, props: FilterProperties): boolean {
    const spec = props.request_spec ?? {};
    const zone = backend.service.availability_zone;
    if (spec.availability_zones && spec.availability_zones.length) return spec.availability_zones.includes(zone as string);
    const az = (spec.resource_properties ?? {}).availability_zone;
    return az ? az === zone : true;
  }
}

/** filters/capacity_filter.py. */
export class CapacityFilter implements BackendFilter {
  readonly name = 'CapacityFilter';
  readonly runFilterOncePerRequest = false;
  constructor(private readonly log?: Logger) {}

  backendPasses(b: BackendState, props: FilterProperties): boolean {
    const log = this.log;
    // A retype re-checks the backend the volume already occupies: its space is already counted.
    if (b.backendId === props.vol_exists_on) return true;
    const volid = props.request_spec?.volume_id ?? null;
    const grouping = b.cluster_name ? 'cluster' : 'host';
    const where = `${grouping} ${b.backendId}`;
    let requested: number;
    if (props.new_size) {
      requested = Math.trunc(Number(props.new_size)) - Math.trunc(Number(props.size));
      log?.debug(`Checking if ${where} can extend the volume ${volid} in ${requested} GB`);
    } else {
      requested = props.size as number;
      log?.debug(`Checking if ${where} can create a ${requested} GB volume (${volid})`);
    }
    // A size of 0 is a manage request: nothing new is allocated.
    if (requested === 0) return true;
    if (b.free_capacity_gb === null || b.free_capacity_gb === undefined) {
      log?.error('Free capacity not set: volume node info collection broken.');
      return false;
    }
    const free = b.free_capacity_gb;
    const totalSpace = b.total_capacity_gb;
    const reserved = Number(b.reserved_percentage) / 100;
    // Backends that cannot tell their free space are trusted; a reschedule covers a wrong guess.
    if (free === 'infinite' || free === 'unknown') return true;
    if (totalSpace === 'infinite' || totalSpace === 'unknown') {
      if (reserved === 0) return true;
      log?.debug(`Cannot calculate GB of reserved space (${b.reserved_percentage}%) with backend's reported total capacity '${totalSpace}'`);
      return false;
    }
    const total = Number(totalSpace);
    if (total <= 0) {
      log?.warn(`Insufficient free space for volume creation. Total capacity is ${total.toFixed(2)} on ${where}.`);
      return false;
    }
    const thin = requestIsThin(props);
    const thinSupport = b.thin_provisioning_support;
    const ratio = thinSupport ? b.max_over_subscription_ratio : 1;
    const factors = calculateCapacityFactors(total, free, b.provisioned_capacity_gb, thinSupport, ratio, b.reserved_percentage, thin);
    const virtualFree = factors.virtual_free_capacity;
    log?.debug({ factors }, 'Storage Capacity factors');
    const space = `on ${where} (requested / avail): ${requested}/${virtualFree}`;

    if (thin && thinSupport && b.max_over_subscription_ratio >= 1) {
      const provisionedRatio = (b.provisioned_capacity_gb + requested) / factors.total_available_capacity;
      log?.debug(`Checking provisioning for request of ${requested} GB. Backend: ${b.toString()}`);
      if (provisionedRatio > b.max_over_subscription_ratio) {
        log?.warn(
          `Insufficient free space for thin provisioning. The ratio of provisioned capacity over total capacity ` +
            `${provisionedRatio.toFixed(2)} has exceeded the maximum over subscription ratio ` +
            `${b.max_over_subscription_ratio.toFixed(2)} on ${where}.`,
        );
        return false;
      }
      // Within the ratio: the pool takes it if the over-subscribable free space is enough.
      const res = virtualFree >= requested;
      if (!res) log?.warn(`Insufficient free virtual space (${virtualFree}GB) to accommodate thin provisioned ${requested}GB volume on ${where}.`);
      else log?.debug(`Space information for volume creation ${space}`);
      return res;
    } else if (thin && thinSupport) {
      log?.warn(
        `Filtering out ${where} with an invalid maximum over subscription ratio of ` +
          `${b.max_over_subscription_ratio.toFixed(2)}. The ratio should be a minimum of 1.0.`,
      );
      return false;
    }
    if (virtualFree < requested) {
      log?.warn(`Insufficient free space for volume creation ${space}`);
      return false;
    }
    log?.debug(`Space information for volume creation ${space}`);
    return true;
  }
}

/** filters/capabilities_filter.py: the type's extra specs against the pool's capabilities. */
export class CapabilitiesFilter implements BackendFilter {
  readonly name = 'CapabilitiesFilter';
  readonly runFilterOncePerRequest = false;
  constructor(private readonly log?: Logger) {}

  private satisfies(capabilities: Record<string, unknown>, props: FilterProperties): boolean {
    const spec = props.request_spec;
    if (spec && spec.operation === 'extend_volume') {
      // Online extend is assumed unless the backend reports online_extend_support = False.
      if ((capabilities.online_extend_support ?? true) === false) {
        if ((spec.volume_properties ?? {}).attach_status !== 'detached') {
          this.log?.debug("Backend doesn't support attached volume extend");
          return false;
        }
      }
    }
    const extraSpecs = props.resource_type?.extra_specs;
    if (!extraSpecs || Object.keys(extraSpecs).length === 0) return true;
    for (const [key, req] of Object.entries(extraSpecs)) {
      const scope = key.split(':');
      // Scoped keys other than 'capabilities:' belong to someone else (e.g. a vendor).
      if (scope.length > 1 && scope[0] !== 'capabilities') continue;
      if (scope[0] === 'capabilities') scope.shift();
      let cap: unknown = capabilities;
      for (const part of scope) {
        if (cap === null || typeof cap !== 'object' || Array.isArray(cap) || !Object.prototype.hasOwnProperty.call(cap, part)) {
          this.log?.debug(`Backend doesn't provide capability '${part}' `);
          return false;
        }
        cap = (cap as Record<string, unknown>)[part];
      }
      // A list capability matches when any of its values does.
      const values = Array.isArray(cap) ? cap : [cap];
      if (!values.some((v) => match(v, req))) {
        this.log?.debug(`Volume type extra spec requirement "${key}=${req}" does not match reported capability "${JSON.stringify(cap)}"`);
        return false;
      }
    }
    return true;
  }

  backendPasses(b: BackendState, props: FilterProperties): boolean {
    if (!this.satisfies(b.capabilities, props)) {
      this.log?.debug(`${b.toString()} fails resource_type extra_specs requirements`);
      return false;
    }
    return true;
  }
}

/** filters/ignore_attempted_hosts_filter.py (not in the default list; enable it by name). */
export class IgnoreAttemptedHostsFilter implements BackendFilter {
  readonly name = 'IgnoreAttemptedHostsFilter';
  readonly runFilterOncePerRequest = false;
  constructor(private readonly log?: Logger) {}
  backendPasses(b: BackendState, props: FilterProperties): boolean {
    const retry = props.retry;
    if (!retry) {
      this.log?.debug('Re-scheduling is disabled.');
      return true;
    }
    const backends = retry.backends ?? retry.hosts ?? [];
    const passes = !backends.includes(b.backendId);
    this.log?.debug(`Backend ${b.backendId} ${passes ? 'passes' : 'fails'}.  Previously tried backends: ${JSON.stringify(backends)}`);
    return passes;
  }
}

const FILTER_CLASSES: Record<string, new (log?: Logger) => BackendFilter> = {
  AvailabilityZoneFilter,
  CapacityFilter,
  CapabilitiesFilter,
  IgnoreAttemptedHostsFilter,
};

/**
 * host_manager._choose_backend_filters: filter names from config to instances. An unknown name is
 * Cinder's SchedulerHostFilterNotFound (the scheduler does not start); it is a plain Error here.
 */
export function chooseBackendFilters(names: string[], log?: Logger): BackendFilter[] {
  const bad = names.filter((n) => !(n in FILTER_CLASSES));
  if (bad.length) throw new Error(`Scheduler Host Filter ${bad.join(', ')} could not be found.`);
  return names.map((n) => new FILTER_CLASSES[n](log));
}

/** base_filter.BaseFilterHandler.get_filtered_objects, with its debug / info trail. */
export function getFilteredObjects(
  filters: BackendFilter[], objs: Iterable<BackendState>, props: FilterProperties, log?: Logger, index = 0,
): BackendState[] {
  let list = [...objs];
  log?.debug(`Starting with ${list.length} host(s)`);
  const part: Array<[string, number, number]> = [];
  const full: Array<[string, string[]]> = [];
  for (const f of filters) {
    if (f.runFilterOncePerRequest && index > 0) continue;
    const start = list.length;
    list = list.filter((o) => f.backendPasses(o, props));
    part.push([f.name, start, list.length]);
    full.push([f.name, list.map((o) => o.host)]);
    log?.debug(`Filter ${f.name} returned ${list.length} host(s)`);
  }
  if (!list.length) {
    const volId = props.request_spec?.volume_id ?? '';
    log?.debug(`Filtering removed all hosts for the request with volume ID '${volId}'. Filter results: ${JSON.stringify(full)}`);
    const summary = part.map(([n, s, e]) => `${n}: (start: ${s}, end: ${e})`).join(', ');
    log?.info(`Filtering removed all hosts for the request with volume ID '${volId}'. Filter results: ${summary}`);
  }
  return list;
}
