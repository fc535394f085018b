// cinder/scheduler/host_manager.py: the scheduler's cache of what each volume backend last reported
// (service_states), turned into BackendState / PoolState objects for the up, enabled services the
// caller read from the DB. Cinder reads the services table itself; here the caller passes them in.
import type { Logger } from '../common/log.js';
import { pyRepr } from '../common/python.js';
import { equalAfterConvert, pyEquals } from './extra-specs-ops.js';
import {
  calculateMaxOverSubscriptionRatio, chooseBackendFilters, getFilteredObjects, getUsage, type BackendFilter, type CapacityUsage,
} from './filters.js';
import {
  appendHost, DEFAULT_SCHEDULER_OPTIONS, extractHost, nowTimestamp, storageProtocolVariants, toTimestamp, truthy,
  type Capabilities, type Capacity, type SchedulerOptions, type ServiceInfo, type VolumeTypeSpec,
} from './types.js';

export { appendHost, extractHost, toTimestamp };
export type { CapacityUsage };

// HostManager.REQUIRED_KEYS: a pool report lacking any of these is not used for notifications.
const REQUIRED_KEYS = [
  'pool_name', 'total_capacity_gb', 'free_capacity_gb', 'allocated_capacity_gb', 'provisioned_capacity_gb',
  'thin_provisioning_support', 'thick_provisioning_support', 'max_over_subscription_ratio', 'reserved_percentage',
];

/** _get_updated_pools: the well-formed pools of `next` whose capacity figures differ from `prev`. */
export function getUpdatedPools(prev: Capabilities, next: Capabilities, log?: Logger): Capabilities[] {
  const newPools = next.pools ?? [];
  if (!truthy(newPools)) return [];
  if (!Array.isArray(newPools)) {
    log?.debug('The reported capabilities are not well structured...');
    return [];
  }
  if (!newPools.every((p) => REQUIRED_KEYS.every((k) => k in (p as Capabilities)))) return [];
  const oldPools = prev.pools ?? [];
  if (!truthy(oldPools)) return newPools as Capabilities[];
  const oldByName = new Map((oldPools as Capabilities[]).map((p) => [p.pool_name as string, p]));
  const byName = new Map((newPools as Capabilities[]).map((p) => [p.pool_name as string, p]));
  return [...byName.values()].filter((p) => {
    const o = oldByName.get(p.pool_name as string);
    return !o || REQUIRED_KEYS.some((k) => !pyEquals(p[k], o[k]));
  });
}

/** What a BackendState needs from its HostManager. */
export interface StateContext {
  log?: Logger;
  maxOverSubscriptionRatio: string | number;
}

/** host_manager.BackendState: one backend (host@backend or cluster) and its pools. */
export class BackendState {
  capabilities: Capabilities = {};
  service: Record<string, unknown> = {};
  volume_backend_name: string | null = null;
  vendor_name: string | null = null;
  driver_version: unknown = 0;
  storage_protocol: unknown = null;
  QoS_support: unknown = false;
  total_capacity_gb: Capacity = 0;
  allocated_capacity_gb = 0;
  free_capacity_gb: Capacity | null = null;
  reserved_percentage = 0;
  provisioned_capacity_gb = 0;
  max_over_subscription_ratio = 1.0;
  thin_provisioning_support = false;
  thick_provisioning_support = false;
  multiattach = false;
  filter_function: unknown = null;
  goodness_function: unknown = 0;
  pools = new Map<string, PoolState>();
  updated: string | null = null;

  constructor(
    public host: string,
    public cluster_name: string | null,
    capabilities: Capabilities | null = null,
    service: Record<string, unknown> | null = null,
    protected readonly ctx: StateContext = { maxOverSubscriptionRatio: DEFAULT_SCHEDULER_OPTIONS.max_over_subscription_ratio },
  ) {
    this.updateCapabilities(capabilities, service);
  }

  /** The name volumes are scheduled to: the cluster when clustered, else the host. */
  get backendId(): string {
    return this.cluster_name || this.host;
  }

