import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendConfig } from '../../src/common/config.js';
import { testBackend } from '../support/backend.js';
import { ProcessExecutionError } from '../../src/common/executor.js';
import { ISCSITargetDetachFailed, InvalidConnectorException, VolumeBackendAPIException, VolumeIsBusy } from '../../src/common/exceptions.js';
import { InterProcessLock } from '../../src/common/lock.js';
import { LVMVolumeDriver, checkBlocksize, createLvmDriver } from '../../src/drivers/lvm.js';
import type { Volume, VolumeAttachment } from '../../src/objects/volume.js';

import { FakeExecutor } from '../support/fake-executor.js';

const VID = '6f9c3a3e-5f5e-4b7e-9c39-1a2b3c4d5e6f';
const LV = `volume-${VID}`;
const IQN = `iqn.2010-10.org.openstack:${LV}`;
const MAPPER = `/dev/mapper/cinder--volumes-volume--${VID.replace(/-/g, '--')}`;

const backend = testBackend;

function attachment(connector: Record<string, unknown> | null, id = Math.random().toString(36)): VolumeAttachment {
  return { id, volume_id: VID, connector, attach_status: 'attached', mountpoint: '/dev/vdb' } as unknown as VolumeAttachment;
}

function vol(over: Partial<Volume> = {}): Volume {
  return {
    id: VID,
    _name_id: null,
    size: 1,
    host: 'node1@lvm#LVM',
    status: 'available',
    provider_location: null,
    provider_auth: null,
    provider_geometry: null,
    encryption_key_id: null,
    multiattach: false,
    volume_attachment: [],
    admin_metadata: {},
    metadata: {},
    ...over,
  } as unknown as Volume;
}

let lockDir: string;
let logs: Record<string, unknown>[];
let logger: pino.Logger;
const noSleep = async () => undefined;
beforeEach(() => {
  lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-lvm-'));
  logs = [];
  logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
});
afterEach(() => fs.rmSync(lockDir, { recursive: true, force: true }));

async function driver(over: Partial<BackendConfig> = {}, ex = new FakeExecutor(), setup = true): Promise<{ d: LVMVolumeDriver; ex: FakeExecutor; mark: number }> {
  const d = await createLvmDriver({
    backend: backend(over),
    defaults: { rtstool_path: 'cinder-rtstool' },
    lockPath: lockDir,
    executor: ex,
    logger,
    sleep: noSleep,
    lock: new InterProcessLock(lockDir),
  });
  if (setup) {
    await d.doSetup();
    await d.checkForSetupError();
  }
  return { d, ex, mark: ex.calls.length };
}

