// Issue 12 acceptance 2 (quotas through python3-openstackclient): `openstack quota show` against a
// real Keystone (scripts/keystone/start.sh) whose catalog names cinder-ts as volumev3
// (scripts/tempest/register.py), with cinder-api on auth_strategy = keystone; the answer must be
// the project's quota rows. Skipped only when the keystone package cannot be installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Cluster, REPO } from '../support/cluster.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { authtokenSection, keystoneSkipReason, passwordToken, startKeystone, stopKeystone, type KeystoneInfo } from '../support/keystone.js';
import { runCli } from '../python/py-helper.js';

const SKIP = keystoneSkipReason();
if (SKIP) console.warn(`openstack quota tier skipped: ${SKIP}`);

let ks: KeystoneInfo;
let cluster: Cluster;
let nova: http.Server;

/**
 * This openstackclient builds its compute client before asking any quota (EndpointNotFound
 * without a compute endpoint): a stand-in Nova that answers an empty compute quota set.
 */
async function novaStandIn(): Promise<number> {
  nova = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    const m = /os-quota-sets\/([^/?]+)/.exec(req.url ?? '');
    if (m) return res.end(JSON.stringify({ quota_set: { id: m[1] } }));
    res.end(JSON.stringify({ version: { id: 'v2.1', status: 'CURRENT', version: '2.1', min_version: '2.1', links: [] } }));
  });
  await new Promise<void>((r) => nova.listen(0, '127.0.0.1', r));
  return (nova.address() as AddressInfo).port;
}

/** A compute service and its public endpoint in Keystone's catalog. */
async function registerCompute(port: number): Promise<void> {
  const token = await passwordToken(ks, ks.users.admin);
  const post = async (p: string, body: unknown) => {
    const r = await fetch(`${ks.auth_url}${p}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Auth-Token': token }, body: JSON.stringify(body) });
    if (r.status !== 201) throw new Error(`${p}: ${r.status} ${await r.text()}`);
    return (await r.json()) as Record<string, { id: string }>;
  };
  const svc = await post('/services', { service: { name: 'nova', type: 'compute' } });
  await post('/endpoints', { endpoint: { service_id: svc.service.id, interface: 'public', region_id: 'RegionOne', url: `http://127.0.0.1:${port}/v2.1` } });
}

beforeAll(async () => {
  if (SKIP) return;
  ks = await startKeystone({ tmpPrefix: 'cinder-ts-osc-keystone-' });
  cluster = new Cluster({ quotas: 'cinder', extraDefault: { auth_strategy: 'keystone' }, extraConfig: authtokenSection(ks) });
  await cluster.start();
  const info = path.join(ks.dir, 'keystone.json');
  fs.writeFileSync(info, JSON.stringify(ks));
  const r = spawnSync('/usr/bin/python3', [path.join(REPO, 'scripts/tempest/register.py'), info, String(cluster.port)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`register.py failed: ${r.stderr}`);
  await registerCompute(await novaStandIn());
}, 300_000);
afterAll(async () => {
  await cluster?.stop();
  nova?.close();
  if (ks) stopKeystone(ks);
});

/** `openstack` as the Keystone admin user, nothing from the environment's OS_* variables. */
async function openstack(args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) env[k] = v;
  const a = ks.users.admin;
  Object.assign(env, {
    OS_AUTH_URL: ks.auth_url, OS_USERNAME: a.name, OS_PASSWORD: a.password, OS_PROJECT_NAME: a.project_name,
    OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3', OS_INTERFACE: 'public',
  });
  return runCli('/usr/bin/openstack', args, env);
}

describe.skipIf(SKIP)('openstack quota show (python3-openstackclient, Keystone)', () => {
  it("shows the project's volume quotas as the rows say", async () => {
    const project = ks.projects.a;
    cluster.write(
      "INSERT INTO quotas (created_at, updated_at, deleted, project_id, resource, hard_limit, allocated) VALUES ('2026-01-01 00:00:00', '2026-01-01 00:00:00', 0, ?, 'volumes', 7, 0)",
      project,
    );
    const r = await openstack(['quota', 'show', '-f', 'json', project]);
    expect(r.code, r.stderr).toBe(0);
    const q = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(q).toMatchObject({ volumes: 7, gigabytes: 1000, snapshots: 10, 'per-volume-gigabytes': -1 });
  }, 120_000);
});
