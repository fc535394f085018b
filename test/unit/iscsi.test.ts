import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandExecutor, ExecResult, ExecuteOptions } from '../../src/common/executor.js';
import { ProcessExecutionError } from '../../src/common/executor.js';
import { InvalidConnectorException, InvalidVolume } from '../../src/common/exceptions.js';
import { InterProcessLock } from '../../src/common/lock.js';
import {
  DEFAULT_PASSWORD_SYMBOLS,
  type TargetConfig,
  type TargetVolume,
  generatePassword,
  generateUsername,
  sanitizeHost,
} from '../../src/targets/iscsi.js';
import { LioAdm } from '../../src/targets/lio.js';

// ---- a recording fake executor (the only fake) --------------------------------------------------
type Reply = Partial<ExecResult> | Error | undefined;
class FakeExecutor implements CommandExecutor {
  calls: { argv: string[]; opts: ExecuteOptions }[] = [];
  constructor(private readonly reply: (argv: string[]) => Reply = () => undefined) {}
  async execute(argv: readonly string[], opts: ExecuteOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], opts });
    const r = this.reply([...argv]);
    if (r instanceof Error) throw r;
    return { stdout: r?.stdout ?? '', stderr: r?.stderr ?? '', exitCode: r?.exitCode ?? 0 };
  }
  lines(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }
}

const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-iscsi-'));
afterAll(() => fs.rmSync(lockDir, { recursive: true, force: true }));
const silent = pino({ level: 'silent' });

const baseConfig: TargetConfig = {
  target_prefix: 'iqn.2010-10.org.openstack:',
  target_ip_address: '10.10.7.1',
  target_port: 3260,
  target_protocol: 'iscsi',
  iscsi_secondary_ip_addresses: [],
};

function target(config: Partial<TargetConfig> = {}, ex = new FakeExecutor()): LioAdm {
  return new LioAdm({ config: { ...baseConfig, ...config }, executor: ex, lock: new InterProcessLock(lockDir), logger: silent });
}

function vol(over: Partial<TargetVolume> = {}): TargetVolume {
  return {
    id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    _name_id: null,
    provider_location: null,
    provider_auth: null,
    provider_geometry: null,
    encryption_key_id: null,
    host: 'node1@lvm#LVM',
    ...over,
  };
}

describe('CHAP credential generation', () => {
  const alphabet = DEFAULT_PASSWORD_SYMBOLS.join('');

  it('the alphabet has no look-alike characters', () => {
    expect(alphabet).toBe('23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz');
    for (const c of '01IOl') expect(alphabet).not.toContain(c);
  });

  it('passwords are 16 and user names 20 characters from the alphabet, with every group present', () => {
    for (let i = 0; i < 300; i++) {
      for (const [s, len] of [
        [generatePassword(), 16],
        [generateUsername(), 20],
      ] as const) {
        expect(s).toHaveLength(len);
        for (const c of s) expect(alphabet).toContain(c);
        for (const group of DEFAULT_PASSWORD_SYMBOLS) expect([...s].some((c) => group.includes(c))).toBe(true);
      }
    }
  });

  it('honours other lengths (shorter than the group count truncates)', () => {
    expect(generatePassword(2)).toHaveLength(2);
    expect(generatePassword(40)).toHaveLength(40);
  });

  it('is random', () => {
    expect(new Set(Array.from({ length: 50 }, () => generatePassword())).size).toBe(50);
  });
});

describe('_iscsi_location and sanitize_host', () => {
  const t = target();
  it('formats portal,target iqn lun', () => {
    expect(t.iscsiLocation('portal', 1, 'target', 2)).toBe('portal:3260,1 target 2');
  });
  it('joins secondary portals with ;', () => {
    expect(t.iscsiLocation('portal', 1, 'target', 2, ['portal2'])).toBe('portal:3260;portal2:3260,1 target 2');
  });
  it('brackets IPv6 addresses', () => {
    expect(t.iscsiLocation('fd00::1', 1, 'target', 2, ['fd00::2', '10.0.0.2'])).toBe('[fd00::1]:3260;[fd00::2]:3260;10.0.0.2:3260,1 target 2');
    expect(sanitizeHost('::1')).toBe('[::1]');
    expect(sanitizeHost('fe80::1%eth0')).toBe('[fe80::1%eth0]');
    expect(sanitizeHost('192.168.0.1')).toBe('192.168.0.1');
    expect(sanitizeHost('host.example')).toBe('host.example');
  });
  it('uses the configured port', () => {
    expect(target({ target_port: 3261 }).iscsiLocation('1.2.3.4', 'x', 'iqn', 0)).toBe('1.2.3.4:3261,x iqn 0');
  });
});