describe('construction and setup', () => {
  it('verifies rtstool (not root), then checks the VG as brick LVM does', async () => {
    const { ex } = await driver();
    expect(ex.calls[0]).toEqual({ argv: ['cinder-rtstool', 'verify'], opts: {} });
    expect(ex.lines(1)).toEqual([
      'env LC_ALL=C vgs --noheadings -o name cinder-volumes',
      'env LC_ALL=C pvs --noheadings --unit=g -o vg_name,name,size,free --separator | --nosuffix --ignoreskippedcluster',
      'env LC_ALL=C vgs --noheadings --unit=g -o name,size,free,lv_count,uuid --separator : --nosuffix cinder-volumes',
    ]);
    for (const c of ex.calls.slice(1)) expect(c.opts.runAsRoot).toBe(true);
  });

  it('an existing lvm_conf_file puts LVM_SYSTEM_DIR (and the fd-warning switch) on every lvm command but lvchange/lvremove', async () => {
    const conf = path.join(lockDir, 'lvm.conf');
    fs.writeFileSync(conf, 'devices { filter = [ "a/.*/" ] }\n');
    const { d, ex, mark } = await driver({ lvm_conf_file: conf, lvm_suppress_fd_warnings: true });
    const prefix = `env LC_ALL=C LVM_SYSTEM_DIR=${lockDir} LVM_SUPPRESS_FD_WARNINGS=1`;
    expect(ex.lines(1)[0]).toBe(`${prefix} vgs --noheadings -o name cinder-volumes`);
    await d.createVolume(vol());
    expect(ex.lines(mark)).toContain(`${prefix} lvcreate -n ${LV} cinder-volumes -L 1g`);
    for (const l of ex.lines(1)) expect(l.startsWith('lvchange') || l.startsWith('lvremove') || l.startsWith(prefix)).toBe(true);
  });

  it("lvm_conf_file 'None', or a file that is not there: plain env LC_ALL=C", async () => {
    const conf = path.join(lockDir, 'lvm.conf');
    fs.writeFileSync(conf, '');
    for (const f of ['None', 'none', path.join(lockDir, 'missing.conf')]) {
      const { ex } = await driver({ lvm_conf_file: f === 'none' ? 'none' : f });
      expect(ex.lines(1)[0]).toBe('env LC_ALL=C vgs --noheadings -o name cinder-volumes');
    }
  });

  it('a failing rtstool verify fails driver construction', async () => {
    const ex = new FakeExecutor();
    ex.fail('cinder-rtstool verify');
    await expect(driver({}, ex, false)).rejects.toBeInstanceOf(ProcessExecutionError);
  });

  it('a missing volume group is VolumeBackendAPIException', async () => {
    const ex = new FakeExecutor();
    ex.vgExists = false;
    const { d } = await driver({}, ex, false);
    const err = await d.checkForSetupError().catch((e) => e);
    expect(err).toBeInstanceOf(VolumeBackendAPIException);
    expect(err.message).toBe('Bad or unexpected response from the storage volume backend API: Volume Group cinder-volumes does not exist');
  });

  it('thin: creates and activates <vg>-pool (95% of free space) when it is missing', async () => {
    const { ex } = await driver({ lvm_type: 'thin' });
    expect(ex.lines(1)).toEqual([
      'env LC_ALL=C vgs --noheadings -o name cinder-volumes',
      'env LC_ALL=C lvs --noheadings --unit=g -o vg_name,name,size --nosuffix --readonly cinder-volumes/cinder-volumes-pool',
      'env LC_ALL=C vgs --noheadings --unit=g -o name,size,free,lv_count,uuid --separator : --nosuffix cinder-volumes',
      'env LC_ALL=C lvcreate -T -L 950.0g cinder-volumes/cinder-volumes-pool',
      'lvchange -a y --yes -K cinder-volumes/cinder-volumes-pool',
      'env LC_ALL=C pvs --noheadings --unit=g -o vg_name,name,size,free --separator | --nosuffix --ignoreskippedcluster',
      'env LC_ALL=C vgs --noheadings --unit=g -o name,size,free,lv_count,uuid --separator : --nosuffix cinder-volumes',
      'env LC_ALL=C lvs --noheadings --unit=g -o vg_name,name,size --nosuffix --readonly cinder-volumes/cinder-volumes-pool',
    ]);
  });

  it("auto: becomes thin (the pool now exists)", async () => {
    const { d } = await driver({ lvm_type: 'auto' });
    expect(d.lvmType).toBe('thin');
  });
});

describe('create_volume', () => {
  it('default: lvcreate -n volume-<id> <vg> -L <size>g', async () => {
    const { d, ex, mark } = await driver();
    await d.createVolume(vol({ size: 5 }));
    expect(ex.lines(mark)).toEqual([`env LC_ALL=C lvcreate -n ${LV} cinder-volumes -L 5g`]);
  });

  it('thin: lvcreate -T -V <size>g -n <name> <vg>/<pool>', async () => {
    const { d, ex, mark } = await driver({ lvm_type: 'thin' });
    await d.createVolume(vol({ size: 2 }));
    expect(ex.lines(mark)).toEqual([`env LC_ALL=C lvcreate -T -V 2g -n ${LV} cinder-volumes/cinder-volumes-pool`]);
  });

  it('mirrors: --type=mirror -m <n> --nosync --mirrorlog mirrored, plus -R <pow2> from 1.5 TiB', async () => {
    const { d, ex, mark } = await driver({ lvm_mirrors: 2 });
    await d.createVolume(vol({ size: 10 }));
    await d.createVolume(vol({ id: 'big', size: 3000 }));
    expect(ex.lines(mark)).toEqual([
      `env LC_ALL=C lvcreate -n ${LV} cinder-volumes -L 10g --type=mirror -m 2 --nosync --mirrorlog mirrored`,
      'env LC_ALL=C lvcreate -n volume-big cinder-volumes -L 3000g --type=mirror -m 2 --nosync --mirrorlog mirrored -R 4',
    ]);
  });

  it('retries lvcreate on exit code 139 only', async () => {
    const { d, ex, mark } = await driver();
    ex.fail('env LC_ALL=C lvcreate', 1, 139);
    await d.createVolume(vol());
    expect(ex.lines(mark).filter((l) => l.includes('lvcreate'))).toHaveLength(2);

    ex.fail('env LC_ALL=C lvcreate', 1, 5, 'Insufficient free space');
    const err = await d.createVolume(vol({ id: 'x' })).catch((e) => e);
    expect(err).toBeInstanceOf(ProcessExecutionError);
    // the failure is followed by a VG state dump, as brick LVM logs it
    expect(ex.lines().at(-1)).toBe('env LC_ALL=C vgs --noheadings --unit=g -o name,size,free,lv_count,uuid --separator : --nosuffix');
  });
});

