// cinder/scheduler/filter_scheduler.py FilterScheduler (volume paths only): retry bookkeeping,
// filter properties, filtering and weighing of the pool states, and the pick of the best pool.
// The DB update (driver.volume_update_db) and the cast to the volume service are the caller's.
import { Invalid, NoValidBackend } from '../common/exceptions.js';
import { pyRepr } from '../common/python.js';
import type { Logger } from '../common/log.js';
import type { BackendState, HostManager, PoolInfo, PoolState } from './host-manager.js';
import { chooseBackendWeighers, getWeighedObjects, type WeighedBackend, type WeigherFactory } from './weighers.js';
import {
  DEFAULT_SCHEDULER_OPTIONS, extractHost, normalizeRequestSpec,
  type FilterProperties, type RequestSpec, type RetryInfo, type SchedulerOptions, type ServiceInfo, type VolumeTypeSpec,
} from './types.js';

export interface ScheduleResult {
  /** The chosen pool: host 'h@b#pool', cluster_name, service.availability_zone, capabilities. */
  backend: PoolState;
  weight: number;
  /** The same object the caller passed, now with retry, request_spec, size ... as Cinder sends it on. */
  filterProperties: FilterProperties;
}

export class FilterScheduler {
  readonly maxAttempts: number;
  private readonly weighers: WeigherFactory[];

  constructor(
    readonly hostManager: HostManager,
    options: SchedulerOptions = {},
    private readonly log?: Logger,
  ) {
    // _max_attempts: Cinder refuses to start with less than one attempt (InvalidParameterValue).
    this.maxAttempts = options.scheduler_max_attempts ?? DEFAULT_SCHEDULER_OPTIONS.scheduler_max_attempts;
    if (this.maxAttempts < 1) throw new Invalid({}, "Invalid value for 'scheduler_max_attempts', must be >=1");
    this.weighers = chooseBackendWeighers(options.scheduler_default_weighers ?? DEFAULT_SCHEDULER_OPTIONS.scheduler_default_weighers, options);
  }

  /** populate_filter_properties: what the filters read from the volume's properties. */
  populateFilterProperties(spec: RequestSpec, props: FilterProperties): void {
    const vol = spec.volume_properties ?? {};
    props.size = vol.size;
    props.availability_zone = vol.availability_zone ?? null;
    props.user_id = vol.user_id ?? null;
    props.metadata = vol.metadata ?? null;
    props.qos_specs = vol.qos_specs ?? null;
  }

  /** _log_volume_error: report the exception the previous attempt failed with, once. */
  private logVolumeError(volumeId: string, retry: RetryInfo): void {
    const exc = retry.exc;
    delete retry.exc;
    if (!exc) return;
    const backends = 'backends' in retry ? retry.backends : retry.hosts;
    if (!backends || !backends.length) return;
    this.log?.error(`Error scheduling ${volumeId} from last vol-service: ${backends[backends.length - 1]} : ${exc}`);
  }

  /**
   * _populate_retry: count this attempt in filter_properties['retry'] (absent when rescheduling is
   * off, i.e. scheduler_max_attempts = 1) and give up once the attempts exceed the maximum.
   */
  populateRetry(props: FilterProperties, spec: RequestSpec): void {
    let retry = props.retry;
    delete props.retry;
    if (this.maxAttempts === 1) return;
    if (retry && Object.keys(retry).length) retry.num_attempts += 1;
    else retry = { num_attempts: 1, backends: [], hosts: [] };
    props.retry = retry;
    // str(None) is 'None' in Cinder's message when the spec has no volume_id.
    const resourceId = String(spec.volume_id ?? 'None');
    this.logVolumeError(resourceId, retry);
    if (retry.num_attempts > this.maxAttempts) {
      throw new NoValidBackend({ reason: `Exceeded max scheduling attempts ${this.maxAttempts} for resource ${resourceId}` });
    }
  }

  /** _get_weighted_candidates: the pools passing every filter, best first. */
  getWeightedCandidates(rawSpec: RequestSpec, props: FilterProperties, services: ServiceInfo[]): WeighedBackend[] {
    const spec = normalizeRequestSpec(rawSpec);
    // A snapshot's spec has no type; filters expect a mapping (Cinder bug #1856126).
    const volumeType: VolumeTypeSpec = spec.volume_type ?? {};
    this.populateRetry(props, spec);
    Object.assign(props, {
      request_spec: JSON.parse(JSON.stringify(spec)) as RequestSpec,
      // SchedulerOptions.get_configuration(): empty without scheduler_json_config_location.
      config_options: {},
      volume_type: volumeType,
      resource_type: volumeType,
    });
    this.populateFilterProperties(spec, props);
    // A reschedule: what the failed attempt consumed on its pool is given back first.
    const tried = props.retry?.backends ?? [];
    if (tried.length) this.hostManager.revertVolumeConsumedCapacity(tried[tried.length - 1], Number(spec.volume_properties?.size));
    const backends = this.hostManager.getFilteredBackends(this.hostManager.getAllBackendStates(services), props);
    if (!backends.length) return [];
    this.log?.debug(`Filtered ${backends.map((b) => b.host).join(', ')}`);
    const weighed = getWeighedObjects(this.weighers, backends, props, this.log);
    this.log?.debug(`Weighed ${weighed.map((w) => `WeighedHost [host: ${w.obj.host}, weight: ${w.weight}]`).join(', ')}`);
    return weighed;
  }