describe('_get_iscsi_properties', () => {
  const t = target();

  it('parses location, CHAP auth and geometry into the full dict', async () => {
    const props = await t.getIscsiProperties(
      vol({
        provider_location: '10.10.7.1:3260 iqn.2010-10.org.openstack:volume-00000001 0',
        provider_auth: 'CHAP stack-1-a60e2611875f40199931f2c76370d4f3 2FE0CQ8J196R',
        provider_geometry: '512 512',
      }),
    );
    expect(props).toEqual({
      target_discovered: false,
      target_portal: '10.10.7.1:3260',
      target_iqn: 'iqn.2010-10.org.openstack:volume-00000001',
      target_lun: 0,
      volume_id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      auth_method: 'CHAP',
      auth_username: 'stack-1-a60e2611875f40199931f2c76370d4f3',
      auth_password: '2FE0CQ8J196R',
      physical_block_size: '512',
      logical_block_size: '512',
      encrypted: false,
    });
  });

  it('returns portal/iqn/lun lists for multiple portals', async () => {
    const props = await t.getIscsiProperties(vol({ provider_location: '1.1.1.1:3260;2.2.2.2:3261,1 iqn:iqn 0' }));
    expect(props).toMatchObject({
      target_portal: '1.1.1.1:3260',
      target_iqn: 'iqn:iqn',
      target_lun: 0,
      target_portals: ['1.1.1.1:3260', '2.2.2.2:3261'],
      target_iqns: ['iqn:iqn', 'iqn:iqn'],
      target_luns: [0, 0],
    });
  });

  it('returns the lists for a single portal when multipath is asked for', async () => {
    const props = await t.getIscsiProperties(vol({ provider_location: '1.1.1.1:3260,iqn:x iqn:x 0' }), true);
    expect(props.target_portals).toEqual(['1.1.1.1:3260']);
    const plain = await t.getIscsiProperties(vol({ provider_location: '1.1.1.1:3260,iqn:x iqn:x 0' }), false);
    expect(plain).not.toHaveProperty('target_portals');
  });

  it('reads the LIO location (IQN in the tpgt slot); a missing or bad LUN is 0', async () => {
    const loc = '10.0.0.1:3260,iqn.2010-10.org.openstack:volume-X iqn.2010-10.org.openstack:volume-X 0';
    expect((await t.getIscsiProperties(vol({ provider_location: loc }))).target_iqn).toBe('iqn.2010-10.org.openstack:volume-X');
    expect((await t.getIscsiProperties(vol({ provider_location: '1.1.1.1:3260,1 iqn' }))).target_lun).toBe(0);
    expect((await t.getIscsiProperties(vol({ provider_location: '1.1.1.1:3260,1 iqn abc' }))).target_lun).toBe(0);
    expect((await t.getIscsiProperties(vol({ provider_location: '1.1.1.1:3260,1 iqn 7' }))).target_lun).toBe(7);
  });

  it('sets encrypted from encryption_key_id', async () => {
    const props = await t.getIscsiProperties(vol({ provider_location: '1.1.1.1:3260,1 iqn 0', encryption_key_id: 'k' }));
    expect(props.encrypted).toBe(true);
  });

  it('fails on a malformed provider_auth like the tuple unpacking does', async () => {
    await expect(t.getIscsiProperties(vol({ provider_location: '1:3260,1 iqn 0', provider_auth: 'CHAP user' }))).rejects.toThrow(
      'not enough values to unpack (expected 3, got 2)',
    );
  });

  it('falls back to sendtargets discovery for an empty provider_location', async () => {
    const v = vol();
    const ex = new FakeExecutor((argv) =>
      argv[0] === 'iscsiadm' ? { stdout: `10.10.7.1:3260,1 iqn.2010-10.org.openstack:volume-${v.id}\n` } : undefined,
    );
    const props = await target({}, ex).getIscsiProperties(v);
    expect(ex.calls[0]).toEqual({ argv: ['iscsiadm', '-m', 'discovery', '-t', 'sendtargets', '-p', 'node1'], opts: { runAsRoot: true } });
    expect(props).toMatchObject({ target_discovered: true, target_iqn: `iqn.2010-10.org.openstack:volume-${v.id}` });
  });

  it('raises InvalidVolume when discovery finds nothing (or fails)', async () => {
    const ex = new FakeExecutor(() => new ProcessExecutionError('iscsiadm', 21, '', 'no route'));
    const err = await target({}, ex).getIscsiProperties(vol({ provider_location: '' })).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidVolume);
    expect(err.message).toBe('Invalid volume: Could not find iSCSI export for volume volume-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
  });
});

