// The LVM driver + LioAdm + ProcessExecutor against the recording stand-ins (test/stand-ins/),
// reached through the root helper exactly as in a deployment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BackendConfig } from '../../src/common/config.js';
import { testBackend } from '../support/backend.js';
import { ISCSITargetDetachFailed } from '../../src/common/exceptions.js';
import { ProcessExecutor } from '../../src/common/executor-process.js';
import { InterProcessLock } from '../../src/common/lock.js';
import { type LVMVolumeDriver, createLvmDriver } from '../../src/drivers/lvm.js';
import type { Volume, VolumeAttachment } from '../../src/objects/volume.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const standIns = path.resolve(here, '../stand-ins');
const rootHelper = path.join(standIns, 'root-helper');
const rtstool = path.join(standIns, 'bin', 'cinder-rtstool');

interface LogLine {
  argv: string[];
  t_start: number;
  t_end: number;
  lock_held: boolean | null;
  root: boolean;
  rc: number;
}

let base: string;
let state: string;
let logFile: string;
let lockPath: string;
const logs: Record<string, unknown>[] = [];
const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) });

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-standin-'));
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

beforeEach(() => {
  const run = fs.mkdtempSync(path.join(base, 'run-'));
  state = path.join(run, 'state');
  logFile = path.join(run, 'calls.jsonl');
  lockPath = path.join(run, 'lock');
  fs.mkdirSync(state);
  process.env.CINDER_TS_STANDIN_STATE = state;
  process.env.CINDER_TS_STANDIN_LOG = logFile;
  process.env.CINDER_TS_LOCK_PATH = lockPath;
  delete process.env.CINDER_TS_STANDIN_VGS;
  logs.length = 0;
});

function calls(): LogLine[] {
  if (!fs.existsSync(logFile)) return [];
  return fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);
}

const backend = testBackend;

async function setup(over: Partial<BackendConfig> = {}): Promise<LVMVolumeDriver> {
  const executor = new ProcessExecutor({ rootHelper, defaultTimeoutMs: 60_000, logger });
  const d = await createLvmDriver({
    backend: backend(over),
    defaults: { rtstool_path: rtstool },
    lockPath,
    executor,
    logger,
    lock: new InterProcessLock(lockPath),
    sleep: async () => undefined,
  });
  await d.doSetup();
  await d.checkForSetupError();
  return d;
}

