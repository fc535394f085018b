// The volume-group wrapper the LVM driver uses (cinder/brick/local_dev/lvm.py): the exact lvm argv,
// which commands are prefixed `env LC_ALL=C` (lvchange and lvremove are not), and the retries
// (exit code 139 for lvm queries/creates, 5 attempts for activation, 3 for removal).
//
// Assumed LVM version: >= 2.02.107 (every supported distribution). Cinder probes the version with
// `lvm version` and would drop `-K` (< 2.02.99) and `--ignoreskippedcluster` (< 2.02.103) on older
// LVM; this port always passes them and does not run the probe.
import type { CommandExecutor, ExecResult } from '../common/executor.js';
import { ProcessExecutionError } from '../common/executor.js';
import { VolumeGroupNotFound } from '../common/exceptions.js';
import type { Logger } from '../common/log.js';

/**
 * brick LVM's LVM_CMD_PREFIX: `env LC_ALL=C`, plus `LVM_SYSTEM_DIR=<dir>` when lvm_conf_file exists
 * and `LVM_SUPPRESS_FD_WARNINGS=1` when asked for. lvchange and lvremove go without it.
 */
export function lvmCmdPrefix(opts: { lvmSystemDir?: string | null; suppressFdWarnings?: boolean } = {}): string[] {
  const prefix = ['env', 'LC_ALL=C'];
  if (opts.lvmSystemDir) prefix.push(`LVM_SYSTEM_DIR=${opts.lvmSystemDir}`);
  if (opts.suppressFdWarnings) prefix.push('LVM_SUPPRESS_FD_WARNINGS=1');
  return prefix;
}

/** First removal attempt's --config; the retry after `udevadm settle` appends LVM_RETRY_CONFIG. */
export const LVM_REMOVE_CONFIG = 'activation { retry_deactivation = 1} ';
export const LVM_RETRY_CONFIG = 'devices { ignore_suspended_devices = 1}';

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export interface LvInfo {
  vg: string;
  name: string;
  size: string;
}

export interface VgInfo {
  name: string;
  size: number;
  available: number;
  lv_count: number;
  uuid: string;
}

export interface PvInfo {
  vg: string;
  name: string;
  size: number;
  available: number;
}

export interface RetryPolicy {
  /** Total attempts. */
  retries: number;
  /** Seconds; wait before attempt n+1 is interval * backoff^(n-1). */
  interval: number;
  backoff: number;
  retryIf: (e: unknown) => boolean;
}

/** cinder.utils.retry (tenacity, exponential wait, reraise the last error). */
export async function retry<T>(fn: () => Promise<T>, policy: RetryPolicy, sleep: Sleep, logger?: Logger, what = 'call'): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= policy.retries || !policy.retryIf(e)) throw e;
      const waitS = policy.interval * policy.backoff ** (attempt - 1);
      logger?.debug({ attempt, wait_s: waitS, err: (e as Error).message }, `Retrying ${what}`);
      await sleep(waitS * 1000);
    }
  }
}

const isPEE = (e: unknown): e is ProcessExecutionError => e instanceof ProcessExecutionError;
const RETRY_139: Omit<RetryPolicy, 'retryIf'> = { retries: 3, interval: 0.5, backoff: 0.5 };
const retryIfExit139 = (e: unknown) => isPEE(e) && e.exitCode === 139;

/** Python's str() of a float (`9.5`, `950.0`). */
export function pyFloatStr(x: number): string {
  if (Number.isInteger(x)) return `${x}.0`;
  return String(x);
}

/**
 * Python's round(x, ndigits) for a float: the exact binary value rounded half-to-even in decimal,
 * then the nearest double. Math.round(x * 100) / 100 differs where x * 100 is itself inexact.
 */
