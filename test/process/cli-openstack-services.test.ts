// Issue 12 acceptance 2 (services, the `openstack volume` half): Debian's python3-openstackclient
// with a real Keystone (scripts/keystone/start.sh) whose catalog has cinder-ts as volumev3
// (scripts/tempest/register.py): `openstack volume service list` and `volume service set
// --disable --disable-reason` / `--enable`, checked against the services rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Cluster, REPO } from '../support/cluster.js';
import { authtokenSection, keystoneSkipReason, startKeystone, stopKeystone, type KeystoneInfo } from '../support/keystone.js';
import { runCli } from '../python/py-helper.js';

const skip = fs.existsSync('/usr/bin/openstack') ? keystoneSkipReason() : 'python3-openstackclient is not installed';
if (skip) console.warn(`skipped: ${skip}`);

describe.skipIf(skip !== null)('openstack volume service (Keystone)', () => {
  let ks: KeystoneInfo;
  let cluster: Cluster;

  beforeAll(async () => {
    ks = await startKeystone({ tmpPrefix: 'cinder-ts-osc-keystone-' });
    cluster = new Cluster({ extraDefault: { auth_strategy: 'keystone' }, extraConfig: authtokenSection(ks) });
    await cluster.start();
    const info = path.join(ks.dir, 'provision-info.json');
    fs.writeFileSync(info, JSON.stringify(ks));
    const r = spawnSync('/usr/bin/python3', [path.join(REPO, 'scripts/tempest/register.py'), info, String(cluster.port)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`register.py failed: ${r.stderr}`);
  }, 600_000);
  afterAll(async () => {
    await cluster?.stop();
    if (ks) stopKeystone(ks);
  });

  /** `openstack` as the admin user, no OS_* from the environment; JSON output. */
  async function osc(args: string[]): Promise<any> {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) env[k] = v;
    const a = ks.users.admin;
    const common = [
      '--os-auth-url', ks.auth_url, '--os-identity-api-version', '3', '--os-username', a.name, '--os-password', a.password,
      '--os-project-id', a.project_id, '--os-user-domain-name', 'Default', '--os-project-domain-name', 'Default',
      '--os-region-name', 'RegionOne', '--os-interface', 'public', '--os-volume-api-version', '3.7',
    ];
    const r = await runCli('/usr/bin/openstack', [...common, ...args], env);
    if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim() ? JSON.parse(r.stdout) : null;
  }
  const row = () => cluster.sql<any>("SELECT disabled, disabled_reason FROM services WHERE `binary` = 'cinder-volume' AND deleted = 0")[0];
  const backend = () => `${cluster.host}@${cluster.backend}`;

  it('volume service list shows both services, up and enabled', async () => {
    const list = await osc(['volume', 'service', 'list', '-f', 'json']);
    expect(list).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Binary: 'cinder-volume', Host: backend(), Zone: 'nova', Status: 'enabled', State: 'up' }),
        expect.objectContaining({ Binary: 'cinder-scheduler', Host: cluster.host, Status: 'enabled', State: 'up' }),
      ]),
    );
  });

  it('volume service set --disable --disable-reason, then --enable', async () => {
    await osc(['volume', 'service', 'set', '--disable', '--disable-reason', 'osc maintenance', backend(), 'cinder-volume']);
    expect(row()).toMatchObject({ disabled: 1, disabled_reason: 'osc maintenance' });
    const list = await osc(['volume', 'service', 'list', '--long', '-f', 'json']);
    expect(list.find((s: any) => s.Binary === 'cinder-volume')).toMatchObject({ Status: 'disabled', 'Disabled Reason': 'osc maintenance' });
    await osc(['volume', 'service', 'set', '--enable', backend(), 'cinder-volume']);
    expect(row().disabled).toBe(0);
  });
});
