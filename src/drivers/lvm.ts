// LVMVolumeDriver (cinder/volume/drivers/lvm.py) over the LIO target helper: logical volumes in one
// volume group, exported through cinder-rtstool. The driver owns the LV lifecycle and the multiattach
// rule of terminate_connection; everything about targets and ACLs is delegated to LioAdm.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandExecutor } from '../common/executor.js';
import { ProcessExecutionError } from '../common/executor.js';
import { type BackendConfig, type DefaultSection, poolName as backendPoolName } from '../common/config.js';
import { Invalid, VolumeBackendAPIException, TargetUpdateFailed, VolumeGroupNotFound, VolumeIsBusy } from '../common/exceptions.js';
import { externalLock, type InterProcessLock } from '../common/lock.js';
import type { Logger } from '../common/log.js';
import type { Connector, Volume } from '../objects/volume.js';
import { volumeName } from '../objects/volume.js';
import { LioAdm } from '../targets/lio.js';
import { pyTruthy } from '../common/python.js';
import { PyError, pyGetItem } from '../targets/py.js';
import { BrickLVM, lvmCmdPrefix, pyRound, type Sleep, realSleep } from './brick-lvm.js';
import {
  type Capabilities,
  type ConnectionInfo,
  type ModelUpdate,
  type NoStats,
  type VolumeDriver,
  type VolumeStats,
  hasStats,
  initCapabilities,
} from './driver.js';

const MiB = 1024 * 1024;
const DEFAULT_DD_BLOCKSIZE = '1M';
const IEC_SIZE = /^[-+]?\d*\.?\d+([KMGT]i?)?$/;

/** The backend options the LVM driver reads (Cinder's names). */
export type LvmBackendConfig = Pick<
  BackendConfig,
  | 'name'
  | 'volume_group'
  | 'lvm_type'
  | 'lvm_mirrors'
  | 'volume_clear'
  | 'volume_clear_size'
  | 'volume_dd_blocksize'
  | 'target_prefix'
  | 'target_ip_address'
  | 'target_port'
  | 'target_protocol'
  | 'iscsi_secondary_ip_addresses'
  | 'lvm_conf_file'
  | 'lvm_suppress_fd_warnings'
  | 'volume_backend_name'
  | 'reserved_percentage'
  | 'max_over_subscription_ratio'
> & {
  /** Scheduler equations (driver.py volume_opts); not read from cinder.conf yet, so normally unset. */
  filter_function?: string;
  goodness_function?: string;
};

export interface LvmDriverOptions {
  backend: LvmBackendConfig;
  executor: CommandExecutor;
  target: LioAdm;
  logger: Logger;
  /** Waits between retries (tests pass a no-op). */
  sleep?: Sleep;
  /**
   * Whether a regular file exists on the storage host (lvm_conf_file). Cinder asks os.path.isfile;
   * the default looks on this machine, the volume service asks over ssh for a remote host.
   */
  isFile?: (path: string) => Promise<boolean>;
  /** socket.gethostname() of the volume service, used in location_info (default os.hostname()). */
  hostname?: string;
  /** [DEFAULT] filter_function / goodness_function, the fallback of the backend's own. */
  globalFunctions?: { filter_function?: string; goodness_function?: string };
}

const localIsFile = (p: string) => fs.promises.stat(p).then((s) => s.isFile(), () => false);

/** A volume_dd_blocksize dd accepts, else the default (Cinder warns and falls back). */
export function checkBlocksize(blocksize: string, logger?: Logger): string {
  if (blocksize.startsWith('-') || blocksize.startsWith('0') || blocksize.includes('.') || !IEC_SIZE.test(blocksize)) {
    logger?.warn(
      { blocksize },
      `Incorrect value error: ${blocksize}, it may indicate that 'volume_dd_blocksize' was configured incorrectly. Fall back to default.`,
    );
    return DEFAULT_DD_BLOCKSIZE;
  }
  return blocksize;
}