export function pyRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0 || Math.abs(x) >= 1e21) return x;
  // toFixed(100) is the exact decimal expansion of any double above ~1e-15.
  const [int, frac] = Math.abs(x).toFixed(100).split('.');
  const kept = BigInt(int + frac.slice(0, ndigits));
  const rest = frac.slice(ndigits);
  const tie = /^50*$/.test(rest);
  const up = rest[0] > '5' || (rest[0] === '5' && !tie) || (tie && kept % 2n === 1n);
  const n = up ? kept + 1n : kept;
  const r = Number(`${n}e-${ndigits}`);
  return x < 0 ? -r : r;
}

/** Python's str.split() with no argument. */
function words(s: string): string[] {
  const t = s.trim();
  return t === '' ? [] : t.split(/\s+/);
}

export interface BrickLvmOptions {
  executor: CommandExecutor;
  logger: Logger;
  sleep?: Sleep;
  /** lvmCmdPrefix() of the backend's options; `env LC_ALL=C` when not given. */
  cmdPrefix?: readonly string[];
}

export class BrickLVM {
  vgThinPool: string | null = null;
  vgSize = 0;
  vgFreeSpace = 0;
  vgLvCount = 0;
  vgUuid: string | null = null;
  vgThinPoolSize = 0;
  vgThinPoolFreeSpace = 0;
  vgProvisionedCapacity = 0;
  pvList: PvInfo[] = [];
  private readonly executor: CommandExecutor;
  private readonly logger: Logger;
  private readonly sleep: Sleep;
  private readonly cmdPrefix: readonly string[];

  constructor(
    readonly vgName: string,
    opts: BrickLvmOptions,
  ) {
    this.executor = opts.executor;
    this.logger = opts.logger;
    this.sleep = opts.sleep ?? realSleep;
    this.cmdPrefix = opts.cmdPrefix ?? lvmCmdPrefix();
  }

  /**
   * Cinder's `LVM(vg_name, ...)` constructor: the VG must exist (VolumeGroupNotFound), a thin pool
   * `<vg>-pool` is created and activated for lvm_type thin, and the PVs are listed.
   */
  static async open(vgName: string, lvmType: 'default' | 'thin', opts: BrickLvmOptions): Promise<BrickLVM> {
    const vg = new BrickLVM(vgName, opts);
    if (!(await vg.vgExists())) {
      opts.logger.error(`Unable to locate Volume Group ${vgName}`);
      throw new VolumeGroupNotFound({ vg_name: vgName });
    }
    if (lvmType === 'thin') {
      const poolName = `${vgName}-pool`;
      if ((await vg.getVolume(poolName)) === null) {
        try {
          await vg.createThinPool(poolName);
        } catch (e) {
          // Another service may have created it meanwhile.
          if (!isPEE(e) || (await vg.getVolume(poolName)) === null) throw e;
        }
      }
      vg.vgThinPool = poolName;
      await vg.activateLv(poolName);
    }
    vg.pvList = await vg.getAllPhysicalVolumes(vgName);
    return vg;
  }

  private root(argv: string[]): Promise<ExecResult> {
    return this.executor.execute(argv, { runAsRoot: true });
  }

  /** An lvm command retried on exit code 139 (LP #1901783). */
  private runLvm(argv: string[]): Promise<ExecResult> {
    return retry(() => this.root(argv), { ...RETRY_139, retryIf: retryIfExit139 }, this.sleep, this.logger, argv[2]);
  }

  async vgExists(): Promise<boolean> {
    const { stdout } = await this.root([...this.cmdPrefix, 'vgs', '--noheadings', '-o', 'name', this.vgName]);
    return words(stdout).includes(this.vgName);
  }