describe('create_export', () => {
  it('lvchange, rtstool create, get-targets, save → provider_location and provider_auth', async () => {
    const { d, ex, mark } = await driver();
    const update = await d.createExport(vol(), null);
    const create = ex.calls[mark + 1].argv;
    const [user, pass] = [create[4], create[5]];
    expect(ex.lines(mark)).toEqual([
      `lvchange -a y --yes -K cinder-volumes/${LV}`,
      `cinder-rtstool create /dev/cinder-volumes/${LV} ${IQN} ${user} ${pass} False -p3260 -a192.168.0.10`,
      'cinder-rtstool get-targets',
      'cinder-rtstool save',
    ]);
    expect(user).toHaveLength(20);
    expect(pass).toHaveLength(16);
    expect(update).toEqual({ provider_location: `192.168.0.10:3260,${IQN} ${IQN} 0`, provider_auth: `CHAP ${user} ${pass}` });
    for (const c of ex.calls.slice(mark)) expect(c.opts.runAsRoot).toBe(true);
  });

  it('retries lvchange up to 5 attempts', async () => {
    const { d, ex, mark } = await driver();
    ex.fail('lvchange', 4);
    await d.createExport(vol(), null);
    expect(ex.lines(mark).filter((l) => l.startsWith('lvchange'))).toHaveLength(5);

    const second = ex.calls.length;
    ex.fail('lvchange', 5);
    await expect(d.createExport(vol(), null)).rejects.toBeInstanceOf(ProcessExecutionError);
    expect(ex.lines(second).every((l) => l.startsWith('lvchange'))).toBe(true);
    expect(ex.lines(second)).toHaveLength(5);
  });

  it('ensure_export activates the LV and restores the LIO config when no target exists', async () => {
    const { d, ex, mark } = await driver();
    await d.ensureExport(vol());
    expect(ex.lines(mark)).toEqual([`lvchange -a y --yes -K cinder-volumes/${LV}`, 'cinder-rtstool get-targets', 'cinder-rtstool restore']);
  });
});

describe('initialize_connection / validate_connector / remove_export (delegated to the target)', () => {
  const exported = () =>
    vol({ provider_location: `192.168.0.10:3260,${IQN} ${IQN} 0`, provider_auth: 'CHAP chapuser chappass' });

  it('initialize_connection: add-initiator + save, connection_info data', async () => {
    const { d, ex, mark } = await driver();
    const info = await d.initializeConnection(exported(), { initiator: 'iqn.1994-05.com.redhat:c1', host: 'c1' });
    expect(ex.lines(mark)).toEqual([`cinder-rtstool add-initiator ${IQN} chapuser chappass iqn.1994-05.com.redhat:c1`, 'cinder-rtstool save']);
    expect(info).toEqual({
      driver_volume_type: 'iscsi',
      data: {
        target_discovered: false,
        target_portal: '192.168.0.10:3260',
        target_iqn: IQN,
        target_lun: 0,
        volume_id: VID,
        auth_method: 'CHAP',
        auth_username: 'chapuser',
        auth_password: 'chappass',
        encrypted: false,
      },
    });
  });

  it('validate_connector: a connector without initiator is InvalidConnectorException', async () => {
    const { d } = await driver();
    expect(() => d.validateConnector({ host: 'h' })).toThrow(InvalidConnectorException);
    expect(() => d.validateConnector({ host: 'h', initiator: 'i' })).not.toThrow();
  });

  it('remove_export: get-targets, delete, save; only get-targets when not listed', async () => {
    const { d, ex, mark } = await driver();
    ex.targets.add(IQN);
    await d.removeExport(exported());
    expect(ex.lines(mark)).toEqual(['cinder-rtstool get-targets', `cinder-rtstool delete ${IQN}`, 'cinder-rtstool save']);
    const again = ex.calls.length;
    await d.removeExport(exported());
    expect(ex.lines(again)).toEqual(['cinder-rtstool get-targets']);
  });
});