function vol(id: string, over: Partial<Volume> = {}): Volume {
  return {
    id,
    _name_id: null,
    size: 1,
    host: 'node1@lvm#LVM',
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

const uuid = (i: number) => `${String(i).padStart(8, '0')}-aaaa-bbbb-cccc-dddddddddddd`;
const rtstoolCalls = () => calls().filter((c) => path.basename(c.argv[0]) === 'cinder-rtstool');
const targets = () => fs.readdirSync(path.join(state, 'targets')).filter((f) => fs.statSync(path.join(state, 'targets', f)).size > 0);

describe('LVM + LIO against the stand-ins', () => {
  it('full lifecycle of several volumes in parallel: every rtstool run holds cinder-lioadm, none overlap', async () => {
    const d = await setup();
    const connector = { initiator: 'iqn.1994-05.com.redhat:compute-1', host: 'compute-1' };
    await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        let v = vol(uuid(i));
        await d.createVolume(v);
        const update = await d.createExport(v, connector);
        v = { ...v, ...update, volume_attachment: [{ connector } as unknown as VolumeAttachment] };
        const info = await d.initializeConnection(v, connector);
        expect(info.data).toMatchObject({ target_iqn: `iqn.2010-10.org.openstack:volume-${uuid(i)}`, auth_method: 'CHAP' });
        expect(await d.terminateConnection(v, connector)).toBe(false);
        await d.removeExport(v);
        await d.deleteVolume(v);
      }),
    );

    const all = calls();
    expect(all.every((c) => c.rc === 0)).toBe(true);
    const verify = all[0];
    expect(verify).toMatchObject({ argv: [rtstool, 'verify'], root: false, lock_held: false });

    const rts = rtstoolCalls().filter((c) => c.root);
    // per volume: create, get-targets, save / add-initiator, save / delete-initiator, save / get-targets, delete, save;
    // the saves and listings still queued on the lock are shared (group commit), the changes never are
    const sub = (c: { argv: string[] }) => c.argv[1];
    const changes = rts.filter((c) => ['create', 'add-initiator', 'delete-initiator', 'delete'].includes(sub(c)));
    expect(changes).toHaveLength(6 * 4);
    const saves = rts.filter((c) => sub(c) === 'save');
    const listings = rts.filter((c) => sub(c) === 'get-targets');
    expect(saves.length).toBeGreaterThanOrEqual(1);
    expect(saves.length).toBeLessThanOrEqual(6 * 4);
    expect(listings.length).toBeGreaterThanOrEqual(1);
    expect(listings.length).toBeLessThanOrEqual(6 * 2);
    expect(rts).toHaveLength(changes.length + saves.length + listings.length);
    expect(rts.every((c) => c.lock_held === true)).toBe(true);
    const sorted = [...rts].sort((a, b) => a.t_start - b.t_start);
    for (let k = 1; k < sorted.length; k++) expect(sorted[k].t_start).toBeGreaterThanOrEqual(sorted[k - 1].t_end);
    // every change is covered by a save that started after it ended: the last call is a save
    expect(sub(sorted[sorted.length - 1])).toBe('save');
    for (const c of changes) expect(saves.some((s) => s.t_start >= c.t_end)).toBe(true);

    expect(targets()).toEqual([]);
    const lvDir = path.join(state, 'lvm', 'cinder-volumes');
    expect(fs.readdirSync(lvDir).filter((f) => fs.statSync(path.join(lvDir, f)).size > 0)).toEqual([]);
    // the zeroing ran through the root helper
    expect(all.filter((c) => c.argv[0] === 'dd' && c.argv[1].startsWith('if=/dev/zero'))).toHaveLength(6);
  }, 60_000);

  it('records the exact create argv, keeps the ACL of a shared multiattach host, and removes it at the end', async () => {
    const d = await setup();
    const id = uuid(42);
    const iqn = `iqn.2010-10.org.openstack:volume-${id}`;
    const c1 = { initiator: 'iqn.1994-05.com.redhat:host1', host: 'host1' };
    let v = vol(id, { multiattach: true });
    await d.createVolume(v);
    v = { ...v, ...(await d.createExport(v, c1)) };
    const [, user, pass] = v.provider_auth!.split(' ');
    const create = rtstoolCalls().find((c) => c.argv[1] === 'create')!;
    expect(create.argv).toEqual([rtstool, 'create', `/dev/cinder-volumes/volume-${id}`, iqn, user, pass, 'False', '-p3260', '-a192.168.0.10']);
    expect(v.provider_location).toBe(`192.168.0.10:3260,${iqn} ${iqn} 0`);

    await d.initializeConnection(v, c1);
    await d.initializeConnection(v, c1);
    const a = [{ connector: c1 }, { connector: c1 }] as unknown as VolumeAttachment[];
    const aclLines = () => fs.readFileSync(path.join(state, 'targets', iqn), 'utf8').split('\n').filter((l) => l.startsWith('acl '));
    expect(aclLines()).toEqual([`acl ${c1.initiator} ${user} ${pass}`]);

    expect(await d.terminateConnection({ ...v, volume_attachment: a }, c1)).toBe(true);
    expect(aclLines()).toHaveLength(1);
    expect(await d.terminateConnection({ ...v, volume_attachment: [a[0]] }, c1)).toBe(false);
    expect(aclLines()).toHaveLength(0);
    // a second detach of the same initiator still succeeds (rtstool: "ACL not found. Continuing.")
    expect(await d.terminateConnection({ ...v, volume_attachment: [a[0]] }, c1)).toBe(false);
  }, 60_000);

  it('injected rtstool failures map to Cinder exceptions; a failing save is only a warning', async () => {
    const d = await setup();
    const id = uuid(7);
    let v = vol(id);
    await d.createVolume(v);
    fs.writeFileSync(path.join(state, 'fail'), 'cinder-rtstool save\n');
    v = { ...v, ...(await d.createExport(v, null)) };
    expect(logs.some((l) => l.level === 40 && String(l.msg).startsWith('Failed to save iscsi LIO configuration'))).toBe(true);

    fs.writeFileSync(path.join(state, 'fail'), 'cinder-rtstool delete-initiator\n');
    await expect(d.terminateConnection(v, { initiator: 'iqn.x' })).rejects.toBeInstanceOf(ISCSITargetDetachFailed);
    const failed = rtstoolCalls().at(-1)!;
    expect(failed).toMatchObject({ rc: 1, lock_held: true });
    expect(failed.argv.slice(1, 2)).toEqual(['delete-initiator']);
  }, 60_000);

  it('CHAP secrets never reach the logs', async () => {
    const d = await setup();
    const id = uuid(9);
    let v = vol(id);
    await d.createVolume(v);
    v = { ...v, ...(await d.createExport(v, null)) };
    await d.initializeConnection(v, { initiator: 'iqn.y' });
    const [, user, pass] = v.provider_auth!.split(' ');
    const text = JSON.stringify(logs.filter((l) => l.cmd !== undefined));
    expect(text).toContain('cinder-rtstool create');
    expect(text).not.toContain(pass);
    expect(text).not.toContain(user);
  }, 60_000);

  it('a missing volume group stops the setup', async () => {
    process.env.CINDER_TS_STANDIN_VGS = 'other-vg';
    await expect(setup()).rejects.toThrow(); // vgs exits 5: "Volume group ... not found"
  }, 60_000);
});