  /** `lvs` for the VG or one LV; a "not found" answer is an empty list. */
  async getLvInfo(lvName?: string): Promise<LvInfo[]> {
    const argv = [...this.cmdPrefix, 'lvs', '--noheadings', '--unit=g', '-o', 'vg_name,name,size', '--nosuffix', '--readonly'];
    argv.push(lvName !== undefined ? `${this.vgName}/${lvName}` : this.vgName);
    const run = async (): Promise<string | null> => {
      try {
        return (await this.root(argv)).stdout;
      } catch (e) {
        if (isPEE(e) && (e.stderr.includes('not found') || e.stderr.includes('Failed to find'))) {
          this.logger.info(
            { vg_name: this.vgName, lv_name: lvName ?? null },
            'Logical Volume not found when querying LVM info.',
          );
          return null;
        }
        throw e;
      }
    };
    const out = await retry(run, { ...RETRY_139, retryIf: retryIfExit139 }, this.sleep, this.logger, 'lvs');
    const list: LvInfo[] = [];
    if (out !== null) {
      const w = words(out);
      for (let i = 0; i + 2 < w.length; i += 3) list.push({ vg: w[i], name: w[i + 1], size: w[i + 2] });
    }
    return list;
  }

  getVolumes(lvName?: string): Promise<LvInfo[]> {
    return this.getLvInfo(lvName);
  }

  async getVolume(name: string): Promise<LvInfo | null> {
    return (await this.getLvInfo(name)).find((lv) => lv.name === name) ?? null;
  }

  async getAllVolumeGroups(vgName?: string): Promise<VgInfo[]> {
    const argv = [
      ...this.cmdPrefix, 'vgs', '--noheadings', '--unit=g', '-o', 'name,size,free,lv_count,uuid', '--separator', ':', '--nosuffix',
    ];
    if (vgName !== undefined) argv.push(vgName);
    const { stdout } = await this.root(argv);
    return words(stdout).map((line) => {
      const f = line.split(':');
      return { name: f[0], size: Number(f[1]), available: Number(f[2]), lv_count: Number.parseInt(f[3], 10), uuid: f[4] };
    });
  }

  async getAllPhysicalVolumes(vgName?: string): Promise<PvInfo[]> {
    const argv = [
      ...this.cmdPrefix, 'pvs', '--noheadings', '--unit=g', '-o', 'vg_name,name,size,free', '--separator', '|', '--nosuffix',
      '--ignoreskippedcluster',
    ];
    const { stdout } = await this.root(argv);
    let pvs = words(stdout);
    if (vgName !== undefined) pvs = pvs.filter((pv) => pv.split('|')[0] === vgName);
    return pvs.map((pv) => {
      const f = pv.split('|');
      return { vg: f[0], name: f[1], size: Number(f[2]), available: Number(f[3]) };
    });
  }

  async updateVolumeGroupInfo(): Promise<void> {
    const list = await this.getAllVolumeGroups(this.vgName);
    if (list.length !== 1) {
      this.logger.error(`Unable to find VG: ${this.vgName}`);
      throw new VolumeGroupNotFound({ vg_name: this.vgName });
    }
    this.vgSize = list[0].size;
    this.vgFreeSpace = list[0].available;
    this.vgLvCount = list[0].lv_count;
    this.vgUuid = list[0].uuid;
    let total = 0;
    if (this.vgThinPool !== null) {
      for (const lv of await this.getLvInfo()) {
        const size = Number(/\d$/.test(lv.size) ? lv.size : lv.size.slice(0, -1));
        if (lv.name === this.vgThinPool) {
          this.vgThinPoolSize = size;
          this.vgThinPoolFreeSpace = await this.getThinPoolFreeSpace(this.vgThinPool);
        } else {
          total += size;
        }
      }
      total = pyRound(total, 2);
    }
    this.vgProvisionedCapacity = total;
  }

  async getThinPoolFreeSpace(poolName: string): Promise<number> {
    const argv = [
      ...this.cmdPrefix, 'lvs', '--noheadings', '--unit=g', '-o', 'size,data_percent', '--separator', ':', '--nosuffix',
      `/dev/${this.vgName}/${poolName}`,
    ];
    try {
      const { stdout } = await this.runLvm(argv);
      const [size, percent] = stdout.trim().split(':').map(Number);
      return pyRound(size - (size / 100) * percent, 2);
    } catch (e) {
      if (!isPEE(e)) throw e;
      this.logger.error({ cmd: e.cmd, stdout: e.stdout, stderr: e.stderr }, 'Error querying thin pool about data_percent');
      return 0;
    }
  }

