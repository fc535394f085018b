// What the volume manager needs from a volume driver (cinder/volume/driver.py), named as Cinder names
// the methods so the manager reads like Cinder's. The LVM driver implements it over a target helper.
import type { Logger } from '../common/log.js';
import type { Connector, Volume } from '../objects/volume.js';

/** Fields a driver asks the manager to save on the volume (create_export / create_volume). */
export interface ModelUpdate {
  provider_location?: string | null;
  provider_auth?: string | null;
  provider_geometry?: string | null;
}

export interface ConnectionInfo {
  driver_volume_type: string;
  data: Record<string, unknown>;
}

/**
 * One pool of a driver's stats (cinder/volume/driver.py _update_pools_and_stats, the LVM driver's
 * _update_volume_stats). Capacities are Python floats there; JSON carries them as plain numbers.
 */
export interface PoolStats {
  pool_name: string;
  total_capacity_gb: number | 'infinite' | 'unknown';
  free_capacity_gb: number | 'infinite' | 'unknown';
  reserved_percentage: number;
  location_info?: string;
  QoS_support: boolean;
  provisioned_capacity_gb?: number | null;
  /** As configured (a string: '20.0', '1.5' or 'auto'); the scheduler turns it into a number. */
  max_over_subscription_ratio?: string | number;
  thin_provisioning_support?: boolean;
  thick_provisioning_support?: boolean;
  total_volumes?: number;
  filter_function: string | null;
  goodness_function: string | null;
  multiattach?: boolean;
  backend_state?: 'up' | 'down';
  /** The manager adds allocated_capacity_gb and others to the pool entries in place. */
  [key: string]: unknown;
}

/** What get_volume_stats returns: backend-wide keys plus the pools. */
export interface VolumeStats {
  volume_backend_name: string;
  vendor_name: string;
  driver_version: string;
  storage_protocol: string;
  pools: PoolStats[];
  shared_targets?: boolean;
  sparse_copy_volume?: boolean;
  [key: string]: unknown;
}

/** Cinder's empty stats dict: what get_volume_stats returns before the backend was ever read. */
export type NoStats = Record<string, never>;

export function hasStats(s: VolumeStats | NoStats | null | undefined): s is VolumeStats {
  return !!s && Object.keys(s).length > 0;
}

/** One entry of capabilities.properties as BaseVD._set_property builds it. */
export interface CapabilityProperty {
  title: string;
  description: string;
  type: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
}

/**
 * BaseVD.capabilities: {} until init_capabilities, then a shallow copy of the stats plus
 * `properties` (and `vendor_prefix` when the driver declares vendor properties).
 */
export type Capabilities = Partial<VolumeStats> & {
  properties?: Record<string, CapabilityProperty>;
  vendor_prefix?: string;
};

type PropertyExtras = Partial<Pick<CapabilityProperty, 'enum' | 'default' | 'minimum' | 'maximum'>>;

/** BaseVD._set_property: title, description, type, then only enum/default/minimum/maximum. */
export function setProperty(
  properties: Record<string, CapabilityProperty>,
  entry: string,
  title: string,
  description: string,
  type: string,
  extras: PropertyExtras & Record<string, unknown> = {},
): void {
  const prop: CapabilityProperty = { title, description, type };
  for (const [k, v] of Object.entries(extras)) {
    if (k === 'enum' || k === 'default' || k === 'minimum' || k === 'maximum') (prop as unknown as Record<string, unknown>)[k] = v;
  }
  properties[entry] = prop;
}

/** BaseVD._init_standard_capabilities: the four standard extra-spec capabilities of Cinder 21. */
export function standardCapabilities(): Record<string, CapabilityProperty> {
  const properties: Record<string, CapabilityProperty> = {};
  setProperty(properties, 'thin_provisioning', 'Thin Provisioning', 'Sets thin provisioning.', 'boolean');
  setProperty(properties, 'compression', 'Compression', 'Enables compression.', 'boolean');
  setProperty(properties, 'qos', 'QoS', 'Enables QoS.', 'boolean');
  setProperty(properties, 'replication_enabled', 'Replication', 'Enables replication.', 'boolean');
  return properties;
}

/**
 * BaseVD.init_capabilities once the stats are fetched: a shallow copy of them (the previous
 * capabilities object is kept when there are none), the standard `properties`, then the vendor ones.
 */
