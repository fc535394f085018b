// Issue 12 acceptance 2 (its volume actions): the real `cinder` CLI (Debian's python3-cinderclient)
// against the three services on the stand-ins, for `extend` (also an in-use volume at 3.42),
// `reset-state` and `force-delete`. Each is checked against the DB rows, the stand-ins' command log
// and LVM state, and the lock directory, as Cinder 21.3.1 would leave them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { CinderClient, Cluster, sleep } from '../support/cluster.js';
import { requirePythonModules, runCli } from '../python/py-helper.js';

const PROJECT = 'ac7105000000000000000000000000a1';
const CONNECTOR = { initiator: 'iqn.1994-05.com.redhat:cli-actions', host: 'compute-cli', ip: '192.0.2.71' };

let cluster: Cluster;
let api: CinderClient;

beforeAll(async () => {
  requirePythonModules('cinderclient.v3.client', 'keystoneauth1');
  if (!fs.existsSync('/usr/bin/cinder')) throw new Error('the cinder CLI is missing: run scripts/ensure-python-deps.sh');
  cluster = new Cluster();
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT);
});
afterAll(async () => {
  await cluster?.stop();
});

/** The `cinder` CLI with cinderclient's noauth plugin (an admin context), no OS_* variables from the environment. */
function cinder(args: string[], version?: string) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_') && !k.startsWith('CINDER')) env[k] = v;
  const common = ['--os-auth-type', 'noauth', '--os-user-id', 'operator', '--os-project-id', PROJECT, '--os-endpoint', `${cluster.baseUrl}/v3`];
  if (version) common.push('--os-volume-api-version', version);
  return runCli('/usr/bin/cinder', [...common, ...args], env);
}

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const lvFile = (id: string) => path.join(cluster.standinState, 'lvm', 'cinder-volumes', `volume-${id}`);
const lvSize = (id: string) => fs.readFileSync(lvFile(id), 'utf8').split(' ')[0];
const row = (id: string) => cluster.volumeRow(id);

describe('cinder extend', () => {
  it('an available volume: lvextend -L 2g through the root helper, size 2 and available again', async () => {
    const id = await cluster.newVolume(api);
    cluster.clearStandinLog();
    const r = await cinder(['extend', id, '2']);
    expect(r.code, r.stderr).toBe(0);
    await until('size 2', () => row(id).size === 2 && row(id).status === 'available');
    expect(row(id)).toMatchObject({ status: 'available', size: 2, previous_status: 'available' });
    expect(cluster.argvs()).toEqual([
      `env LC_ALL=C lvdisplay --noheading -C -o Attr --readonly cinder-volumes/volume-${id}`,
      `env LC_ALL=C lvextend -L 2g cinder-volumes/volume-${id}`,
    ]);
    expect(lvSize(id)).toBe('2.00');
  });

  it('a size that does not grow: the CLI reports the 400 and nothing runs', async () => {
    const id = await cluster.newVolume(api);
    cluster.clearStandinLog();
    const r = await cinder(['extend', id, '1'], '3.0');
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('New size for extend must be greater than current size. (current: 1, extended: 1).');
    expect(r.stdout + r.stderr).toContain('HTTP 400');
    expect(row(id)).toMatchObject({ status: 'available', size: 1 });
    expect(cluster.argvs()).toEqual([]);
  });

  it('an in-use volume: refused at 3.0, extended at 3.42 and in-use again (the LIO target needs no command)', async () => {
    const { id } = await cluster.attachedVolume(api, CONNECTOR);
    const refused = await cinder(['extend', id, '3'], '3.0');
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain(`Volume ${id} status must be '{'status': 'available'}' to extend, currently in-use.`);
    cluster.clearStandinLog();
    const r = await cinder(['extend', id, '3'], '3.42');
    expect(r.code, r.stderr).toBe(0);
    await until('size 3', () => row(id).size === 3 && row(id).status === 'in-use');
    expect(cluster.argvs()).toEqual([
      `env LC_ALL=C lvdisplay --noheading -C -o Attr --readonly cinder-volumes/volume-${id}`,
      `env LC_ALL=C lvextend -L 3g cinder-volumes/volume-${id}`,
    ]);
    expect(cluster.target(id)).toEqual({ exists: true, acls: [CONNECTOR.initiator] });
  });

  it('a failing lvextend: error_extending, size unchanged', async () => {
    const id = await cluster.newVolume(api);
    cluster.injectFailure('env LC_ALL=C lvextend');
    try {
      const r = await cinder(['extend', id, '2']);
      expect(r.code, r.stderr).toBe(0);
      await until('error_extending', () => row(id).status === 'error_extending');
    } finally {
      cluster.clearFailures();
    }
    expect(row(id)).toMatchObject({ status: 'error_extending', size: 1 });
    expect(lvSize(id)).toBe('1.00');
  });
});