export class LVMVolumeDriver implements VolumeDriver {
  static readonly VERSION = '3.0.0';
  initialized = false;
  /** LVM reports shared_targets False: every volume gets its own LIO target. */
  readonly sharedTargets = false;
  vg: BrickLVM | null = null;
  /** 'auto' becomes 'default' or 'thin' in checkForSetupError. */
  lvmType: 'default' | 'thin' | 'auto';
  readonly protocol: string;
  readonly target: LioAdm;
  /** volume_backend_name, or 'LVM' when unset; also the name of the one pool. */
  readonly backendName: string;
  readonly hostname: string;
  /** Set for thin LVs in checkForSetupError; reported as sparse_copy_volume. */
  sparseCopyVolume = false;
  capabilities: Capabilities = {};
  /** BaseVD._stats. */
  private stats: VolumeStats | NoStats = {};
  private readonly globalFunctions: { filter_function?: string; goodness_function?: string };
  private readonly backend: LvmBackendConfig;
  private readonly executor: CommandExecutor;
  private readonly logger: Logger;
  private readonly sleep: Sleep;
  private readonly isFile: (path: string) => Promise<boolean>;

  constructor(opts: LvmDriverOptions) {
    this.backend = opts.backend;
    this.executor = opts.executor;
    this.target = opts.target;
    this.logger = opts.logger;
    this.sleep = opts.sleep ?? realSleep;
    this.isFile = opts.isFile ?? localIsFile;
    this.lvmType = opts.backend.lvm_type;
    this.protocol = this.target.protocol;
    this.backendName = backendPoolName(opts.backend as BackendConfig);
    this.hostname = opts.hostname ?? os.hostname();
    this.globalFunctions = opts.globalFunctions ?? {};
  }

  private requireVg(attr: string): BrickLVM {
    if (!this.vg) throw new PyError('AttributeError', `'NoneType' object has no attribute '${attr}'`);
    return this.vg;
  }

  /** Cinder's LVM driver has no do_setup of its own; the checks happen in checkForSetupError. */
  async doSetup(): Promise<void> {}

  /**
   * Open the volume group as brick LVM does (`vgs --noheadings -o name <vg>`, thin pool, `pvs`), then
   * confirm it in the `vgs` listing and settle lvm_type 'auto' (thin when a thin pool exists or the VG
   * has no LVs; LVM is assumed new enough for thin provisioning).
   */
  async checkForSetupError(): Promise<void> {
    const vgName = this.backend.volume_group;
    if (!this.vg) {
      const lvmType = this.lvmType === 'auto' ? 'thin' : this.lvmType;
      try {
        const conf = this.backend.lvm_conf_file;
        const useConf = conf.toLowerCase() !== 'none' && (await this.isFile(conf));
        const cmdPrefix = lvmCmdPrefix({
          lvmSystemDir: useConf ? path.dirname(conf) : null,
          suppressFdWarnings: this.backend.lvm_suppress_fd_warnings,
        });
        this.vg = await BrickLVM.open(vgName, lvmType, { executor: this.executor, logger: this.logger, sleep: this.sleep, cmdPrefix });
      } catch (e) {
        if (e instanceof VolumeGroupNotFound) {
          throw new VolumeBackendAPIException({ data: `Volume Group ${vgName} does not exist` });
        }
        throw e;
      }
    }
    const vg = this.vg;
    const vgList = await vg.getAllVolumeGroups(vgName);
    if (!vgList.some((v) => v.name === vg.vgName)) {
      throw new VolumeBackendAPIException({ data: `Volume Group ${vgName} does not exist` });
    }

    const poolName = `${vgName}-pool`;
    if (this.lvmType === 'auto') {
      await vg.updateVolumeGroupInfo();
      this.lvmType = 'default';
      if ((await vg.getVolume(poolName)) !== null) {
        this.logger.info('Enabling LVM thin provisioning by default because a thin pool exists.');
        this.lvmType = 'thin';
      } else if ((await vg.getVolumes()).length === 0) {
        this.logger.info('Enabling LVM thin provisioning by default because no LVs exist.');
        this.lvmType = 'thin';
      }
    }

    if (this.lvmType === 'thin') {
      if ((await vg.getVolume(poolName)) === null) {
        try {
          await vg.createThinPool(poolName);
        } catch (e) {
          if (!(e instanceof ProcessExecutionError)) throw e;
          throw new VolumeBackendAPIException({ data: `Failed to create thin pool, error message was: ${e.stderr}` });
        }
      }
      if (vg.vgThinPool === null) vg.vgThinPool = poolName;
      // Copies onto a thin LV may skip zero blocks (lvm.py check_for_setup_error).
      this.sparseCopyVolume = true;
    }
  }