  updateCapabilities(capabilities: Capabilities | null = null, service: Record<string, unknown> | null = null): void {
    this.capabilities = { ...(capabilities ?? {}) };
    this.service = { ...(service ?? {}) };
  }

  /** update_from_volume_capability: backend-level facts, then its pools. Older reports are ignored. */
  updateFromVolumeCapability(capability: Capabilities, service: Record<string, unknown> | null = null): void {
    this.updateCapabilities(capability, service);
    if (!truthy(capability)) return;
    if (this.updated && this.updated > (capability.timestamp as string)) return;
    this.updateBackend(capability);
    this.updatePools(capability, service);
  }

  protected updateBackend(capability: Capabilities): void {
    this.volume_backend_name = (capability.volume_backend_name ?? null) as string | null;
    this.vendor_name = (capability.vendor_name ?? null) as string | null;
    this.driver_version = capability.driver_version ?? null;
    this.storage_protocol = storageProtocolVariants(capability.storage_protocol);
    // Cinder writes the widened protocol back into the report it keeps.
    if ('storage_protocol' in capability) capability.storage_protocol = this.storage_protocol;
    this.updated = (capability.timestamp ?? null) as string | null;
  }

  protected updatePools(capability: Capabilities, service: Record<string, unknown> | null): void {
    const pools = capability.pools;
    const active = new Set<string>();
    if (Array.isArray(pools) && pools.length) {
      for (const poolCap of pools as Capabilities[]) {
        const name = poolCap.pool_name as string;
        this.appendBackendInfo(poolCap);
        let cur = this.pools.get(name);
        if (!cur) {
          cur = new PoolState(this.host, this.cluster_name, poolCap, name, this.ctx);
          this.pools.set(name, cur);
        }
        cur.updateFromVolumeCapability(poolCap, service);
        active.add(name);
      }
    } else if (pools === undefined || pools === null) {
      // A driver that reports no pools gets one, named after its backend (or _pool0).
      const name = this.volume_backend_name ?? (extractHost(this.host, 'pool', true) as string);
      let single = this.pools.get(name);
      if (!single) {
        single = new PoolState(this.host, this.cluster_name, capability, name, this.ctx);
        this.appendBackendInfo(capability);
        this.pools.set(name, single);
      }
      single.updateFromVolumeCapability(capability, service);
      active.add(name);
    }
    for (const name of [...this.pools.keys()]) {
      if (active.has(name)) continue;
      this.ctx.log?.debug(`Removing non-active pool ${name} @ ${this.host} from scheduler cache.`);
      this.pools.delete(name);
    }
  }

  /** _append_backend_info: backend-level facts a pool report leaves out are copied into it. */
  appendBackendInfo(poolCap: Capabilities): void {
    if (!truthy(poolCap.volume_backend_name)) poolCap.volume_backend_name = this.volume_backend_name;
    const protocol = poolCap.storage_protocol;
    poolCap.storage_protocol = truthy(protocol) ? storageProtocolVariants(protocol) : this.storage_protocol;
    if (!truthy(poolCap.vendor_name)) poolCap.vendor_name = this.vendor_name;
    if (!truthy(poolCap.driver_version)) poolCap.driver_version = this.driver_version;
    if (!truthy(poolCap.timestamp)) poolCap.timestamp = this.updated;
    for (const k of ['filter_function', 'goodness_function']) {
      if (!(k in poolCap) && k in this.capabilities) poolCap[k] = this.capabilities[k];
    }
  }

  /** consume_from_volume: count a just-placed volume until the backend's next report. */
  consumeFromVolume(volume: { size: number }, updateTime = true): void {
    this.allocated_capacity_gb += volume.size;
    this.provisioned_capacity_gb += volume.size;
    if (typeof this.free_capacity_gb === 'number') this.free_capacity_gb -= volume.size;
    if (updateTime) this.updated = nowTimestamp();
    this.ctx.log?.debug(`Consumed ${volume.size} GB from backend: ${this.toString()}`);
  }

