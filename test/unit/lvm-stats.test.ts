// The LVM driver's get_volume_stats / init_capabilities (cinder/volume/drivers/lvm.py
// _update_volume_stats, cinder/volume/driver.py BaseVD), over the recording fake executor and,
// at the end, over the root-helper stand-in.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendConfig } from '../../src/common/config.js';
import type { ExecResult, ExecuteOptions } from '../../src/common/executor.js';
import { ProcessExecutionError } from '../../src/common/executor.js';
import { ProcessExecutor } from '../../src/common/executor-process.js';
import { VolumeGroupNotFound } from '../../src/common/exceptions.js';
import { InterProcessLock } from '../../src/common/lock.js';
import { BrickLVM, pyRound } from '../../src/drivers/brick-lvm.js';
import { type VolumeStats, hasStats, initCapabilities } from '../../src/drivers/driver.js';
import { type LVMVolumeDriver, createLvmDriver } from '../../src/drivers/lvm.js';
import { testBackend } from '../support/backend.js';
import { FakeExecutor } from '../support/fake-executor.js';

const VGS = 'env LC_ALL=C vgs --noheadings --unit=g -o name,size,free,lv_count,uuid --separator : --nosuffix cinder-volumes';
const LVS = 'env LC_ALL=C lvs --noheadings --unit=g -o vg_name,name,size --nosuffix --readonly cinder-volumes';
const POOL = 'env LC_ALL=C lvs --noheadings --unit=g -o size,data_percent --separator : --nosuffix /dev/cinder-volumes/cinder-volumes-pool';

/** FakeExecutor with the numbers these tests need: the vgs line, LV sizes, the pool's data_percent. */
class StatsExecutor extends FakeExecutor {
  vgsLine = '  cinder-volumes:1000.00:1000.00:0:uuid-1\n';
  sizes = new Map<string, string>();
  poolLine = '  950.00:0.00\n';

  override async execute(argv: readonly string[], opts: ExecuteOptions = {}): Promise<ExecResult> {
    const line = argv.join(' ');
    // The base fake has no data_percent answer: reply here unless a failure is injected for it.
    if (line === POOL && !this.failures.some((f) => f.times > 0 && line.startsWith(f.prefix))) {
      this.calls.push({ argv: [...argv], opts });
      return { stdout: this.poolLine, stderr: '', exitCode: 0 };
    }
    const r = await super.execute(argv, opts);
    if (line.startsWith('env LC_ALL=C vgs') && line.includes('lv_count')) return { ...r, stdout: this.vgsLine };
    if (line === LVS) return { ...r, stdout: [...this.lvs.keys()].map((n) => `  cinder-volumes ${n} ${this.sizes.get(n) ?? '1.00'}\n`).join('') };
    return r;
  }
}

let lockDir: string;
let logs: Record<string, unknown>[];
let logger: pino.Logger;
beforeEach(() => {
  lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-lvm-stats-'));
  logs = [];
  logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
});
afterEach(() => fs.rmSync(lockDir, { recursive: true, force: true }));

async function driver(over: Partial<BackendConfig> = {}, ex = new StatsExecutor(), setup = true) {
  const d = await createLvmDriver({
    backend: testBackend(over),
    defaults: { rtstool_path: 'cinder-rtstool' },
    lockPath: lockDir,
    executor: ex,
    logger,
    sleep: async () => undefined,
    lock: new InterProcessLock(lockDir),
    hostname: 'node1',
  });
  if (setup) {
    await d.doSetup();
    await d.checkForSetupError();
  }
  return { d, ex, mark: ex.calls.length };
}

const STANDARD_PROPERTIES = {
  thin_provisioning: { title: 'Thin Provisioning', description: 'Sets thin provisioning.', type: 'boolean' },
  compression: { title: 'Compression', description: 'Enables compression.', type: 'boolean' },
  qos: { title: 'QoS', description: 'Enables QoS.', type: 'boolean' },
  replication_enabled: { title: 'Replication', description: 'Enables replication.', type: 'boolean' },
};

