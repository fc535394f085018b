// What the volume manager needs from a volume driver (cinder/volume/driver.py), named as Cinder names
// the methods so the manager reads like Cinder's. The LVM driver implements it over a target helper.
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

export interface VolumeDriver {
  /** True once doSetup/checkForSetupError passed (Cinder sets it at the end of init_host). */
  initialized: boolean;
  /**
   * The driver's `shared_targets` capability: whether several volumes share one iSCSI target, so
   * os-brick must lock around connects. Written on every volume the manager creates.
   */
  readonly sharedTargets: boolean;
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
}
