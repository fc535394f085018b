// LIO target helper (cinder/volume/targets/lio.py): every change goes through `cinder-rtstool`, run as
// root and inside the host-wide external lock `lioadm` (file `<lock_path>/cinder-lioadm`), because
// concurrent rtslib/configfs access fails at random (bug #1460692). After each change the config is
// saved (`cinder-rtstool save`); a failed save is only a warning.
//
// Beyond Cinder: a `save` or `get-targets` still queued on the lock is shared by every caller that
// asks for one before it starts (src/common/shared-run.ts). One caller at a time runs exactly
// Cinder's argv; under load the saves and listings are fewer, and the saved configuration is the same.
import type { CommandExecutor, ExecResult } from '../common/executor.js';
import { ProcessSpawnError } from '../common/executor.js';
import {
  ISCSITargetAttachFailed,
  ISCSITargetCreateFailed,
  ISCSITargetDetachFailed,
  ISCSITargetRemoveFailed,
  NotFound,
} from '../common/exceptions.js';
import type { InterProcessLock } from '../common/lock.js';
import { SharedRun } from '../common/shared-run.js';
import type { Logger } from '../common/log.js';
import type { ConnectionInfo } from '../drivers/driver.js';
import {
  ISCSITarget,
  type PortalsConfig,
  type TargetConfig,
  type TargetVolume,
  isProcessExecutionError,
  pyStr,
} from './iscsi.js';
import { pyGetItem, pyIndex, pySplit, pyUnpack } from './py.js';

/** Name of the external lock serializing every rtstool run on the host. */
export const LIOADM_LOCK = 'lioadm';

export interface LioAdmOptions {
  config: TargetConfig;
  executor: CommandExecutor;
  /** The external lock directory (`[oslo_concurrency] lock_path`). */
  lock: InterProcessLock;
  /** `[DEFAULT] rtstool_path`; default `cinder-rtstool`. */
  rtstoolPath?: string;
  logger: Logger;
}

export class LioAdm extends ISCSITarget {
  private readonly rtstool: string;
  private readonly lock: InterProcessLock;
  private readonly iscsiTargetPrefix: string;
  /** Group commit: a save covers every change made before it took the lock, so it may be joined until it ends. */
  private readonly saves = new SharedRun((started) => this.run(['save'], undefined, started), { joinStarted: true });
  /** A listing answers only those who asked before it started. */
  private readonly listings = new SharedRun((started) => this.run(['get-targets'], undefined, started), { joinStarted: false });

  /** Use LioAdm.create(): it runs `cinder-rtstool verify` like Cinder's constructor. */
  constructor(opts: LioAdmOptions) {
    super(opts.config, opts.executor, opts.logger);
    this.rtstool = opts.rtstoolPath ?? 'cinder-rtstool';
    this.lock = opts.lock;
    this.iscsiTargetPrefix = opts.config.target_prefix;
  }

  /** Construct and verify rtstool; a failing verify (not installed, non-zero exit) fails construction. */
  static async create(opts: LioAdmOptions): Promise<LioAdm> {
    const target = new LioAdm(opts);
    await target.verifyRtstool();
    return target;
  }

  /** `cinder-rtstool verify`, not as root and not under the lock. */
  async verifyRtstool(): Promise<void> {
    try {
      await this.executor.execute([this.rtstool, 'verify']);
    } catch (e) {
      if (e instanceof ProcessSpawnError || isProcessExecutionError(e)) {
        this.logger.error('cinder-rtstool is not installed correctly');
      }
      throw e;
    }
  }

  /** One rtstool run: as root, inside the `lioadm` external lock. */
  private run(args: string[], redact?: readonly string[], started?: () => void): Promise<ExecResult> {
    return this.lock.withLock(LIOADM_LOCK, () => {
      started?.();
      return this.executor.execute([this.rtstool, ...args], redact ? { runAsRoot: true, redact } : { runAsRoot: true });
    });
  }

  async getTarget(iqn: string): Promise<string | null> {
    const { stdout } = await this.listings.request();
    for (const line of stdout.split('\n')) {
      if (line.includes(iqn)) return line;
    }
    return null;
  }

  /**
   * The provider_location create_export will return for `volume`: with LIO the "tid" is the
   * get-targets line of the target, i.e. its IQN, so the location is known before rtstool runs.
   * The manager records it first (exportAndConnect) so that a target created by a command that
   * outlives a killed volume-manager is still found and removed later.
   */
  expectedLocation(volume: TargetVolume): string {
    const iqn = this.iscsiName(volume);
    const [, lun] = this.getTargetAndLun(volume);
    return this.iscsiLocation(this.config.target_ip_address, iqn, iqn, lun, this.config.iscsi_secondary_ip_addresses ?? []);
  }

  /** Raw `get-targets` output. */
  async getTargets(): Promise<string> {
    return (await this.listings.request()).stdout;
  }

  getTargetAndLun(_volume: TargetVolume): [number, number] {
    // LIO numbers LUNs from 0; the target number is not used.
    return [0, 0];
  }

  private async persistConfiguration(volId: string): Promise<void> {
    try {
      await this.saves.request();
    } catch (e) {
      if (!isProcessExecutionError(e)) throw e;
      this.logger.warn({ volume_id: volId }, `Failed to save iscsi LIO configuration when modifying volume id: ${volId}.`);
    }
  }