describe('cinder reset-state', () => {
  it('--state error: the row only (no storage command), and its workers row removed', async () => {
    const id = await cluster.newVolume(api);
    // The create's workers row goes once the manager is done with it (just after 'available');
    // then a cleanup entry as a volume-manager leaves one while it works on the volume.
    await until('the create\'s workers row gone', () => cluster.sql('SELECT id FROM workers WHERE resource_id = ?', id).length === 0);
    cluster.write(
      "INSERT INTO workers (created_at, deleted, resource_type, resource_id, status, race_preventer) VALUES (?, 0, 'Volume', ?, 'deleting', 0)",
      cluster.db.timestamp(),
      id,
    );
    expect(cluster.sql('SELECT resource_type FROM workers WHERE resource_id = ?', id)).toEqual([{ resource_type: 'Volume' }]);
    cluster.clearStandinLog();
    const r = await cinder(['reset-state', '--state', 'error', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(row(id)).toMatchObject({ status: 'error', attach_status: 'detached' });
    expect(cluster.sql('SELECT * FROM workers WHERE resource_id = ?', id)).toEqual([]);
    expect(cluster.argvs()).toEqual([]);
  });

  it('--state deleting is refused (400 "Cannot reset-state to deleting")', async () => {
    const id = await cluster.newVolume(api);
    const r = await cinder(['reset-state', '--state', 'deleting', id]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('Cannot reset-state to deleting');
    expect(row(id).status).toBe('available');
  });
});

describe('cinder force-delete', () => {
  it('a volume in error_extending: LV removed, row deleted, its attachment_update lock files gone', async () => {
    const id = await cluster.newVolume(api);
    cluster.setVolume(id, { status: 'error_extending' });
    const stateDir = path.join(cluster.dir, 'state');
    const mine = path.join(stateDir, `cinder-attachment_update-${id}-compute-cli`);
    const other = path.join(stateDir, 'cinder-attachment_update-00000000-0000-0000-0000-000000000000-compute-cli');
    fs.writeFileSync(mine, '');
    fs.writeFileSync(other, '');
    cluster.clearStandinLog();
    const r = await cinder(['force-delete', id]);
    expect(r.code, r.stderr).toBe(0);
    await until('deleted', () => row(id)?.deleted === 1 || row(id)?.deleted === true);
    expect(row(id)).toMatchObject({ status: 'deleted' });
    expect(cluster.argvs()).toContain(`lvremove --config activation { retry_deactivation = 1}  -f cinder-volumes/volume-${id}`);
    expect(fs.readFileSync(lvFile(id), 'utf8')).toBe('');
    expect(fs.existsSync(mine)).toBe(false);
    expect(fs.existsSync(other)).toBe(true);
  });

  it('an attached volume is refused (400), nothing deleted', async () => {
    const { id } = await cluster.attachedVolume(api, CONNECTOR);
    cluster.clearStandinLog();
    const r = await cinder(['force-delete', id]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('must not be migrating, attached, belong to a group, have snapshots');
    expect(row(id)).toMatchObject({ status: 'in-use', deleted: expect.anything() });
    expect(cluster.argvs()).toEqual([]);
  });
});
