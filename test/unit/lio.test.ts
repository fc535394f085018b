import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandExecutor, ExecResult, ExecuteOptions } from '../../src/common/executor.js';
import { ProcessExecutionError, ProcessSpawnError } from '../../src/common/executor.js';
import {
  ISCSITargetAttachFailed,
  ISCSITargetCreateFailed,
  ISCSITargetDetachFailed,
  ISCSITargetRemoveFailed,
  NotFound,
} from '../../src/common/exceptions.js';
import { InterProcessLock } from '../../src/common/lock.js';
import type { TargetConfig, TargetVolume } from '../../src/targets/iscsi.js';
import { LioAdm } from '../../src/targets/lio.js';

// ---- a recording fake executor (the only fake) --------------------------------------------------
type Reply = Partial<ExecResult> | Error | undefined;
interface Call {
  argv: string[];
  opts: ExecuteOptions;
  lockHeld: boolean;
}
class FakeExecutor implements CommandExecutor {
  calls: Call[] = [];
  running = 0;
  maxRunning = 0;
  constructor(
    private readonly lockFile: string,
    private readonly reply: (argv: string[]) => Reply = () => undefined,
    private readonly delayMs = 0,
  ) {}
  async execute(argv: readonly string[], opts: ExecuteOptions = {}): Promise<ExecResult> {
    const lockHeld = fs.existsSync(this.lockFile) && spawnSync('flock', ['-n', this.lockFile, 'true']).status !== 0;
    this.calls.push({ argv: [...argv], opts, lockHeld });
    this.maxRunning = Math.max(this.maxRunning, ++this.running);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const r = this.reply([...argv]);
      if (r instanceof Error) throw r;
      return { stdout: r?.stdout ?? '', stderr: r?.stderr ?? '', exitCode: r?.exitCode ?? 0 };
    } finally {
      this.running--;
    }
  }
  lines(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }
}

const pee = (cmd = 'cinder-rtstool') => new ProcessExecutionError(cmd, 1, '', 'Traceback...\nRtstoolError: boom');

const config: TargetConfig = {
  target_prefix: 'iqn.2010-10.org.openstack:',
  target_ip_address: '192.168.0.10',
  target_port: 3260,
  target_protocol: 'iscsi',
  iscsi_secondary_ip_addresses: [],
};
const VID = '11111111-2222-3333-4444-555555555555';
const IQN = `iqn.2010-10.org.openstack:volume-${VID}`;
const LOCATION = `192.168.0.10:3260,${IQN} ${IQN} 0`;

function vol(over: Partial<TargetVolume> = {}): TargetVolume {
  return {
    id: VID,
    _name_id: null,
    provider_location: LOCATION,
    provider_auth: 'CHAP chapuser01 chappass01',
    provider_geometry: null,
    encryption_key_id: null,
    host: 'node1@lvm#LVM',
    ...over,
  };
}

let lockDir: string;
let lockFile: string;
let logs: Record<string, unknown>[];
let logger: pino.Logger;
beforeEach(() => {
  lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-lio-'));
  lockFile = path.join(lockDir, 'cinder-lioadm');
  logs = [];
  logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
});
afterEach(() => fs.rmSync(lockDir, { recursive: true, force: true }));

/** A fake whose rtstool keeps a target list; `fail` maps "cinder-rtstool <sub>" to an error. */
function rtstool(fail: Record<string, Error> = {}, targets = new Set<string>(), delayMs = 0) {
  return new FakeExecutor(
    lockFile,
    (argv) => {
      const key = argv.slice(0, 2).join(' ');
      if (fail[key]) return fail[key];
      switch (argv[1]) {
        case 'create':
          targets.add(argv[3]);
          return undefined;
        case 'get-targets':
          return { stdout: [...targets].map((t) => `${t}\n`).join('') };
        case 'delete':
          targets.delete(argv[2]);
          return undefined;
        default:
          return undefined;
      }
    },
    delayMs,
  );
}

async function lio(ex: FakeExecutor, over: Partial<TargetConfig> = {}, rtstoolPath?: string): Promise<LioAdm> {
  return LioAdm.create({ config: { ...config, ...over }, executor: ex, lock: new InterProcessLock(lockDir), logger, rtstoolPath });
}

const warnings = () => logs.filter((l) => l.level === 40).map((l) => l.msg);