describe('getVolumeStats, thick', () => {
  it('runs vgs then lvs <vg> and reports the VG as one pool, keys in Cinder order', async () => {
    const ex = new StatsExecutor();
    ex.vgsLine = '  cinder-volumes:1000.00:996.50:2:uuid-1\n';
    const { d, mark } = await driver({}, ex);
    ex.lvs.set('volume-a', '-wi-a-----');
    ex.lvs.set('volume-b', '-wi-a-----');
    ex.sizes.set('volume-b', '2.50');
    const stats = (await d.getVolumeStats(true)) as VolumeStats;
    expect(ex.lines(mark)).toEqual([VGS, LVS]);
    expect(ex.calls.slice(mark).every((c) => c.opts.runAsRoot === true)).toBe(true);
    expect(stats).toEqual({
      volume_backend_name: 'LVM',
      vendor_name: 'Open Source',
      driver_version: '3.0.0',
      storage_protocol: 'iSCSI',
      pools: [
        {
          pool_name: 'LVM',
          total_capacity_gb: 1000,
          free_capacity_gb: 996.5,
          reserved_percentage: 0,
          location_info: 'LVMVolumeDriver:node1:cinder-volumes:default:0',
          QoS_support: false,
          provisioned_capacity_gb: 3.5,
          max_over_subscription_ratio: '20.0',
          thin_provisioning_support: false,
          thick_provisioning_support: true,
          total_volumes: 2,
          filter_function: null,
          goodness_function: null,
          multiattach: true,
          backend_state: 'up',
        },
      ],
      shared_targets: false,
      sparse_copy_volume: false,
    });
    expect(Object.keys(stats)).toEqual([
      'volume_backend_name', 'vendor_name', 'driver_version', 'storage_protocol', 'pools', 'shared_targets', 'sparse_copy_volume',
    ]);
    expect(Object.keys(stats.pools[0])).toEqual([
      'pool_name', 'total_capacity_gb', 'free_capacity_gb', 'reserved_percentage', 'location_info', 'QoS_support',
      'provisioned_capacity_gb', 'max_over_subscription_ratio', 'thin_provisioning_support', 'thick_provisioning_support',
      'total_volumes', 'filter_function', 'goodness_function', 'multiattach', 'backend_state',
    ]);
    expect(logs.some((l) => l.msg === 'Updating volume stats')).toBe(true);
  });

  it('provisioned = round(size - free, 2) as Python rounds', async () => {
    const ex = new StatsExecutor();
    ex.vgsLine = '  cinder-volumes:10.30:10.00:1:uuid-1\n';
    const { d } = await driver({}, ex);
    const stats = (await d.getVolumeStats(true)) as VolumeStats;
    // 10.3 - 10.0 is 0.3000000000000007 in binary
    expect(stats.pools[0].provisioned_capacity_gb).toBe(0.3);
  });

  it('volume_backend_name names the backend and the pool; reserved_percentage and the ratio pass through', async () => {
    const { d } = await driver({ volume_backend_name: 'lvmdriver-1', reserved_percentage: 15, max_over_subscription_ratio: '1.5' });
    const stats = (await d.getVolumeStats(true)) as VolumeStats;
    expect(stats.volume_backend_name).toBe('lvmdriver-1');
    expect(stats.pools[0]).toMatchObject({ pool_name: 'lvmdriver-1', reserved_percentage: 15, max_over_subscription_ratio: '1.5' });
  });

  it("max_over_subscription_ratio 'auto' is reported as configured: the scheduler computes it, not the driver", async () => {
    const { d } = await driver({ max_over_subscription_ratio: 'auto' });
    const stats = (await d.getVolumeStats(true)) as VolumeStats;
    expect(stats.pools[0].max_over_subscription_ratio).toBe('auto');
  });

  it('backend filter/goodness functions win over [DEFAULT] ones; an empty one falls through', async () => {
    const ex = new StatsExecutor();
    const d = await createLvmDriver({
      backend: { ...testBackend(), filter_function: '', goodness_function: 'capabilities.total_volumes < 10 ? 100 : 0' } as BackendConfig,
      defaults: { rtstool_path: 'cinder-rtstool' },
      lockPath: lockDir,
      executor: ex,
      logger,
      lock: new InterProcessLock(lockDir),
      globalFunctions: { filter_function: 'volume.size < 10', goodness_function: '50' },
    });
    await d.checkForSetupError();
    const stats = (await d.getVolumeStats(true)) as VolumeStats;
    expect(stats.pools[0].filter_function).toBe('volume.size < 10');
    expect(stats.pools[0].goodness_function).toBe('capabilities.total_volumes < 10 ? 100 : 0');
  });

  it('without refresh the stored object is returned as it is, without commands', async () => {
    const { d, ex } = await driver();
    const first = await d.getVolumeStats(false);
    expect(hasStats(first)).toBe(true);
    const mark = ex.calls.length;
    expect(await d.getVolumeStats(false)).toBe(first);
    expect(await d.getVolumeStats()).toBe(first);
    expect(ex.calls.length).toBe(mark);
    const again = await d.getVolumeStats(true);
    expect(again).not.toBe(first);
    expect(ex.lines(mark)).toEqual([VGS, LVS]);
  });
});