  /** _choose_top_backend: the first of the weighed list, charged with the volume right away. */
  private chooseTopBackend(weighed: WeighedBackend[], spec: RequestSpec): WeighedBackend {
    const top = weighed[0];
    this.log?.debug(`Choosing ${top.obj.backendId}`);
    top.obj.consumeFromVolume({ size: Number(spec.volume_properties?.size ?? 0) });
    return top;
  }

  /** _schedule: candidates, narrowed to resource_backend (group / source volume / snapshot) if set. */
  private schedule(spec: RequestSpec, props: FilterProperties, services: ServiceInfo[]): WeighedBackend | null {
    let weighed = this.getWeightedCandidates(spec, props, services);
    const resourceBackend = spec.resource_backend;
    if (weighed.length && resourceBackend) {
      const withPool = Boolean(extractHost(resourceBackend, 'pool'));
      weighed = weighed.filter((w) => (withPool ? w.obj.backendId : extractHost(w.obj.backendId)) === resourceBackend);
    }
    if (!weighed.length) {
      this.log?.warn(`No weighed backend found for volume with properties: ${JSON.stringify(props.request_spec?.volume_type ?? null)}`);
      return null;
    }
    return this.chooseTopBackend(weighed, normalizeRequestSpec(spec));
  }

  /**
   * schedule_create_volume, up to the DB write: pick a pool, charge it, and record it in
   * filter_properties['retry'] so a reschedule knows it was tried.
   */
  scheduleCreateVolume(spec: RequestSpec, props: FilterProperties = {}, services: ServiceInfo[] = []): ScheduleResult {
    const top = this.schedule(spec, props, services);
    if (!top) throw new NoValidBackend({ reason: 'No weighed backends available' });
    this.addRetryBackend(props, top.obj.backendId);
    delete (props as Record<string, unknown>).context;
    return { backend: top.obj as PoolState, weight: top.weight, filterProperties: props };
  }

  /** _add_retry_backend (via _post_select_populate_filter_properties). */
  addRetryBackend(props: FilterProperties, backend: string): void {
    const retry = props.retry;
    if (!retry || !Object.keys(retry).length) return;
    for (const key of ['hosts', 'backends'] as const) retry[key]?.push(backend);
  }

  /**
   * backend_passes_filters (validate_host_capacity, create_snapshot, extend): the state of `backend`
   * if it is among the candidates. A backend given without '#pool' matches any of its pools.
   */
  backendPassesFilters(backend: string, spec: RequestSpec, props: FilterProperties = {}, services: ServiceInfo[] = []): BackendState {
    const weighed = this.getWeightedCandidates(spec, props, services);
    const ignorePool = !extractHost(backend, 'pool');
    for (const w of weighed) {
      const id = ignorePool ? extractHost(w.obj.backendId) : w.obj.backendId;
      if (id === backend) return w.obj;
    }
    let resource = 'volume';
    let id = '??id missing??';
    for (const r of ['volume', 'group', 'snapshot']) {
      const rid = spec[`${r}_id`];
      if (rid) {
        resource = r;
        id = String(rid);
        break;
      }
    }
    throw new NoValidBackend({}, `Cannot place ${resource} ${id} on ${backend}.`);
  }

  /**
   * find_retype_backend: the volume's own backend if it still passes (its space is not counted
   * twice), else — unless migration_policy is 'never' — the best other one.
   */
  findRetypeBackend(spec: RequestSpec, props: FilterProperties = {}, migrationPolicy = 'never', services: ServiceInfo[] = []): BackendState {
    const vol = normalizeRequestSpec(spec).volume_properties ?? {};
    const backend = (vol.cluster_name || vol.host) as string;
    props.vol_exists_on = backend;
    const weighed = this.getWeightedCandidates(spec, props, services);
    // %(type)s of the request spec's volume_type: a Python dict's repr.
    const typeText = pyRepr(spec.volume_type ?? null);
    if (!weighed.length) throw new NoValidBackend({ reason: `No valid backends for volume ${spec.volume_id} with type ${typeText}` });
    const same = weighed.find((w) => w.obj.backendId === backend);
    if (same) return same.obj;
    // A volume from before pools has no '#pool' in its host: any pool of that backend is "the same".
    if (extractHost(backend, 'pool') === null) {
      const samePoolless = weighed.find((w) => extractHost(w.obj.backendId, 'backend') === backend);
      if (samePoolless) return samePoolless.obj;
    }
    if (migrationPolicy === 'never') {
      throw new NoValidBackend({
        reason: `Current backend not valid for volume ${spec.volume_id} with type ${typeText}, migration not allowed`,
      });
    }
    return this.chooseTopBackend(weighed, normalizeRequestSpec(spec)).obj;
  }

  /** get_pools, delegated to the host manager. */
  getPools(services: ServiceInfo[], filters?: Record<string, unknown> | null, volumeType?: VolumeTypeSpec | null): PoolInfo[] {
    return this.hostManager.getPools(services, filters, volumeType);
  }
}