describe('terminate_connection and the multiattach rule', () => {
  const loc = `192.168.0.10:3260,${IQN} ${IQN} 0`;
  const host1 = { initiator: 'iqn.1993-08.org.debian:01:host1', host: 'host1' };
  const host2 = { initiator: 'iqn.1993-08.org.debian:01:host2', host: 'host2' };

  it('single attachment: delete-initiator + save, returns false', async () => {
    const { d, ex, mark } = await driver();
    const v = vol({ provider_location: loc, volume_attachment: [attachment(host1)] });
    expect(await d.terminateConnection(v, host1)).toBe(false);
    expect(ex.lines(mark)).toEqual([`cinder-rtstool delete-initiator ${IQN} ${host1.initiator}`, 'cinder-rtstool save']);
  });

  it('NULL provider_location: no commands', async () => {
    const { d, ex, mark } = await driver();
    expect(await d.terminateConnection(vol({ volume_attachment: [attachment(host1)] }), host1)).toBe(false);
    expect(ex.lines(mark)).toEqual([]);
  });

  it('multiattach: host1 twice + host2 once → terminate(host1) keeps the ACL and returns true', async () => {
    const { d, ex, mark } = await driver();
    const a = [attachment(host1), attachment(host1), attachment(host2)];
    const v = vol({ multiattach: true, provider_location: loc, volume_attachment: a });
    expect(await d.terminateConnection(v, host1)).toBe(true);
    expect(ex.lines(mark)).toEqual([]);

    // one host1 attachment gone: host1 and host2 are each removed from the ACL; 2 attachments remain
    const v2 = vol({ multiattach: true, provider_location: loc, volume_attachment: [a[0], a[2]] });
    expect(await d.terminateConnection(v2, host1)).toBe(true);
    expect(await d.terminateConnection(v2, host2)).toBe(true);
    expect(ex.lines(mark)).toEqual([
      `cinder-rtstool delete-initiator ${IQN} ${host1.initiator}`,
      'cinder-rtstool save',
      `cinder-rtstool delete-initiator ${IQN} ${host2.initiator}`,
      'cinder-rtstool save',
    ]);
  });

  it('multiattach with the same initiator and different mountpoints: kept; after one is gone: removed, false', async () => {
    const { d, ex, mark } = await driver();
    const a1 = { ...attachment(host1), mountpoint: '/dev/vdb' } as VolumeAttachment;
    const a2 = { ...attachment(host1), mountpoint: '/dev/vdc' } as VolumeAttachment;
    expect(await d.terminateConnection(vol({ multiattach: true, provider_location: loc, volume_attachment: [a1, a2] }), host1)).toBe(true);
    expect(ex.lines(mark)).toEqual([]);
    expect(await d.terminateConnection(vol({ multiattach: true, provider_location: loc, volume_attachment: [a1] }), host1)).toBe(false);
    expect(ex.lines(mark)).toHaveLength(2);
  });

  it('not multiattach: the ACL is removed even with two attachments on the same host; returns true', async () => {
    const { d, ex, mark } = await driver();
    const v = vol({ provider_location: loc, volume_attachment: [attachment(host1), attachment(host1)] });
    expect(await d.terminateConnection(v, host1)).toBe(true);
    expect(ex.lines(mark)[0]).toBe(`cinder-rtstool delete-initiator ${IQN} ${host1.initiator}`);
  });

  it('legacy attachments without connector never count', async () => {
    const { d, ex, mark } = await driver();
    const v = vol({ multiattach: true, provider_location: loc, volume_attachment: [attachment(null), attachment(null), attachment({})] });
    expect(await d.terminateConnection(v, host1)).toBe(true);
    expect(ex.lines(mark)[0]).toBe(`cinder-rtstool delete-initiator ${IQN} ${host1.initiator}`);
  });

  it('a failing delete-initiator surfaces as ISCSITargetDetachFailed', async () => {
    const { d, ex } = await driver();
    ex.fail('cinder-rtstool delete-initiator');
    await expect(d.terminateConnection(vol({ provider_location: loc }), host1)).rejects.toBeInstanceOf(ISCSITargetDetachFailed);
  });
});