describe('getVolumeStats, thin', () => {
  it('runs vgs, lvs <vg>, the pool data_percent, lvs <vg>; the pool is the capacity', async () => {
    const ex = new StatsExecutor();
    const { d, mark } = await driver({ lvm_type: 'thin' }, ex);
    ex.sizes.set('cinder-volumes-pool', '950.00');
    ex.lvs.set('volume-a', 'Vwi-a-tz--');
    ex.lvs.set('volume-b', 'Vwi-a-tz--');
    ex.lvs.set('volume-c', 'Vwi-a-tz--');
    ex.sizes.set('volume-a', '1.10');
    ex.sizes.set('volume-b', '2.20');
    ex.sizes.set('volume-c', '3.30');
    ex.poolLine = '  950.00:12.35\n';
    const stats = (await d.getVolumeStats(true)) as VolumeStats;
    expect(ex.lines(mark)).toEqual([VGS, LVS, POOL, LVS]);
    expect(stats.pools[0]).toEqual({
      pool_name: 'LVM',
      total_capacity_gb: 950,
      // round(950 - 950/100*12.35, 2)
      free_capacity_gb: 832.67,
      reserved_percentage: 0,
      location_info: 'LVMVolumeDriver:node1:cinder-volumes:thin:0',
      QoS_support: false,
      // round(1.1 + 2.2 + 3.3, 2): the pool itself is not counted
      provisioned_capacity_gb: 6.6,
      max_over_subscription_ratio: '20.0',
      thin_provisioning_support: true,
      thick_provisioning_support: false,
      // every LV of the VG, the pool included
      total_volumes: 4,
      filter_function: null,
      goodness_function: null,
      multiattach: true,
      backend_state: 'up',
    });
    expect(stats.sparse_copy_volume).toBe(true);
  });

  it("lvm_type 'auto' on an empty VG turns thin, and so do the stats", async () => {
    const { d } = await driver({ lvm_type: 'auto' });
    const stats = (await d.getVolumeStats(true)) as VolumeStats;
    expect(stats.pools[0]).toMatchObject({ thin_provisioning_support: true, location_info: 'LVMVolumeDriver:node1:cinder-volumes:thin:0' });
  });

  it('a failing data_percent query counts the pool as full (free 0), as brick LVM logs and goes on', async () => {
    const ex = new StatsExecutor();
    const { d } = await driver({ lvm_type: 'thin' }, ex);
    ex.fail(POOL);
    const stats = (await d.getVolumeStats(true)) as VolumeStats;
    expect(stats.pools[0].free_capacity_gb).toBe(0);
    expect(logs.some((l) => l.msg === 'Error querying thin pool about data_percent')).toBe(true);
  });
});