  private async restoreConfiguration(): Promise<void> {
    try {
      await this.run(['restore']);
    } catch (e) {
      if (!isProcessExecutionError(e)) throw e;
      this.logger.warn('Failed to restore iscsi LIO configuration.');
    }
  }

  /**
   * `cinder-rtstool create <path> <name> <user> <pass> <False|True> [-p<port>] [-a<ip,...>]`; returns the
   * `get-targets` line naming the new target (LIO's "tid", which ends up in provider_location).
   */
  async createIscsiTarget(
    name: string,
    _tid: number,
    _lun: number,
    path: string,
    chapAuth: readonly string[] | null,
    portals: PortalsConfig,
  ): Promise<string> {
    const volId = pyIndex(name.split(':'), 1);
    this.logger.info({ volume_name: volId }, `Creating iscsi_target for volume: ${volId}`);

    let chapUser = '';
    let chapPassword = '';
    if (chapAuth !== null) [chapUser, chapPassword] = pyUnpack(chapAuth, 2);

    const optional: string[] = [];
    if (portals.portals_port !== undefined) optional.push(`-p${portals.portals_port}`);
    if (portals.portals_ips !== undefined) optional.push(`-a${portals.portals_ips.join(',')}`);

    try {
      await this.run(
        ['create', path, name, chapUser, chapPassword, this.iscsiProtocol === 'iser' ? 'True' : 'False', ...optional],
        [chapUser, chapPassword],
      );
    } catch (e) {
      if (!isProcessExecutionError(e)) throw e;
      this.logger.error({ volume_name: volId, err: e.message }, `Failed to create iscsi target for volume id:${volId}.`);
      throw new ISCSITargetCreateFailed({ volume_id: volId });
    }

    const iqn = `${this.iscsiTargetPrefix}${volId}`;
    const tid = await this.getTarget(iqn);
    if (tid === null) {
      this.logger.error({ volume_name: volId }, `Failed to create iscsi target for volume id:${volId}.`);
      throw new NotFound();
    }
    await this.persistConfiguration(volId);
    return tid;
  }

  /** `cinder-rtstool delete <target_prefix + volume name>`; persisted only on success. */
  async removeIscsiTarget(_tid: number, _lun: number, volId: string, volName: string): Promise<void> {
    this.logger.info({ volume_id: volId }, `Removing iscsi_target: ${volId}`);
    const iqn = `${this.iscsiTargetPrefix}${volName}`;
    try {
      await this.run(['delete', iqn]);
    } catch (e) {
      if (!isProcessExecutionError(e)) throw e;
      this.logger.error({ volume_id: volId, err: e.message }, `Failed to remove iscsi target for volume id:${volId}.`);
      throw new ISCSITargetRemoveFailed({ volume_id: volId });
    }
    await this.persistConfiguration(volId);
  }

  /** Adds the connector's initiator to the target ACL (with the volume's CHAP credentials). */
  override async initializeConnection(volume: TargetVolume, connector: unknown): Promise<ConnectionInfo> {
    const volumeIqn = pyIndex(pySplit(volume.provider_location, ' '), 1);
    const [, authUser, authPass] = pyUnpack(pySplit(volume.provider_auth, ' ', 3), 3);
    const initiator = pyStr(pyGetItem(connector, 'initiator'));
    try {
      await this.run(['add-initiator', volumeIqn, authUser, authPass, initiator], [authUser, authPass]);
    } catch (e) {
      if (!isProcessExecutionError(e)) throw e;
      this.logger.error({ volume_id: volume.id, initiator, err: e.message }, `Failed to add initiator iqn ${initiator} to target`);
      throw new ISCSITargetAttachFailed({ volume_id: volume.id });
    }
    await this.persistConfiguration(volume.id);
    return super.initializeConnection(volume, connector);
  }

  /**
   * Removes the connector's initiator from the target ACL. Only a NULL provider_location is a no-op;
   * an empty string fails on the missing IQN field, as in Cinder.
   */
  override async terminateConnection(volume: TargetVolume, connector: unknown): Promise<void> {
    if (volume.provider_location === null || volume.provider_location === undefined) {
      this.logger.debug({ volume_id: volume.id }, `No provider_location for volume ${volume.id}.`);
      return;
    }
    const volumeIqn = pyIndex(pySplit(volume.provider_location, ' '), 1);
    const initiator = pyStr(pyGetItem(connector, 'initiator'));
    try {
      await this.run(['delete-initiator', volumeIqn, initiator]);
    } catch (e) {
      if (!isProcessExecutionError(e)) throw e;
      this.logger.error({ volume_id: volume.id, initiator, err: e.message }, `Failed to delete initiator iqn ${initiator} from target.`);
      throw new ISCSITargetDetachFailed({ volume_id: volume.id });
    }
    await this.persistConfiguration(volume.id);
  }

  /** At start-up: restore the saved LIO config when no target exists at all, else leave it alone. */
  override async ensureExport(volume: TargetVolume, _volumePath: string): Promise<void> {
    if (!(await this.getTargets())) {
      this.logger.info({ volume_id: volume.id }, 'Restoring iSCSI target from configuration file');
      await this.restoreConfiguration();
      return;
    }
    this.logger.info({ volume_id: volume.id }, 'Skipping ensure_export. Found existing iSCSI target.');
  }
}