  /**
   * Usable space (GiB) for LVs with `mirrorCount` mirrors, from the PV list read when the VG was
   * opened (Cinder does not refresh it here): repeatedly take the smallest PV with free space and
   * charge its size to the largest `mirrorCount` others (brick lvm.py vg_mirror_free_space).
   */
  vgMirrorFreeSpace(mirrorCount: number): number {
    let free = 0;
    let disks = this.pvList.map((pv) => pv.available);
    for (;;) {
      disks = disks.filter((a) => a > 0).sort((a, b) => b - a);
      if (disks.length <= mirrorCount) break;
      const disk = disks.pop() as number;
      for (let i = 0; i < mirrorCount; i++) disks[i] -= disk;
      free += disk;
    }
    return free;
  }

  /** The VG's free space split over the copies (brick lvm.py vg_mirror_size: free, not size). */
  vgMirrorSize(mirrorCount: number): number {
    return this.vgFreeSpace / (mirrorCount + 1);
  }

  /** `lvcreate -T -L <95% of free>g <vg>/<pool>`; returns the size string used. */
  async createThinPool(name?: string, sizeStr?: string): Promise<string> {
    const pool = name ?? `${this.vgName}-pool`;
    if (!sizeStr) {
      await this.updateVolumeGroupInfo();
      sizeStr = `${pyFloatStr(this.vgFreeSpace * 0.95)}g`;
    }
    this.logger.debug({ pool: `${this.vgName}/${pool}`, size: sizeStr }, 'Creating thin pool');
    await this.runLvm([...this.cmdPrefix, 'lvcreate', '-T', '-L', sizeStr, `${this.vgName}/${pool}`]);
    this.vgThinPool = pool;
    return sizeStr;
  }

  /** `lvcreate -n <name> <vg> -L <size>` (or the thin `-T -V` form), with optional mirroring. */
  async createVolume(name: string, sizeStr: string, lvType: 'default' | 'thin' = 'default', mirrorCount = 0): Promise<void> {
    const argv =
      lvType === 'thin'
        ? [...this.cmdPrefix, 'lvcreate', '-T', '-V', sizeStr, '-n', name, `${this.vgName}/${this.vgThinPool}`]
        : [...this.cmdPrefix, 'lvcreate', '-n', name, this.vgName, '-L', sizeStr];
    if (mirrorCount > 0) {
      argv.push('--type=mirror', '-m', String(mirrorCount), '--nosync', '--mirrorlog', 'mirrored');
      const terras = Number.parseInt(sizeStr.slice(0, -1), 10) / 1024.0;
      if (terras >= 1.5) {
        // Region size: next power of two.
        argv.push('-R', String(2 ** Math.ceil(Math.log(terras) / Math.log(2))));
      }
    }
    try {
      await this.runLvm(argv);
    } catch (e) {
      if (isPEE(e)) {
        this.logger.error({ cmd: e.cmd, stdout: e.stdout, stderr: e.stderr }, 'Error creating Volume');
        try {
          this.logger.error({ vgs: await this.getAllVolumeGroups() }, 'Current state');
        } catch {
          /* the state dump is best effort */
        }
      }
      throw e;
    }
  }

  private mangleLvName(name: string): string {
    // LVM reserves names starting with "snapshot".
    return name.startsWith('snapshot') ? `_${name}` : name;
  }