describe('getVolumeStats, mirrored', () => {
  it('capacity from the PVs read at setup: free space over the copies', async () => {
    const ex = new StatsExecutor();
    const { d, mark } = await driver({ lvm_mirrors: 1 }, ex);
    d.vg!.pvList = [
      { vg: 'cinder-volumes', name: '/dev/sdb', size: 500, available: 500 },
      { vg: 'cinder-volumes', name: '/dev/sdc', size: 300, available: 300 },
    ];
    ex.vgsLine = '  cinder-volumes:800.00:800.00:0:uuid-1\n';
    const stats = (await d.getVolumeStats(true)) as VolumeStats;
    // no pvs: the list is not refreshed
    expect(ex.lines(mark)).toEqual([VGS, LVS]);
    expect(stats.pools[0]).toMatchObject({
      total_capacity_gb: 400,
      free_capacity_gb: 300,
      provisioned_capacity_gb: 100,
      location_info: 'LVMVolumeDriver:node1:cinder-volumes:default:1',
    });
  });

  it('vg_mirror_free_space: smallest PV charged to the largest ones, until too few are left', () => {
    const vg = new BrickLVM('vg', { executor: new FakeExecutor(), logger });
    const pvs = (...a: number[]) => a.map((available, i) => ({ vg: 'vg', name: `/dev/sd${i}`, size: available, available }));
    vg.pvList = pvs(100, 100, 50);
    expect(vg.vgMirrorFreeSpace(1)).toBe(100);
    expect(vg.vgMirrorFreeSpace(2)).toBe(50);
    vg.pvList = pvs(1000);
    expect(vg.vgMirrorFreeSpace(1)).toBe(0);
    vg.vgFreeSpace = 90;
    expect(vg.vgMirrorSize(2)).toBe(30);
  });
});

describe('getVolumeStats failures', () => {
  it('a failing vgs rejects and keeps the stats of the last good refresh', async () => {
    const { d, ex } = await driver();
    const good = await d.getVolumeStats(true);
    ex.fail('env LC_ALL=C vgs --noheadings --unit=g', 1, 5, '  Volume group "cinder-volumes" not found');
    const err = await d.getVolumeStats(true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessExecutionError);
    expect((err as ProcessExecutionError).exitCode).toBe(5);
    expect(await d.getVolumeStats(false)).toBe(good);
  });

  it('vgs listing no VG: VolumeGroupNotFound', async () => {
    const { d, ex } = await driver();
    ex.vgsLine = '';
    await expect(d.getVolumeStats(true)).rejects.toBeInstanceOf(VolumeGroupNotFound);
  });

  it('before the VG is opened: {} and a warning, no command', async () => {
    const { d, ex, mark } = await driver({}, new StatsExecutor(), false);
    const stats = await d.getVolumeStats(true);
    expect(stats).toEqual({});
    expect(hasStats(stats)).toBe(false);
    expect(ex.calls.length).toBe(mark);
    expect(logs.some((l) => l.msg === 'Unable to update stats on non-initialized Volume Group: cinder-volumes')).toBe(true);
  });
});

describe('capabilities', () => {
  it('{} before initCapabilities; then a shallow copy of fresh stats plus the standard properties', async () => {
    const { d, ex, mark } = await driver();
    expect(d.capabilities).toEqual({});
    await d.initCapabilities();
    expect(ex.lines(mark)).toEqual([VGS, LVS]);
    const stats = (await d.getVolumeStats(false)) as VolumeStats;
    expect(d.capabilities).toEqual({ ...stats, properties: STANDARD_PROPERTIES });
    expect(d.capabilities).not.toBe(stats);
    expect(d.capabilities.pools).toBe(stats.pools);
    expect('properties' in stats).toBe(false);
    expect(d.capabilities.vendor_prefix).toBeUndefined();
    expect(logs.some((l) => l.msg === "Driver hasn't implemented _init_vendor_properties()")).toBe(true);
  });

  it('without stats the old capabilities object only gets the properties', async () => {
    const { d } = await driver({}, new StatsExecutor(), false);
    const before = d.capabilities;
    await d.initCapabilities();
    expect(d.capabilities).toBe(before);
    expect(d.capabilities).toEqual({ properties: STANDARD_PROPERTIES });
  });

  it('vendor properties: colon in the vendor name becomes _, unprefixed keys are dropped', () => {
    const prop = { title: 't', description: 'd', type: 'string' };
    const caps = initCapabilities({}, {}, [{ 'ab:c:x': prop, 'ab_c:y': prop, 'other:z': prop }, 'ab:c'], logger);
    expect(caps.vendor_prefix).toBe('ab_c');
    expect(Object.keys(caps.properties!)).toEqual([...Object.keys(STANDARD_PROPERTIES), 'ab_c:x', 'ab_c:y']);
    expect(logs.some((l) => String(l.msg).startsWith('Vendor unique property "other:z" must start with'))).toBe(true);
  });
});