  /**
   * BaseVD.get_volume_stats: refresh when asked or when nothing is stored, then hand back the stored
   * object itself, as Cinder does (the manager adds to its pools in place). Command failures (a
   * failing `vgs`, VolumeGroupNotFound) propagate and leave the previous stats in place.
   */
  async getVolumeStats(refresh = false): Promise<VolumeStats | NoStats> {
    if (!hasStats(this.stats) || refresh) await this.updateVolumeStats();
    return this.stats;
  }

  /**
   * lvm.py _update_volume_stats: re-read the VG (`vgs`; for thin also `lvs <vg>` and the pool's
   * data_percent), count the LVs (`lvs <vg>`, thin pool and snapshots included) and report the whole
   * VG as one pool named after the backend. Capacities are GiB floats as brick LVM parsed them.
   */
  private async updateVolumeStats(): Promise<void> {
    this.logger.debug('Updating volume stats');
    const vg = this.vg;
    if (!vg) {
      this.logger.warn(`Unable to update stats on non-initialized Volume Group: ${this.backend.volume_group}`);
      return;
    }
    await vg.updateVolumeGroupInfo();
    const mirrors = this.backend.lvm_mirrors;
    let total: number, free: number, provisioned: number;
    if (mirrors > 0) {
      total = vg.vgMirrorSize(mirrors);
      free = vg.vgMirrorFreeSpace(mirrors);
      provisioned = pyRound(total - free, 2);
    } else if (this.lvmType === 'thin') {
      total = vg.vgThinPoolSize;
      free = vg.vgThinPoolFreeSpace;
      provisioned = vg.vgProvisionedCapacity;
    } else {
      total = vg.vgSize;
      free = vg.vgFreeSpace;
      provisioned = pyRound(total - free, 2);
    }
    const locationInfo = `LVMVolumeDriver:${this.hostname}:${this.backend.volume_group}:${this.lvmType}:${mirrors}`;
    const thin = this.lvmType === 'thin';
    const totalVolumes = (await vg.getVolumes()).length;
    this.stats = {
      volume_backend_name: this.backendName,
      vendor_name: 'Open Source',
      driver_version: LVMVolumeDriver.VERSION,
      storage_protocol: this.protocol,
      pools: [
        {
          pool_name: this.backendName,
          total_capacity_gb: total,
          free_capacity_gb: free,
          reserved_percentage: this.backend.reserved_percentage,
          location_info: locationInfo,
          QoS_support: false,
          provisioned_capacity_gb: provisioned,
          max_over_subscription_ratio: this.backend.max_over_subscription_ratio,
          thin_provisioning_support: thin,
          thick_provisioning_support: !thin,
          total_volumes: totalVolumes,
          filter_function: this.getFilterFunction(),
          goodness_function: this.getGoodnessFunction(),
          multiattach: true,
          backend_state: 'up',
        },
      ],
      shared_targets: false,
      sparse_copy_volume: this.sparseCopyVolume,
    };
  }

  /** driver.py get_filter_function / get_goodness_function: backend's, [DEFAULT]'s, else none. */
  getFilterFunction(): string | null {
    return this.backend.filter_function || this.globalFunctions.filter_function || null;
  }

  getGoodnessFunction(): string | null {
    return this.backend.goodness_function || this.globalFunctions.goodness_function || null;
  }

  /** BaseVD.init_capabilities over fresh stats; LVM declares no vendor properties (BaseVD's default). */
  async initCapabilities(): Promise<void> {
    const stats = await this.getVolumeStats(true);
    this.logger.info("Driver hasn't implemented _init_vendor_properties()");
    this.capabilities = initCapabilities(this.capabilities, stats, [{}, null], this.logger);
  }

  /** `/dev/mapper/<vg>-<lv>` with every '-' of each part doubled (device-mapper naming). */
  localPath(volume: Pick<Volume, 'id' | '_name_id'>, vg = this.backend.volume_group): string {
    const name = volumeName(volume);
    const escaped = name.startsWith('snapshot') ? `_${name}` : name;
    return `/dev/mapper/${vg.replace(/-/g, '--')}-${escaped.replace(/-/g, '--')}`;
  }

  async createVolume(volume: Volume): Promise<ModelUpdate | undefined> {
    const vg = this.requireVg('create_volume');
    const lvType = this.lvmType === 'thin' ? 'thin' : 'default';
    await vg.createVolume(volumeName(volume), `${volume.size}g`, lvType, this.backend.lvm_mirrors || 0);
    return undefined;
  }