describe('construction', () => {
  it('runs `cinder-rtstool verify` not as root and outside the lock', async () => {
    const ex = rtstool();
    await lio(ex);
    expect(ex.calls).toEqual([{ argv: ['cinder-rtstool', 'verify'], opts: {}, lockHeld: false }]);
  });

  it('uses rtstool_path for every command', async () => {
    const ex = rtstool();
    const t = await lio(ex, {}, '/opt/bin/cinder-rtstool');
    await t.getTarget(IQN);
    expect(ex.calls.map((c) => c.argv[0])).toEqual(['/opt/bin/cinder-rtstool', '/opt/bin/cinder-rtstool']);
  });

  it('fails when verify fails (non-zero exit or missing binary)', async () => {
    await expect(lio(rtstool({ 'cinder-rtstool verify': pee() }))).rejects.toBeInstanceOf(ProcessExecutionError);
    await expect(
      lio(rtstool({ 'cinder-rtstool verify': new ProcessSpawnError('cinder-rtstool verify', 'ENOENT', 'spawn cinder-rtstool ENOENT') })),
    ).rejects.toBeInstanceOf(ProcessSpawnError);
    expect(logs.some((l) => l.msg === 'cinder-rtstool is not installed correctly')).toBe(true);
  });
});

describe('rtstool calls: root, inside the cinder-lioadm lock, serialized', () => {
  it('every call after verify is run as root while the lock file is flock-held', async () => {
    const ex = rtstool();
    const t = await lio(ex);
    const v = vol({ provider_location: null, provider_auth: null });
    const exp = await t.createExport(v, `/dev/cinder-volumes/volume-${VID}`);
    const v2 = vol({ provider_location: exp.location, provider_auth: exp.auth });
    await t.initializeConnection(v2, { initiator: 'iqn.1994-05.com.redhat:h1' });
    await t.terminateConnection(v2, { initiator: 'iqn.1994-05.com.redhat:h1' });
    await t.removeExport(v2);
    const after = ex.calls.slice(1);
    expect(after.length).toBeGreaterThan(8);
    for (const c of after) {
      expect(c.opts.runAsRoot).toBe(true);
      expect(c.lockHeld).toBe(true);
    }
  });

  it('concurrent operations on different volumes never run two rtstool commands at once', async () => {
    const ex = rtstool({}, new Set(), 3);
    const t = await lio(ex);
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => {
        const id = `0000000${i}-2222-3333-4444-555555555555`;
        const v = vol({ id, provider_location: null, provider_auth: null });
        return t.createExport(v, `/dev/vg/volume-${id}`).then((e) =>
          t.terminateConnection(vol({ id, provider_location: e.location }), { initiator: `i${i}` }),
        );
      }),
    );
    expect(ex.maxRunning).toBe(1);
  });
});

describe('create_export / create_iscsi_target', () => {
  it('runs create, get-targets, save; the location has the IQN in the tpgt slot', async () => {
    const ex = rtstool();
    const t = await lio(ex);
    const exp = await t.createExport(vol({ provider_location: null, provider_auth: 'CHAP u1 p1' }), `/dev/cinder-volumes/volume-${VID}`);
    expect(ex.lines().slice(1)).toEqual([
      `cinder-rtstool create /dev/cinder-volumes/volume-${VID} ${IQN} u1 p1 False -p3260 -a192.168.0.10`,
      'cinder-rtstool get-targets',
      'cinder-rtstool save',
    ]);
    expect(exp).toEqual({ location: `192.168.0.10:3260,${IQN} ${IQN} 0`, auth: 'CHAP u1 p1' });
    expect(ex.calls[1].opts.redact).toEqual(['u1', 'p1']);
  });

  it('create_iscsi_target without CHAP or portals passes empty strings and no -p/-a; persisted once', async () => {
    const ex = rtstool();
    const t = await lio(ex);
    const tid = await t.createIscsiTarget(IQN, 0, 0, '/dev/vg/lv', null, {});
    expect(tid).toBe(IQN);
    expect(ex.calls[1].argv).toEqual(['cinder-rtstool', 'create', '/dev/vg/lv', IQN, '', '', 'False']);
    expect(ex.lines().filter((l) => l === 'cinder-rtstool save')).toHaveLength(1);
  });

  it('returns the first get-targets line containing the IQN (substring match)', async () => {
    const targets = new Set([`${IQN}-extra`, IQN]);
    const t = await lio(rtstool({}, targets));
    expect(await t.getTarget(IQN)).toBe(`${IQN}-extra`);
    expect(await t.getTarget('iqn.nothing')).toBeNull();
  });

  it('a failing create raises ISCSITargetCreateFailed(volume_id=<name after the prefix>) and does not persist', async () => {
    const ex = rtstool({ 'cinder-rtstool create': pee() });
    const t = await lio(ex);
    const err = await t.createExport(vol({ provider_location: null }), '/dev/vg/lv').catch((e) => e);
    expect(err).toBeInstanceOf(ISCSITargetCreateFailed);
    expect(err.message).toBe(`Failed to create iscsi target for volume volume-${VID}.`);
    expect(ex.lines()).not.toContain('cinder-rtstool save');
  });

  it('a target missing from get-targets after create raises NotFound, no persist', async () => {
    const ex = new FakeExecutor(lockFile, () => undefined); // get-targets prints nothing
    const t = await lio(ex);
    await expect(t.createExport(vol(), '/dev/vg/lv')).rejects.toBeInstanceOf(NotFound);
    expect(ex.lines()).not.toContain('cinder-rtstool save');
  });

  it('a failing save is only a warning', async () => {
    const ex = rtstool({ 'cinder-rtstool save': pee() });
    const t = await lio(ex);
    const exp = await t.createExport(vol({ provider_location: null }), '/dev/vg/lv');
    expect(exp.location).toContain(IQN);
    expect(warnings()).toContain(`Failed to save iscsi LIO configuration when modifying volume id: volume-${VID}.`);
  });
});