describe('pyRound', () => {
  it("matches Python's round(x, 2) on the exact binary value", () => {
    const cases: [number, number][] = [
      [0.125, 0.12], [0.375, 0.38], [2.675, 2.67], [1.005, 1.0], [0.1 + 0.2, 0.3], [-0.125, -0.12],
      [949.995, 950.0], [0.285, 0.28], [1.255, 1.25], [123.456789, 123.46], [0.005, 0.01], [0.015, 0.01], [0.025, 0.03],
    ];
    for (const [x, want] of cases) expect([x, pyRound(x, 2)]).toEqual([x, want]);
  });
});

describe('against the root-helper stand-in', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const rootHelper = path.resolve(here, '../stand-ins/root-helper');
  const rtstool = path.resolve(here, '../stand-ins/bin/cinder-rtstool');
  let state: string;
  const saved = { ...process.env };
  beforeEach(() => {
    state = path.join(lockDir, 'state');
    fs.mkdirSync(state);
    process.env.CINDER_TS_STANDIN_STATE = state;
    delete process.env.CINDER_TS_STANDIN_LOG;
    delete process.env.CINDER_TS_LOCK_PATH;
    delete process.env.CINDER_TS_STANDIN_VGS;
  });
  afterEach(() => {
    process.env = { ...saved };
  });
  const run = (argv: string[], env: Record<string, string> = {}) =>
    execFileSync(rootHelper, argv, { env: { ...process.env, ...env }, encoding: 'utf8' });

  it('answers the refresh argv', () => {
    run(['env', 'LC_ALL=C', 'lvcreate', '-T', '-L', '950.0g', 'cinder-volumes/cinder-volumes-pool']);
    run(['env', 'LC_ALL=C', 'lvcreate', '-T', '-V', '1g', '-n', 'volume-1', 'cinder-volumes/cinder-volumes-pool']);
    expect(run(VGS.split(' '))).toBe('  cinder-volumes:1000.00:999.00:1:standin-uuid-cinder-volumes\n');
    expect(run(LVS.split(' '))).toBe('  cinder-volumes cinder-volumes-pool 950.00\n  cinder-volumes volume-1 1.00\n');
    expect(run(POOL.split(' '))).toBe('  950.00:0.00\n');
    expect(run(POOL.split(' '), { CINDER_TS_STANDIN_THIN_DATA_PERCENT: '12.5' })).toBe('  950.00:12.50\n');
  });

  it('the driver through the real executor: thin stats of a fresh VG', async () => {
    process.env.CINDER_TS_STANDIN_THIN_DATA_PERCENT = '10';
    const executor = new ProcessExecutor({ rootHelper, defaultTimeoutMs: 60_000, logger });
    const d: LVMVolumeDriver = await createLvmDriver({
      backend: testBackend({ lvm_type: 'thin', volume_backend_name: 'lvmdriver-1' }),
      defaults: { rtstool_path: rtstool },
      lockPath: lockDir,
      executor,
      logger,
      lock: new InterProcessLock(lockDir),
      sleep: async () => undefined,
      hostname: 'node1',
    });
    await d.checkForSetupError();
    await d.createVolume({ id: 'v1', _name_id: null, size: 2 } as never);
    await d.initCapabilities();
    expect(d.capabilities).toEqual({
      volume_backend_name: 'lvmdriver-1',
      vendor_name: 'Open Source',
      driver_version: '3.0.0',
      storage_protocol: 'iSCSI',
      pools: [
        {
          pool_name: 'lvmdriver-1',
          total_capacity_gb: 950,
          free_capacity_gb: 855,
          reserved_percentage: 0,
          location_info: 'LVMVolumeDriver:node1:cinder-volumes:thin:0',
          QoS_support: false,
          provisioned_capacity_gb: 2,
          max_over_subscription_ratio: '20.0',
          thin_provisioning_support: true,
          thick_provisioning_support: false,
          total_volumes: 2,
          filter_function: null,
          goodness_function: null,
          multiattach: true,
          backend_state: 'up',
        },
      ],
      shared_targets: false,
      sparse_copy_volume: true,
      properties: STANDARD_PROPERTIES,
    });
  });
});