  /**
   * Delete the LV: nothing to do when it is absent, VolumeIsBusy when it has snapshots, otherwise
   * zero it (unless volume_clear is none or the LV is thin) and lvremove it.
   */
  async deleteVolume(volume: Volume): Promise<void> {
    const vg = this.requireVg('get_volume');
    const name = volumeName(volume);
    if ((await vg.getVolume(name)) === null) return;
    if (await vg.lvHasSnapshot(name)) {
      this.logger.error({ volume_id: volume.id }, `Unable to delete due to existing snapshot for volume: ${name}`);
      throw new VolumeIsBusy({ volume_name: name });
    }
    if (this.backend.volume_clear !== 'none' && this.lvmType !== 'thin') await this.clearVolume(volume);
    await vg.delete(name);
    this.logger.info({ volume_id: volume.id }, `Successfully deleted volume: ${volume.id}`);
  }

  /**
   * Whether the device node exists. Cinder calls os.path.exists in its own process; here the check is
   * `test -e <path>` through the executor (as root) so it also works when the commands run over ssh
   * or against the stand-ins. With cinder-rootwrap, `test` needs a CommandFilter entry.
   */
  private async pathExists(path: string): Promise<boolean> {
    const { exitCode } = await this.executor.execute(['test', '-e', path], { runAsRoot: true, checkExitCode: [0, 1] });
    return exitCode === 0;
  }

  private async clearVolume(volume: Volume): Promise<void> {
    const devPath = this.localPath(volume);
    if (!(await this.pathExists(devPath))) {
      const msg = `Volume device file path ${devPath} does not exist.`;
      this.logger.error({ volume_id: volume.id }, msg);
      throw new VolumeBackendAPIException({ data: msg });
    }
    if (volume.size === null || volume.size === undefined) {
      const msg = `Size for volume: ${volume.id} not found, cannot secure delete.`;
      this.logger.error({ volume_id: volume.id }, msg);
      throw new Invalid({ err: msg }, msg);
    }
    // Sizes in MiB; volume_clear_size 0 means the whole volume.
    const sizeInM = volume.size * 1024;
    const clearSize = this.backend.volume_clear_size === 0 ? sizeInM : this.backend.volume_clear_size;
    this.logger.info({ volume_id: volume.id }, `Performing secure delete on volume: ${devPath}`);
    await this.copyVolume('/dev/zero', devPath, clearSize, this.backend.volume_dd_blocksize, true);
  }

  /** dd from src to dest: count in bytes, O_DIRECT when the destination accepts it, else fdatasync. */
  private async copyVolume(src: string, dest: string, sizeInM: number, blocksize: string, sync: boolean): Promise<void> {
    const bs = checkBlocksize(blocksize, this.logger);
    const argv = ['dd', `if=${src}`, `of=${dest}`, `count=${sizeInM * MiB}`, `bs=${bs}`];
    // iflag=direct cannot be used with /dev/zero, so it is not even probed for it.
    let odirect = src === '/dev/zero' ? false : await this.checkODirect(src, dest, 'iflag=direct');
    argv.push(odirect ? 'iflag=count_bytes,direct' : 'iflag=count_bytes');
    if (await this.checkODirect(src, dest, 'oflag=direct')) {
      argv.push('oflag=direct');
      odirect = true;
    }
    if (sync && !odirect) argv.push('conv=fdatasync');
    const started = Date.now();
    await this.executor.execute(argv, { runAsRoot: true });
    const duration = Math.max(1, (Date.now() - started) / 1000);
    this.logger.info(`Volume copy ${sizeInM.toFixed(2)} MB at ${(sizeInM / duration).toFixed(2)} MB/s`);
  }

  private async checkODirect(src: string, dest: string, flag: string): Promise<boolean> {
    try {
      await this.executor.execute(['dd', 'count=0', `if=${src}`, `of=${dest}`, flag], { runAsRoot: true });
      return true;
    } catch (e) {
      if (e instanceof ProcessExecutionError) return false;
      throw e;
    }
  }

  /** Activate the LV and create its target; the result is saved on the volume by the manager. */
  async createExport(volume: Volume, _connector: Connector | null): Promise<ModelUpdate> {
    const vg = this.requireVg('activate_lv');
    const name = volumeName(volume);
    const volumePath = `/dev/${this.backend.volume_group}/${name}`;
    await vg.activateLv(name);
    const exp = await this.target.createExport(volume, volumePath);
    return { provider_location: exp.location, provider_auth: exp.auth };
  }

