// Issue 12 acceptance 2 (the volume part), through Debian's `openstack` CLI
// (python3-openstackclient): cinder-ts runs with auth_strategy = keystone against a real Keystone
// (scripts/keystone/start.sh) whose catalog carries cinder-ts as `volumev3`
// (scripts/tempest/register.py), and `volume list --status`, `volume show` and
// `volume set --name/--property` and `volume type list` are checked against the DB rows. Skipped, with the reason, only
// when the keystone package or the CLI is missing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Cluster, CinderClient, REPO, sleep } from '../support/cluster.js';
import { authtokenSection, keystoneSkipReason, passwordToken, startKeystone, stopKeystone, type KeystoneInfo } from '../support/keystone.js';
import { runCli } from '../python/py-helper.js';

const OSC = '/usr/bin/openstack';
const SKIP = fs.existsSync(OSC) ? keystoneSkipReason() : 'python3-openstackclient is not installed';
if (SKIP) console.warn(`openstack CLI tier skipped: ${SKIP}`);

let ks: KeystoneInfo;
let cluster: Cluster;
const ids: Record<string, string> = {};

/** `openstack … -f json` as project a's member (a non-admin). */
async function osc(args: string[]) {
  const u = ks.users.member;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) env[k] = v;
  Object.assign(env, {
    OS_AUTH_URL: ks.auth_url,
    OS_IDENTITY_API_VERSION: '3',
    OS_USERNAME: u.name,
    OS_PASSWORD: u.password,
    OS_USER_DOMAIN_ID: 'default',
    OS_PROJECT_ID: u.project_id,
    OS_INTERFACE: 'public',
  });
  const r = await runCli(OSC, args, env);
  expect(r.code, `openstack ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim() ? JSON.parse(r.stdout) : null;
}

describe.skipIf(SKIP !== null)(`openstack volume CLI with Keystone${SKIP ? ` (${SKIP})` : ''}`, () => {
  beforeAll(async () => {
    ks = await startKeystone({ tmpPrefix: 'cinder-ts-ks-osc-' });
    cluster = new Cluster({ extraDefault: { auth_strategy: 'keystone' }, extraConfig: authtokenSection(ks) });
    await cluster.start();
    const info = path.join(ks.dir, 'provision.json');
    fs.writeFileSync(info, JSON.stringify(ks));
    const port = new URL(cluster.baseUrl).port;
    const reg = spawnSync('/usr/bin/python3', [path.join(REPO, 'scripts/tempest/register.py'), info, port], { encoding: 'utf8' });
    if (reg.status !== 0) throw new Error(`register.py: ${reg.stderr}`);
    const token = await passwordToken(ks, ks.users.member);
    const member = new CinderClient(cluster.baseUrl, ks.projects.a, ks.users.member.id, { 'X-Auth-Token': token });
    for (const name of ['osc-one', 'osc-two']) {
      const r = await member.create({ volume: { size: 1, name } });
      expect(r.status, r.text).toBe(202);
      ids[name] = r.json.volume.id;
      for (let i = 0; i < 300 && cluster.volumeRow(ids[name]).status !== 'available'; i++) await sleep(50);
    }
    cluster.write("UPDATE volumes SET status = 'error' WHERE id = ?", ids['osc-two']);
  }, 600_000);

  afterAll(async () => {
    await cluster?.stop();
    if (ks) stopKeystone(ks);
  });

  it('volume list --status', async () => {
    for (const [status, name] of [
      ['available', 'osc-one'],
      ['error', 'osc-two'],
    ]) {
      const listed = (await osc(['volume', 'list', '--status', status, '-f', 'json'])) as { ID: string; Name: string; Status: string }[];
      const rows = cluster.sql<{ id: string }>('SELECT id FROM volumes WHERE deleted = 0 AND project_id = ? AND status = ?', ks.projects.a, status);
      expect(listed.map((v) => v.ID)).toEqual(rows.map((r) => r.id));
      expect(listed.map((v) => [v.Name, v.Status])).toEqual([[name, status]]);
    }
  }, 180_000);

  it('volume set --name/--property, then volume show', async () => {
    const id = ids['osc-one'];
    await osc(['volume', 'set', '--name', 'osc-renamed', '--property', 'k=v', id]);
    expect(cluster.volumeRow(id).display_name).toBe('osc-renamed');
    const md = cluster.sql<{ key: string; value: string }>('SELECT `key`, value FROM volume_metadata WHERE volume_id = ? AND deleted = 0', id);
    expect(md).toEqual([{ key: 'k', value: 'v' }]);
    const shown = await osc(['volume', 'show', id, '-f', 'json']);
    const row = cluster.volumeRow(id);
    expect(shown).toMatchObject({ id, name: 'osc-renamed', status: row.status, size: row.size, bootable: 'false' });
    expect(shown.properties).toEqual({ k: 'v' });
  }, 180_000);

  it('volume type list: the public types a member sees', async () => {
    cluster.write(
      "INSERT INTO volume_types (id, name, description, is_public, deleted, created_at) VALUES ('0b1a8e25-2d7f-4c52-9b34-6f2b0c1d9e11', 'osc-private', NULL, 0, 0, '2026-01-01 00:00:00')",
    );
    const listed = (await osc(['volume', 'type', 'list', '-f', 'json'])) as { ID: string; Name: string; 'Is Public': boolean }[];
    const rows = cluster.sql<{ id: string; name: string }>('SELECT id, name FROM volume_types WHERE deleted = 0 AND is_public = 1 ORDER BY name');
    expect(listed.map((t) => [t.ID, t.Name]).sort((a, b) => a[1].localeCompare(b[1]))).toEqual(rows.map((r) => [r.id, r.name]));
    expect(listed.map((t) => t.Name)).toContain('__DEFAULT__');
    expect(listed.map((t) => t.Name)).not.toContain('osc-private');
    expect(listed.every((t) => t['Is Public'] === true)).toBe(true);
  }, 180_000);
});