  toString(): string {
    const grouping = this.cluster_name ? 'cluster' : 'host';
    const s = (v: unknown) => (typeof v === 'string' ? v : pyRepr(v));
    return (
      `${grouping} '${this.backendId}': free_capacity_gb: ${s(this.free_capacity_gb)}, total_capacity_gb: ${s(this.total_capacity_gb)}, ` +
      `allocated_capacity_gb: ${s(this.allocated_capacity_gb)}, max_over_subscription_ratio: ${s(this.max_over_subscription_ratio)}, ` +
      `reserved_percentage: ${s(this.reserved_percentage)}, provisioned_capacity_gb: ${s(this.provisioned_capacity_gb)}, ` +
      `thin_provisioning_support: ${s(this.thin_provisioning_support)}, thick_provisioning_support: ${s(this.thick_provisioning_support)}, ` +
      `pools: {${[...this.pools.keys()].map((k) => pyRepr(k)).join(', ')}}, updated at: ${s(this.updated)}`
    );
  }
}

/** host_manager.PoolState: one pool, named host@backend#pool; the unit the filters and weighers see. */
export class PoolState extends BackendState {
  readonly pool_name: string;

  constructor(host: string, clusterName: string | null, capabilities: Capabilities | null, poolName: string, ctx?: StateContext) {
    super(appendHost(host, poolName) as string, appendHost(clusterName, poolName) as string | null, capabilities, null, ctx);
    this.pool_name = poolName;
  }

  override updateFromVolumeCapability(capability: Capabilities, service: Record<string, unknown> | null = null): void {
    this.ctx.log?.debug({ capability }, `Updating capabilities for ${this.host}`);
    this.updateCapabilities(capability, service);
    if (!truthy(capability)) return;
    if (this.updated && this.updated > (capability.timestamp as string)) return;
    this.updateBackend(capability);
    const get = <T>(k: string, d: T): T => (capability[k] ?? d) as T;
    this.total_capacity_gb = get<Capacity>('total_capacity_gb', 0);
    this.free_capacity_gb = get<Capacity>('free_capacity_gb', 0);
    this.allocated_capacity_gb = get('allocated_capacity_gb', 0);
    this.QoS_support = get('QoS_support', false);
    this.reserved_percentage = get('reserved_percentage', 0);
    // Drivers that do not report provisioned space are assumed to hold what Cinder allocated.
    this.provisioned_capacity_gb = get('provisioned_capacity_gb', this.allocated_capacity_gb);
    this.thin_provisioning_support = get('thin_provisioning_support', false);
    this.thick_provisioning_support = get('thick_provisioning_support', false);
    this.max_over_subscription_ratio = calculateMaxOverSubscriptionRatio(capability, this.ctx.maxOverSubscriptionRatio, this.ctx.log);
    this.multiattach = get('multiattach', false);
    this.filter_function = get<unknown>('filter_function', null);
    this.goodness_function = get<unknown>('goodness_function', 0);
  }

  protected override updatePools(): void {
    // Pools have no pools of their own.
  }
}

export interface PoolInfo {
  name: string;
  capabilities: Capabilities;
}

/** host_manager.HostManager, minus the DB read (services come from the caller) and backup services. */
export class HostManager {
  readonly serviceStates = new Map<string, Capabilities>();
  readonly serviceStatesLastUpdate = new Map<string, Capabilities>();
  readonly backendStateMap = new Map<string, BackendState>();
  readonly enabledFilters: BackendFilter[];
  private noCapabilitiesBackends = new Set<string>();
  private lastServices: ServiceInfo[] | null = null;
  private readonly ctx: StateContext;

  constructor(
    readonly options: SchedulerOptions = {},
    private readonly log?: Logger,
  ) {
    this.ctx = { log, maxOverSubscriptionRatio: options.max_over_subscription_ratio ?? DEFAULT_SCHEDULER_OPTIONS.max_over_subscription_ratio };
    this.enabledFilters = chooseBackendFilters(options.scheduler_default_filters ?? DEFAULT_SCHEDULER_OPTIONS.scheduler_default_filters, log);
  }