describe('initialize_connection', () => {
  it('adds the initiator with the CHAP credentials, persists, returns the connection data', async () => {
    const ex = rtstool({}, new Set([IQN]));
    const t = await lio(ex);
    const info = await t.initializeConnection(vol(), { initiator: 'iqn.1994-05.com.redhat:fake_init', host: 'h1' });
    expect(ex.lines().slice(1)).toEqual([
      `cinder-rtstool add-initiator ${IQN} chapuser01 chappass01 iqn.1994-05.com.redhat:fake_init`,
      'cinder-rtstool save',
    ]);
    expect(ex.calls[1].opts).toEqual({ runAsRoot: true, redact: ['chapuser01', 'chappass01'] });
    expect(info).toEqual({
      driver_volume_type: 'iscsi',
      data: {
        target_discovered: false,
        target_portal: '192.168.0.10:3260',
        target_iqn: IQN,
        target_lun: 0,
        volume_id: VID,
        auth_method: 'CHAP',
        auth_username: 'chapuser01',
        auth_password: 'chappass01',
        encrypted: false,
      },
    });
  });

  it('a failing add-initiator raises ISCSITargetAttachFailed and does not persist', async () => {
    const ex = rtstool({ 'cinder-rtstool add-initiator': pee() });
    const t = await lio(ex);
    const err = await t.initializeConnection(vol(), { initiator: 'i' }).catch((e) => e);
    expect(err).toBeInstanceOf(ISCSITargetAttachFailed);
    expect(err.message).toBe(`Failed to attach iSCSI target for volume ${VID}.`);
    expect(ex.lines()).not.toContain('cinder-rtstool save');
  });

  it('a provider_auth with a fourth field breaks the unpacking', async () => {
    const t = await lio(rtstool());
    await expect(t.initializeConnection(vol({ provider_auth: 'CHAP u p extra' }), { initiator: 'i' })).rejects.toThrow(
      'too many values to unpack (expected 3)',
    );
  });

  it('returns driver_volume_type iser for target_protocol iser', async () => {
    const t = await lio(rtstool(), { target_protocol: 'iser' });
    expect((await t.initializeConnection(vol(), { initiator: 'i' })).driver_volume_type).toBe('iser');
  });
});