describe('validate_connector', () => {
  const t = target();
  it('accepts a connector with an initiator', () => {
    expect(t.validateConnector({ initiator: 'iqn.1993-08.org.debian:01:abc', host: 'h' })).toBe(true);
  });
  it('raises InvalidConnectorException(missing=initiator) otherwise', () => {
    const err = (() => {
      try {
        t.validateConnector({ ip: '1.1.1.1', host: 'h' });
      } catch (e) {
        return e as InvalidConnectorException;
      }
    })();
    expect(err).toBeInstanceOf(InvalidConnectorException);
    expect(err!.message).toBe("Connector doesn't have required information: initiator");
  });
});

describe('create_export (base logic through LioAdm)', () => {
  function stateful() {
    const targets = new Set<string>();
    return new FakeExecutor((argv) => {
      if (argv[1] === 'create') targets.add(argv[3]);
      if (argv[1] === 'get-targets') return { stdout: [...targets].map((t) => `${t}\n`).join('') };
      return undefined;
    });
  }

  it('generates CHAP credentials and builds location/auth', async () => {
    const ex = stateful();
    const v = vol();
    const data = await target({}, ex).createExport(v, `/dev/cinder-volumes/volume-${v.id}`);
    const iqn = `iqn.2010-10.org.openstack:volume-${v.id}`;
    const [, user, pass] = data.auth.split(' ');
    expect(data.auth).toMatch(/^CHAP [2-9A-HJ-NP-Za-km-z]{20} [2-9A-HJ-NP-Za-km-z]{16}$/);
    expect(data.location).toBe(`10.10.7.1:3260,${iqn} ${iqn} 0`);
    expect(ex.calls[0].argv).toEqual(['cinder-rtstool', 'create', `/dev/cinder-volumes/volume-${v.id}`, iqn, user, pass, 'False', '-p3260', '-a10.10.7.1']);
    expect(ex.calls[0].opts).toEqual({ runAsRoot: true, redact: [user, pass] });
  });

  it('reuses the CHAP credentials of provider_auth', async () => {
    const ex = stateful();
    const data = await target({}, ex).createExport(vol({ provider_auth: 'CHAP olduser oldpass' }), '/dev/vg/lv');
    expect(data.auth).toBe('CHAP olduser oldpass');
    expect(ex.calls[0].argv.slice(4, 6)).toEqual(['olduser', 'oldpass']);
  });

  it('passes secondary portals to rtstool and into the location; iSER sets True', async () => {
    const ex = stateful();
    const v = vol();
    const data = await target({ iscsi_secondary_ip_addresses: ['fd00::5'], target_protocol: 'iser', target_port: 3261 }, ex).createExport(v, '/dev/vg/lv');
    expect(ex.calls[0].argv.slice(6)).toEqual(['True', '-p3261', '-a10.10.7.1,fd00::5']);
    expect(data.location.startsWith('10.10.7.1:3261;[fd00::5]:3261,iqn.')).toBe(true);
  });
});