  expectedProviderLocation(volume: Volume): string | null {
    return this.target.expectedLocation(volume);
  }

  async ensureExport(volume: Volume): Promise<void> {
    const vg = this.requireVg('activate_lv');
    const name = volumeName(volume);
    await vg.activateLv(name);
    await this.target.ensureExport(volume, `/dev/${this.backend.volume_group}/${name}`);
  }

  async removeExport(volume: Volume): Promise<void> {
    await this.target.removeExport(volume);
  }

  validateConnector(connector: Connector): void {
    this.target.validateConnector(connector);
  }

  initializeConnection(volume: Volume, connector: Connector): Promise<ConnectionInfo> {
    return this.target.initializeConnection(volume, connector);
  }

  /**
   * lvm.py extend_volume: `lvextend -L <n>g` through brick, then the target's extend_target; a
   * target failure is logged and raised as TargetUpdateFailed (the manager still commits).
   */
  async extendVolume(volume: Volume, newSize: number): Promise<void> {
    const vg = this.requireVg('extend_volume');
    await vg.extendVolume(volumeName(volume), `${newSize}g`);
    try {
      await this.target.extendTarget(volume);
    } catch (e) {
      this.logger.error({ volume_id: volume.id, err: (e as Error).message }, 'Error extending target after volume resize.');
      throw new TargetUpdateFailed({ volume_id: volume.id });
    }
  }

  /**
   * lvm.py retype: QoS and extra-spec changes need nothing from LVM, so the answer is True and no
   * command runs (the manager only calls it for this backend; another VG is a migration).
   */
  async retype(volume: Volume, _newType: Record<string, unknown>, _diff: unknown, _host: Record<string, unknown>): Promise<boolean> {
    this.logger.debug(`LVM retype called for volume ${volume.id}. No action required for LVM volumes.`);
    return true;
  }

  /**
   * LVM has one export per volume. On a multiattach volume, when more than one attachment's connector
   * carries this initiator, another attachment on the same host still uses the ACL: keep it and answer
   * true. Otherwise remove the ACL and answer whether other attachments remain (the count includes
   * the attachment being removed), which tells attachment_delete to keep the export.
   */
  async terminateConnection(volume: Volume, connector: unknown, _opts?: { force?: boolean }): Promise<boolean> {
    const attachments = volume.volume_attachment ?? [];
    if (volume.multiattach) {
      let sameInitiator = 0;
      for (const a of attachments) {
        if (pyTruthy(a.connector) && pyGetItem(a.connector, 'initiator') === pyGetItem(connector, 'initiator')) {
          sameInitiator++;
        }
      }
      if (sameInitiator > 1) return true;
    }
    await this.target.terminateConnection(volume, connector);
    return attachments.length > 1;
  }
}

export interface CreateLvmDriverOptions {
  backend: BackendConfig;
  defaults: Pick<DefaultSection, 'rtstool_path'>;
  /** `[oslo_concurrency] lock_path`, home of the `cinder-lioadm` lock file. */
  lockPath: string;
  executor: CommandExecutor;
  logger: Logger;
  sleep?: Sleep;
  /** Override the process-wide lock for `lockPath` (tests). */
  lock?: InterProcessLock;
  isFile?: (path: string) => Promise<boolean>;
  hostname?: LvmDriverOptions['hostname'];
  globalFunctions?: LvmDriverOptions['globalFunctions'];
}

/**
 * Build the LVM driver with its LIO target. Like Cinder's driver constructor this runs
 * `cinder-rtstool verify`, so a broken rtstool fails here and the service does not start.
 */
export async function createLvmDriver(opts: CreateLvmDriverOptions): Promise<LVMVolumeDriver> {
  const logger = opts.logger;
  logger.debug({ backend: opts.backend.name }, 'Attempting to initialize LVM driver with the following target_driver: lioadm');
  const target = await LioAdm.create({
    config: opts.backend,
    executor: opts.executor,
    lock: opts.lock ?? externalLock(opts.lockPath),
    rtstoolPath: opts.defaults.rtstool_path,
    logger,
  });
  const { backend, executor, sleep, isFile, hostname, globalFunctions } = opts;
  return new LVMVolumeDriver({ backend, executor, target, logger, sleep, isFile, hostname, globalFunctions });
}