export function initCapabilities(
  previous: Capabilities,
  stats: VolumeStats | NoStats,
  vendor: [Record<string, CapabilityProperty>, string | null],
  logger: Pick<Logger, 'warn' | 'debug'>,
): Capabilities {
  const capabilities: Capabilities = hasStats(stats) ? { ...stats } : previous;
  capabilities.properties = standardCapabilities();
  mergeVendorProperties(capabilities, vendor[0], vendor[1], logger);
  logger.debug({ capabilities }, 'Initialized capabilities list.');
  return capabilities;
}

/**
 * The vendor half of init_capabilities: a ':' in the vendor name becomes '_' (keys renamed to
 * match), keys without the `<vendor>:` prefix are dropped with a warning, the rest are merged into
 * capabilities.properties and vendor_prefix is set. Nothing happens without both parts.
 */
function mergeVendorProperties(
  capabilities: Capabilities,
  vendorProps: Record<string, CapabilityProperty>,
  vendorName: string | null,
  logger: Pick<Logger, 'warn'>,
): void {
  if (!vendorName || Object.keys(vendorProps).length === 0) return;
  let name = vendorName;
  let oldName: string | null = null;
  if (name.includes(':')) {
    oldName = name;
    name = name.replace(/:/g, '_');
    logger.warn(`The colon in vendor name was replaced by underscore. Updated vendor name is ${name}".`);
  }
  const updated: Record<string, CapabilityProperty> = {};
  for (const [key, prop] of Object.entries(vendorProps)) {
    if (oldName && key.startsWith(`${oldName}:`)) {
      updated[key.replace(oldName, name)] = prop;
      continue;
    }
    if (!key.startsWith(`${name}:`)) {
      logger.warn(
        `Vendor unique property "${key}" must start with vendor prefix with colon "${name}:". The property was not registered on capabilities list.`,
      );
      continue;
    }
    updated[key] = prop;
  }
  capabilities.vendor_prefix = name;
  capabilities.properties = { ...capabilities.properties, ...updated };
}

export interface VolumeDriver {
  /** True once doSetup/checkForSetupError passed (Cinder sets it at the end of init_host). */
  initialized: boolean;
  /**
   * The driver's `shared_targets` capability: whether several volumes share one iSCSI target, so
   * os-brick must lock around connects. Written on every volume the manager creates.
   */
  readonly sharedTargets: boolean;
  /** BaseVD.capabilities, what the get_capabilities RPC answers: {} until initCapabilities(). */
  capabilities: Capabilities;
  /**
   * get_volume_stats: refresh (runs the backend's commands) when asked or when nothing is stored yet,
   * then return the stored stats object itself (Cinder's manager adds keys to it in place); {} as
   * Cinder when the backend was never opened (see hasStats).
   */
  getVolumeStats(refresh?: boolean): Promise<VolumeStats | NoStats>;
  /** init_capabilities: fresh stats (getVolumeStats(true)) plus the standard `properties`. */
  initCapabilities(): Promise<void>;
  /** init_host: check the volume group exists (vgs/lvs as Cinder runs them at start-up). */
  doSetup(): Promise<void>;
  checkForSetupError(): Promise<void>;
  createVolume(volume: Volume): Promise<ModelUpdate | undefined>;
  deleteVolume(volume: Volume): Promise<void>;
  createExport(volume: Volume, connector: Connector | null): Promise<ModelUpdate>;
  /** The provider_location createExport will set, when the driver knows it beforehand. */
  expectedProviderLocation?(volume: Volume): string | null;
  ensureExport(volume: Volume): Promise<void>;
  removeExport(volume: Volume): Promise<void>;
  /** Throws InvalidConnectorException when the connector lacks what the target needs. */
  validateConnector(connector: Connector): void;
  initializeConnection(volume: Volume, connector: Connector): Promise<ConnectionInfo>;
  /** Returns the "shared connection" flag (LVM: more than one attachment); legacy callers ignore it. */
  terminateConnection(volume: Volume, connector: unknown, opts?: { force?: boolean }): Promise<boolean | undefined>;
  /**
   * retype(context, volume, new_type, diff, host): whether the driver changed the type in place,
   * optionally with a model update. A driver without it is BaseVD's: (False, None), i.e. migrate.
   */
  /** extend_volume(volume, new_size): grow the volume to new_size GiB (TargetUpdateFailed: grown, target not updated). */
  extendVolume?(volume: Volume, newSize: number): Promise<void>;
  retype?(volume: Volume, newType: Record<string, unknown>, diff: unknown, host: Record<string, unknown>): Promise<boolean | [boolean, ModelUpdate | null]>;
}