  /** `lvchange -a y --yes -K <vg>/<lv>` (root, no env prefix), up to 5 attempts. */
  async activateLv(name: string, opts: { permanent?: boolean } = {}): Promise<void> {
    const argv = ['lvchange', '-a', 'y', '--yes', ...(opts.permanent ? ['-k', 'n'] : ['-K']), `${this.vgName}/${this.mangleLvName(name)}`];
    await retry(
      async () => {
        try {
          await this.root(argv);
        } catch (e) {
          if (isPEE(e)) this.logger.error({ cmd: e.cmd, stdout: e.stdout, stderr: e.stderr }, 'Error activating LV');
          throw e;
        }
      },
      { retries: 5, interval: 1, backoff: 2, retryIf: isPEE },
      this.sleep,
      this.logger,
      'lvchange',
    );
  }

  /**
   * `lvremove --config 'activation { retry_deactivation = 1} ' -f <vg>/<lv>`; on failure `udevadm settle`
   * and once more skipping suspended devices. The whole sequence is tried up to 3 times.
   */
  async delete(name: string): Promise<void> {
    const target = `${this.vgName}/${name}`;
    await retry(
      async () => {
        try {
          await this.root(['lvremove', '--config', LVM_REMOVE_CONFIG, '-f', target]);
        } catch (e) {
          if (!isPEE(e)) throw e;
          this.logger.debug({ cmd: e.cmd, stderr: e.stderr }, 'Error reported running lvremove; udev settle and retry');
          await this.root(['udevadm', 'settle']);
          await this.root(['lvremove', '--config', LVM_REMOVE_CONFIG + LVM_RETRY_CONFIG, '-f', target]);
          this.logger.debug({ lv: name }, 'Successfully deleted volume after udev settle.');
        }
      },
      { retries: 3, interval: 1, backoff: 2, retryIf: isPEE },
      this.sleep,
      this.logger,
      'lvremove',
    );
  }

  /** lvdisplay attr starting with o/O: the LV is a snapshot origin. */
  async lvHasSnapshot(name: string): Promise<boolean> {
    const { stdout } = await this.runLvm([
      ...this.cmdPrefix, 'lvdisplay', '--noheading', '-C', '-o', 'Attr', '--readonly', `${this.vgName}/${name}`,
    ]);
    const attr = stdout.trim();
    return attr.startsWith('o') || attr.startsWith('O');
  }

  /** os_brick LVM.deactivate_lv: `lvchange -a n <vg>/<lv>` (root, no env prefix), then wait for udev. */
  async deactivateLv(name: string): Promise<void> {
    try {
      await this.root(['lvchange', '-a', 'n', `${this.vgName}/${this.mangleLvName(name)}`]);
    } catch (e) {
      if (isPEE(e)) this.logger.error({ cmd: e.cmd, stdout: e.stdout, stderr: e.stderr }, 'Error deactivating LV');
      throw e;
    }
    // _wait_for_volume_deactivation: _lv_is_active (attr[4] == 'a') retried 5 times, backoff 2.
    const stillActive = new Error(`Volume ${name} was not deactivated in time.`);
    await retry(
      async () => {
        const { stdout } = await this.runLvm([...this.cmdPrefix, 'lvdisplay', '--noheading', '-C', '-o', 'Attr', `${this.vgName}/${name}`]);
        if (stdout.trim()[4] === 'a') throw stillActive;
      },
      { retries: 5, interval: 1, backoff: 2, retryIf: (e) => e === stillActive },
      this.sleep,
      this.logger,
      'lvdisplay',
    );
  }

  /**
   * os_brick LVM.extend_volume: a snapshot origin is deactivated first, then
   * `env LC_ALL=C lvextend -L <size> <vg>/<lv>` as root (no retry).
   */
  async extendVolume(lvName: string, newSize: string): Promise<void> {
    if (await this.lvHasSnapshot(lvName)) await this.deactivateLv(lvName);
    try {
      await this.root([...this.cmdPrefix, 'lvextend', '-L', newSize, `${this.vgName}/${lvName}`]);
    } catch (e) {
      if (isPEE(e)) this.logger.error({ cmd: e.cmd, stdout: e.stdout, stderr: e.stderr }, 'Error extending Volume');
      throw e;
    }
  }
}