  /**
   * update_service_capabilities: keep the newest report per backend (cluster name or host). A report
   * stamped older than the one kept is dropped; one without a timestamp is stamped now.
   */
  updateServiceCapabilities(serviceName: string, host: string, capabilities: Capabilities, clusterName?: string | null, timestamp?: unknown): void {
    if (serviceName !== 'volume') {
      this.log?.debug(`Ignoring ${serviceName} service update from ${host}`);
      return;
    }
    const justInit = this.isJustInitialized();
    const ts = toTimestamp(timestamp) ?? nowTimestamp();
    const copy: Capabilities = { ...structuredClone(capabilities ?? {}), timestamp: ts };
    const backend = clusterName || host;
    const old = this.serviceStates.get(backend) ?? { timestamp: null };
    const lastUpdate = this.serviceStatesLastUpdate.get(backend) ?? { timestamp: null };
    if (old.timestamp && ts < (old.timestamp as string)) {
      this.log?.info(`Ignoring old capability report from ${backend}.`);
      return;
    }
    // Unchanged pools: remember the previous report as the last one notified about (see notify).
    if (
      !getUpdatedPools(old, copy, this.log).length &&
      (!old.timestamp || !lastUpdate.timestamp || (lastUpdate.timestamp as string) < (old.timestamp as string))
    ) {
      this.serviceStatesLastUpdate.set(backend, old);
    }
    this.serviceStates.set(backend, copy);
    const clusterMsg = clusterName ? `Cluster: ${clusterName} - Host: ` : '';
    this.log?.debug({ capabilities }, `Received ${serviceName} service update from ${clusterMsg}${host}`);
    this.noCapabilitiesBackends.delete(backend);
    if (justInit && this.lastServices) this.updateBackendStateMap(this.lastServices);
  }

  /**
   * notify_service_capabilities: decide whether this report changed a pool's capacity figures and,
   * if so, record it and return the capacity usage Cinder would send as capacity.* notifications.
   */
  notifyServiceCapabilities(serviceName: string, backend: string, capabilities: Capabilities, timestamp?: unknown): CapacityUsage[] {
    if (serviceName !== 'volume') return [];
    const known = this.serviceStates.get(backend);
    const ts = toTimestamp(timestamp) ?? nowTimestamp();
    let updated: Capabilities[] = [];
    if (!known) {
      updated = getUpdatedPools({}, capabilities, this.log);
    } else if (ts > (known.timestamp as string)) {
      updated = getUpdatedPools(known, capabilities, this.log);
      if (!updated.length) updated = getUpdatedPools(this.serviceStatesLastUpdate.get(backend) ?? {}, known, this.log);
    }
    if (!updated.length) return [];
    this.serviceStatesLastUpdate.set(backend, { ...capabilities, timestamp: ts });
    const usage = getUsage(capabilities, updated, backend, ts, this.ctx.maxOverSubscriptionRatio);
    this.log?.debug({ usage }, 'Publish storage capacity');
    return usage;
  }

  /** True once every up volume service has reported (the scheduler is ready to place volumes). */
  hasAllCapabilities(services?: ServiceInfo[]): boolean {
    if (services) this.updateBackendStateMap(services);
    return this.noCapabilitiesBackends.size === 0;
  }

  private isJustInitialized(): boolean {
    return this.serviceStatesLastUpdate.size === 0;
  }

  /** first_receive_capabilities: what the scheduler start-up waits for (scheduler_driver_init_wait_time). */
  firstReceiveCapabilities(services?: ServiceInfo[]): boolean {
    if (services) this.updateBackendStateMap(services);
    return !this.isJustInitialized() && this.backendStateMap.size > 0 && this.noCapabilitiesBackends.size === 0;
  }

