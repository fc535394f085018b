// Shapes the scheduling logic works on. They are what the RPC layer hands over after decoding the
// oslo versioned-object payloads (cinder/objects/request_spec.py RequestSpec, VolumeProperties,
// VolumeType), or the older plain-dict request specs Cinder still accepts (RequestSpec.from_primitives).
// Every shape is open ([k: string]: unknown) because Cinder passes unknown keys through untouched.

/** A capacity as drivers report it: a number of GiB, or one of Cinder's two sentinel strings. */
export type Capacity = number | 'infinite' | 'unknown';

/** A volume service's (or one pool's) capability report, as sent in update_service_capabilities. */
export type Capabilities = Record<string, unknown>;

/**
 * One row of the services table, as the caller read it (topic 'volume', not disabled, not frozen,
 * and up by service_down_time): Cinder's HostManager reads these itself in _update_backend_state_map.
 */
export interface ServiceInfo {
  host: string;
  cluster_name?: string | null;
  availability_zone?: string | null;
  /** When given, Cinder's own filters apply too (disabled / frozen / not up services are skipped). */
  disabled?: boolean | null;
  frozen?: boolean | null;
  is_up?: boolean;
  [k: string]: unknown;
}

export interface VolumeTypeSpec {
  id?: string | null;
  name?: string | null;
  extra_specs?: Record<string, string | null> | null;
  qos_specs?: unknown;
  [k: string]: unknown;
}

export interface VolumeProperties {
  size?: number | null;
  availability_zone?: string | null;
  user_id?: string | null;
  project_id?: string | null;
  metadata?: Record<string, string> | null;
  qos_specs?: Record<string, string> | null;
  attach_status?: string | null;
  multiattach?: boolean | null;
  host?: string | null;
  cluster_name?: string | null;
  [k: string]: unknown;
}

/** RequestSpec 1.5 fields (plus the legacy dict's resource_properties). */
export interface RequestSpec {
  volume_id?: string | null;
  group_id?: string | null;
  snapshot_id?: string | null;
  volume_properties?: VolumeProperties | null;
  /** Filters read this name (oslo-incubator legacy); RequestSpec exposes it as volume_properties. */
  resource_properties?: VolumeProperties | null;
  volume_type?: VolumeTypeSpec | null;
  availability_zones?: string[] | null;
  resource_backend?: string | null;
  operation?: string | null;
  [k: string]: unknown;
}

/** filter_properties['retry'] (filter_scheduler._populate_retry). */
export interface RetryInfo {
  num_attempts: number;
  backends?: string[];
  /** Kept beside `backends` as Cinder still does for older peers. */
  hosts?: string[];
  /** The stringified exception of the previous attempt, set by the volume service on reschedule. */
  exc?: string;
  [k: string]: unknown;
}

export interface FilterProperties {
  retry?: RetryInfo;
  size?: number | null;
  /** Extend requests: the size the volume grows to (CapacityFilter counts new_size - size). */
  new_size?: number | null;
  availability_zone?: string | null;
  user_id?: string | null;
  metadata?: unknown;
  qos_specs?: unknown;
  request_spec?: RequestSpec;
  config_options?: Record<string, unknown>;
  volume_type?: VolumeTypeSpec | null;
  resource_type?: VolumeTypeSpec | null;
  /** Retype: the backend the volume already lives on, which CapacityFilter lets through. */
  vol_exists_on?: string | null;
  [k: string]: unknown;
}

/** The [DEFAULT] options the scheduler reads (names as in cinder.conf). */
export interface SchedulerOptions {
  scheduler_default_filters?: string[];
  scheduler_default_weighers?: string[];
  scheduler_max_attempts?: number;
  capacity_weight_multiplier?: number;
  allocated_capacity_weight_multiplier?: number;
  /** cinder/volume/driver.py's global default, used when a pool reports none: a float or 'auto'. */
  max_over_subscription_ratio?: string | number;
}

export const DEFAULT_SCHEDULER_OPTIONS: Required<SchedulerOptions> = {
  scheduler_default_filters: ['AvailabilityZoneFilter', 'CapacityFilter', 'CapabilitiesFilter'],
  scheduler_default_weighers: ['CapacityWeigher'],
  scheduler_max_attempts: 3,
  capacity_weight_multiplier: 1.0,
  allocated_capacity_weight_multiplier: -1.0,
  max_over_subscription_ratio: '20.0',
};


/**
 * A request spec in the form the filters see it: what jsonutils.to_primitive makes of a RequestSpec
 * object, whose obj_extra_fields add resource_properties (= volume_properties). A legacy dict that only
 * carries resource_properties is read from that key (a leniency: from_primitives would drop it).
 */
export function normalizeRequestSpec(spec: unknown): RequestSpec {
  // Already plain JSON (src/rpc/request-spec.ts plainFromWire unwraps the versioned objects).
  const s = (spec ?? {}) as RequestSpec;
  const props = s.volume_properties ?? s.resource_properties ?? {};
  return { ...s, volume_properties: props, resource_properties: props };
}

// Helpers from cinder/volume/volume_utils.py and oslo timeutils that the scheduler relies on.

/** volume_utils.DEFAULT_POOL_NAME: the pool of a host string without '#pool'. */
export const DEFAULT_POOL_NAME = '_pool0';

/** volume_utils.extract_host. */
export function extractHost(host: string, level: 'host' | 'backend' | 'pool' = 'backend', defaultPoolName = false): string | null {
  if (level === 'host') return host.split('#')[0].split('@')[0];
  if (level === 'backend') return host.split('#')[0];
  const parts = host.split('#');
  if (parts.length === 2) return parts[1];
  return defaultPoolName ? DEFAULT_POOL_NAME : null;
}

/** volume_utils.append_host. */
export function appendHost<T extends string | null | undefined>(host: T, pool: string | null | undefined): T | string {
  return !host || !pool ? host : `${host}#${pool}`;
}

/**
 * Timestamps are kept as oslo's PERFECT_TIME_FORMAT text ('%Y-%m-%dT%H:%M:%S.%f', UTC): the form
 * they arrive in over RPC and the form get_pools returns, and fixed-width so string order is time order.
 */
export function toTimestamp(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'string') {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/.exec(v);
    if (m) return `${m[1]}.${(m[2] ?? '').padEnd(6, '0')}`;
  }
  const d = v instanceof Date ? v : new Date(v as string | number);
  if (Number.isNaN(d.getTime())) return null;
  return `${d.toISOString().slice(0, 23)}000`;
}

export const nowTimestamp = (): string => toTimestamp(new Date())!;

/** Python truthiness of a reported value. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

// cinder/common/constants.py: a protocol with spelling variants is replaced by the whole family.
const PROTOCOL_VARIANTS = [['iSCSI', 'iscsi'], ['FC', 'fibre_channel', 'fc'], ['NFS', 'nfs'], ['NVMe-oF', 'NVMeOF', 'nvmeof']];

/** BackendState.get_storage_protocol_variants. */
export function storageProtocolVariants(p: unknown): unknown {
  return PROTOCOL_VARIANTS.find((family) => family.includes(p as string))?.slice() ?? p ?? null;
}