describe('delete_volume', () => {
  const lvsLine = `env LC_ALL=C lvs --noheadings --unit=g -o vg_name,name,size --nosuffix --readonly cinder-volumes/${LV}`;
  const lvdisplay = `env LC_ALL=C lvdisplay --noheading -C -o Attr --readonly cinder-volumes/${LV}`;
  const lvremove = `lvremove --config activation { retry_deactivation = 1}  -f cinder-volumes/${LV}`;

  it('an absent LV: only the lvs check', async () => {
    const { d, ex, mark } = await driver();
    await d.deleteVolume(vol());
    expect(ex.lines(mark)).toEqual([lvsLine]);
  });

  it('an LV with snapshots: VolumeIsBusy', async () => {
    const { d, ex } = await driver();
    ex.lvs.set(LV, 'owi-a-----');
    const err = await d.deleteVolume(vol()).catch((e) => e);
    expect(err).toBeInstanceOf(VolumeIsBusy);
    expect(ex.lvs.has(LV)).toBe(true);
  });

  it('zeroes the device with dd (O_DIRECT probed) and removes the LV', async () => {
    const { d, ex, mark } = await driver();
    ex.lvs.set(LV, '-wi-a-----');
    ex.devices.add(MAPPER);
    await d.deleteVolume(vol({ size: 2 }));
    expect(ex.lines(mark)).toEqual([
      lvsLine,
      lvdisplay,
      `test -e ${MAPPER}`,
      `dd count=0 if=/dev/zero of=${MAPPER} oflag=direct`,
      `dd if=/dev/zero of=${MAPPER} count=${2 * 1024 ** 3} bs=1M iflag=count_bytes oflag=direct`,
      lvremove,
    ]);
    expect(ex.calls[mark + 5].argv).toEqual(['lvremove', '--config', 'activation { retry_deactivation = 1} ', '-f', `cinder-volumes/${LV}`]);
    for (const c of ex.calls.slice(mark)) expect(c.opts.runAsRoot).toBe(true);
  });

  it('uses conv=fdatasync when O_DIRECT is refused, volume_clear_size (MiB) and a valid blocksize', async () => {
    const { d, ex, mark } = await driver({ volume_clear_size: 100, volume_dd_blocksize: '4M' });
    ex.lvs.set(LV, '-wi-a-----');
    ex.devices.add(MAPPER);
    ex.fail(`dd count=0 if=/dev/zero of=${MAPPER} oflag=direct`);
    await d.deleteVolume(vol({ size: 2 }));
    expect(ex.lines(mark)[4]).toBe(`dd if=/dev/zero of=${MAPPER} count=${100 * 1024 ** 2} bs=4M iflag=count_bytes conv=fdatasync`);
  });

  it('a missing device file is VolumeBackendAPIException and the LV stays', async () => {
    const { d, ex } = await driver();
    ex.lvs.set(LV, '-wi-a-----');
    const err = await d.deleteVolume(vol()).catch((e) => e);
    expect(err).toBeInstanceOf(VolumeBackendAPIException);
    expect(err.message).toContain(`Volume device file path ${MAPPER} does not exist.`);
    expect(ex.lvs.has(LV)).toBe(true);
  });

  it('volume_clear none (or thin LVs) skips the clearing', async () => {
    for (const over of [{ volume_clear: 'none' as const }, { lvm_type: 'thin' as const }]) {
      const { d, ex, mark } = await driver(over);
      ex.lvs.set(LV, '-wi-a-----');
      await d.deleteVolume(vol());
      expect(ex.lines(mark)).toEqual([lvsLine, lvdisplay, lvremove]);
    }
  });

  it('a failing lvremove is followed by udevadm settle and a retry that ignores suspended devices', async () => {
    const { d, ex, mark } = await driver({ volume_clear: 'none' });
    ex.lvs.set(LV, '-wi-a-----');
    ex.fail('lvremove', 1, 5, 'Logical volume in use');
    await d.deleteVolume(vol());
    expect(ex.lines(mark).slice(2)).toEqual([
      lvremove,
      'udevadm settle',
      `lvremove --config activation { retry_deactivation = 1} devices { ignore_suspended_devices = 1} -f cinder-volumes/${LV}`,
    ]);
  });

  it('the whole removal is tried 3 times before the error propagates', async () => {
    const { d, ex, mark } = await driver({ volume_clear: 'none' });
    ex.lvs.set(LV, '-wi-a-----');
    ex.fail('lvremove');
    await expect(d.deleteVolume(vol())).rejects.toBeInstanceOf(ProcessExecutionError);
    expect(ex.lines(mark).filter((l) => l.startsWith('lvremove'))).toHaveLength(6);
    expect(ex.lines(mark).filter((l) => l === 'udevadm settle')).toHaveLength(3);
  });
});

describe('helpers', () => {
  it('localPath doubles dashes of the VG and LV names', async () => {
    const { d } = await driver();
    expect(d.localPath(vol())).toBe(MAPPER);
  });

  it('checkBlocksize falls back to 1M for values dd would reject', () => {
    expect(checkBlocksize('4M')).toBe('4M');
    expect(checkBlocksize('512')).toBe('512');
    for (const bad of ['0M', '-1M', '1.5M', 'abc', '']) expect(checkBlocksize(bad)).toBe('1M');
  });

  it('methods that need the VG fail before checkForSetupError', async () => {
    const { d } = await driver({}, new FakeExecutor(), false);
    await expect(d.createVolume(vol())).rejects.toThrow("'NoneType' object has no attribute");
  });
});