describe('terminate_connection', () => {
  it('deletes the initiator from the ACL and persists', async () => {
    const ex = rtstool();
    const t = await lio(ex);
    await t.terminateConnection(vol(), { initiator: 'fake_init' });
    expect(ex.lines().slice(1)).toEqual([`cinder-rtstool delete-initiator ${IQN} fake_init`, 'cinder-rtstool save']);
  });

  it('does nothing for a NULL provider_location', async () => {
    const ex = rtstool();
    const t = await lio(ex);
    await t.terminateConnection(vol({ provider_location: null }), { initiator: 'fake_init' });
    expect(ex.calls).toHaveLength(1); // verify only
  });

  it('crashes on an empty-string provider_location (IndexError) without running anything', async () => {
    const ex = rtstool();
    const t = await lio(ex);
    const err = await t.terminateConnection(vol({ provider_location: '' }), { initiator: 'x' }).catch((e) => e);
    expect(err.name).toBe('IndexError');
    expect(err.message).toBe('list index out of range');
    expect(ex.calls).toHaveLength(1);
  });

  it('a NULL or string connector is a TypeError', async () => {
    const t = await lio(rtstool());
    await expect(t.terminateConnection(vol(), null)).rejects.toThrow("'NoneType' object is not subscriptable");
    await expect(t.terminateConnection(vol(), 'iqn.x')).rejects.toThrow("string indices must be integers, not 'str'");
  });

  it('a failing delete-initiator raises ISCSITargetDetachFailed and does not persist', async () => {
    const ex = rtstool({ 'cinder-rtstool delete-initiator': pee() });
    const t = await lio(ex);
    const err = await t.terminateConnection(vol(), { initiator: 'fake_init' }).catch((e) => e);
    expect(err).toBeInstanceOf(ISCSITargetDetachFailed);
    expect(err.message).toBe(`Failed to detach iSCSI target for volume ${VID}.`);
    expect(ex.lines()).not.toContain('cinder-rtstool save');
  });

  it('a failing save after delete-initiator is only a warning', async () => {
    const ex = rtstool({ 'cinder-rtstool save': pee() });
    const t = await lio(ex);
    await t.terminateConnection(vol(), { initiator: 'fake_init' });
    expect(warnings()).toContain(`Failed to save iscsi LIO configuration when modifying volume id: ${VID}.`);
  });
});

describe('remove_export / remove_iscsi_target', () => {
  it('get-targets, delete <prefix+name>, save when the IQN is listed', async () => {
    const ex = rtstool({}, new Set([IQN]));
    const t = await lio(ex);
    await t.removeExport(vol());
    expect(ex.lines().slice(1)).toEqual(['cinder-rtstool get-targets', `cinder-rtstool delete ${IQN}`, 'cinder-rtstool save']);
  });

  it('only get-targets when the IQN is not listed', async () => {
    const ex = rtstool();
    const t = await lio(ex);
    await t.removeExport(vol());
    expect(ex.lines().slice(1)).toEqual(['cinder-rtstool get-targets']);
    expect(logs.some((l) => String(l.msg).startsWith('Skipping remove_export.'))).toBe(true);
  });

  it('returns silently without commands for a NULL or one-field provider_location', async () => {
    const ex = rtstool();
    const t = await lio(ex);
    await t.removeExport(vol({ provider_location: null }));
    await t.removeExport(vol({ provider_location: '' }));
    await t.removeExport(vol({ provider_location: 'just-one-field' }));
    expect(ex.calls).toHaveLength(1);
  });

  it('returns silently when get-targets itself fails', async () => {
    const ex = rtstool({ 'cinder-rtstool get-targets': pee() });
    const t = await lio(ex);
    await expect(t.removeExport(vol())).resolves.toBeUndefined();
  });

  it('a failing delete raises ISCSITargetRemoveFailed(volume_id) and does not persist', async () => {
    const ex = rtstool({ 'cinder-rtstool delete': pee() }, new Set([IQN]));
    const t = await lio(ex);
    const err = await t.removeExport(vol()).catch((e) => e);
    expect(err).toBeInstanceOf(ISCSITargetRemoveFailed);
    expect(err.message).toBe(`Failed to remove iscsi target for volume ${VID}.`);
    expect(ex.lines()).not.toContain('cinder-rtstool save');
  });

  it('a failing save after delete is only a warning', async () => {
    const ex = rtstool({ 'cinder-rtstool save': pee() }, new Set([IQN]));
    const t = await lio(ex);
    await t.removeExport(vol());
    expect(warnings()).toContain(`Failed to save iscsi LIO configuration when modifying volume id: ${VID}.`);
  });
});

describe('ensure_export', () => {
  it('restores the saved configuration when no target exists', async () => {
    const ex = rtstool();
    const t = await lio(ex);
    await t.ensureExport(vol(), '/dev/vg/lv');
    expect(ex.lines().slice(1)).toEqual(['cinder-rtstool get-targets', 'cinder-rtstool restore']);
  });

  it('does nothing more when targets exist', async () => {
    const ex = rtstool({}, new Set(['iqn.other']));
    const t = await lio(ex);
    await t.ensureExport(vol(), '/dev/vg/lv');
    expect(ex.lines().slice(1)).toEqual(['cinder-rtstool get-targets']);
  });

  it('a failing restore is only a warning', async () => {
    const t = await lio(rtstool({ 'cinder-rtstool restore': pee() }));
    await t.ensureExport(vol(), '/dev/vg/lv');
    expect(warnings()).toContain('Failed to restore iscsi LIO configuration.');
  });
});