  /** _update_backend_state_map over the services the caller read (topic volume, enabled, not frozen). */
  private updateBackendStateMap(services: ServiceInfo[]): void {
    this.lastServices = services;
    const active = new Set<string>();
    const activeHosts = new Set<string>();
    const noCapabilities = new Set<string>();
    for (const svc of services) {
      if (svc.disabled || svc.frozen) continue;
      if (svc.is_up === false) {
        this.log?.warn(`volume service is down. (host: ${svc.host})`);
        continue;
      }
      // Only the first up service of a cluster counts: they all share one capabilities entry.
      const key = svc.cluster_name || svc.host;
      if (active.has(key)) {
        activeHosts.add(svc.host);
        continue;
      }
      const caps = (svc.cluster_name ? this.serviceStates.get(svc.cluster_name) : undefined) ?? this.serviceStates.get(svc.host);
      if (!caps) {
        noCapabilities.add(key);
        continue;
      }
      let state = this.backendStateMap.get(key);
      if (!state) {
        state = new BackendState(svc.host, svc.cluster_name ?? null, caps, { ...svc }, this.ctx);
        this.backendStateMap.set(key, state);
      }
      state.updateFromVolumeCapability(caps, { ...svc });
      active.add(key);
    }
    this.noCapabilitiesBackends = noCapabilities;
    for (const key of [...this.backendStateMap.keys()]) {
      if (active.has(key)) continue;
      // A host that just joined a cluster is not worth a message.
      if (!activeHosts.has(key)) this.log?.info(`Removing non-active backend: ${key} from scheduler cache.`);
      this.backendStateMap.delete(key);
    }
  }

  /** revert_volume_consumed_capacity: give back what a failed attempt on `poolName` consumed. */
  revertVolumeConsumedCapacity(poolName: string, size: number): void {
    for (const [key, state] of this.backendStateMap) {
      for (const pool of state.pools.values()) {
        if (poolName === `${key}#${pool.pool_name}`) pool.consumeFromVolume({ size: -size }, false);
      }
    }
  }

  /** get_all_backend_states: every pool of every active backend (what the filters run over). */
  getAllBackendStates(services: ServiceInfo[]): PoolState[] {
    this.updateBackendStateMap(services);
    const all = new Map<string, PoolState>();
    for (const [key, state] of this.backendStateMap) for (const pool of state.pools.values()) all.set(`${key}.${pool.pool_name}`, pool);
    return [...all.values()];
  }

  /** get_filtered_backends with the configured filters. */
  getFilteredBackends(backends: Iterable<BackendState>, props: Parameters<typeof getFilteredObjects>[2]): BackendState[] {
    return getFilteredObjects(this.enabledFilters, backends, props, this.log);
  }

  /**
   * get_pools: [{name: 'host@backend#pool', capabilities}] for the admin pools API. `name` must match
   * exactly, any other filter key is compared with the capability of that name (_equal_after_convert).
   * `volume_type` (a name or id) is resolved by the caller, which has the DB, and passed as `volumeType`:
   * pools are then those the enabled filters accept for that type, as Cinder's _filter_pools_by_volume_type.
   */
  getPools(services: ServiceInfo[], filters?: Record<string, unknown> | null, volumeType?: VolumeTypeSpec | null): PoolInfo[] {
    this.updateBackendStateMap(services);
    const { name, volume_type: typeFilter, ...rest } = filters ?? {};
    let selected: Array<[string, PoolState]> = [];
    for (const [key, state] of this.backendStateMap) {
      for (const pool of state.pools.values()) {
        const poolKey = appendHost(key, pool.pool_name) as string;
        if (name && poolKey !== name) continue;
        if (Object.entries(rest).every(([attr, v]) => equalAfterConvert(pool.capabilities[attr], v))) selected.push([poolKey, pool]);
      }
    }
    const vt = typeFilter ? (volumeType ?? (typeof typeFilter === 'object' ? (typeFilter as VolumeTypeSpec) : null)) : null;
    if (vt) {
      const passing = new Set(this.getFilteredBackends(selected.map(([, p]) => p), { volume_type: vt, resource_type: vt, qos_specs: vt.qos_specs }));
      selected = selected.filter(([, p]) => passing.has(p));
    }
    return selected.map(([poolName, pool]) => ({ name: poolName, capabilities: { ...pool.capabilities } }));
  }
}
