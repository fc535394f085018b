// Issue 12 acceptance 2 (quotas and transfers): Debian's `cinder` CLI (python3-cinderclient) for
// quota-show, quota-update, quota-usage, transfer-create and transfer-accept against the three
// services, each checked against the quota and transfer rows as Cinder's DbQuotaDriver leaves them.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { Cluster, sleep } from '../support/cluster.js';
import { runCli } from '../python/py-helper.js';

const PROJECT = 'c11a0000000000000000000000000a01';
const OTHER = 'c11b0000000000000000000000000b02';

let cluster: Cluster;

beforeAll(async () => {
  if (!fs.existsSync('/usr/bin/cinder')) throw new Error('the cinder CLI is missing: run scripts/ensure-python-deps.sh');
  cluster = new Cluster({ quotas: 'cinder' });
  await cluster.start();
});
afterAll(async () => {
  await cluster?.stop();
});

/** The `cinder` CLI with cinderclient's noauth plugin (an admin context in `project`). */
async function cinder(args: string[], project = PROJECT, version = '3.0') {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_') && !k.startsWith('CINDER')) env[k] = v;
  const common = ['--os-auth-type', 'noauth', '--os-user-id', 'operator', '--os-project-id', project, '--os-endpoint', `${cluster.baseUrl}/v3`];
  const r = await runCli('/usr/bin/cinder', [...common, '--os-volume-api-version', version, ...args], env);
  if (r.code !== 0) throw new Error(`cinder ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Rows of a prettytable ("| a | b |") as arrays of trimmed cells, header first. */
function table(out: string): string[][] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}
const props = (out: string) => Object.fromEntries(table(out).slice(1).map(([k, v]) => [k, v]));

const usage = (project: string, resource: string) =>
  cluster.sql<{ in_use: number; reserved: number }>(
    'SELECT in_use, reserved FROM quota_usages WHERE project_id = ? AND resource = ? AND deleted = 0',
    project,
    resource,
  )[0];

async function waitStatus(id: string, status: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    if (cluster.sql<{ status: string }>('SELECT status FROM volumes WHERE id = ?', id)[0]?.status === status) return;
    await sleep(100);
  }
  throw new Error(`volume ${id} never reached ${status}`);
}

describe('cinder CLI: quotas and transfers', () => {
  let volumeId = '';

  it('quota-show answers the default class limits', async () => {
    const q = props(await cinder(['quota-show', PROJECT]));
    expect(q).toMatchObject({ volumes: '10', gigabytes: '1000', snapshots: '10', per_volume_gigabytes: '-1', groups: '10' });
    expect(cluster.sql('SELECT * FROM quotas WHERE project_id = ?', PROJECT)).toEqual([]);
  });

  it('quota-update writes the project row', async () => {
    const q = props(await cinder(['quota-update', '--volumes', '5', '--gigabytes', '20', PROJECT]));
    expect(q).toMatchObject({ volumes: '5', gigabytes: '20' });
    const rows = cluster.sql<{ resource: string; hard_limit: number }>(
      'SELECT resource, hard_limit FROM quotas WHERE project_id = ? AND deleted = 0 ORDER BY resource',
      PROJECT,
    );
    expect(rows).toEqual([
      { resource: 'gigabytes', hard_limit: 20 },
      { resource: 'volumes', hard_limit: 5 },
    ]);
  });

  it('create reserves and commits; quota-usage shows the usage rows', async () => {
    const out = props(await cinder(['create', '--name', 'q1', '2']));
    volumeId = out.id;
    await waitStatus(volumeId, 'available');
    expect(usage(PROJECT, 'volumes')).toEqual({ in_use: 1, reserved: 0 });
    expect(usage(PROJECT, 'gigabytes')).toEqual({ in_use: 2, reserved: 0 });
    const rows = table(await cinder(['quota-usage', PROJECT]));
    const byType = Object.fromEntries(rows.slice(1).map(([t, inUse, reserved, limit]) => [t, { inUse, reserved, limit }]));
    expect(byType.volumes).toEqual({ inUse: '1', reserved: '0', limit: '5' });
    expect(byType.gigabytes).toEqual({ inUse: '2', reserved: '0', limit: '20' });
    expect(cluster.sql('SELECT * FROM reservations WHERE project_id = ? AND deleted = 0', PROJECT)).toEqual([]);
  });

  it('an over-quota create is refused with 413 and reserves nothing', async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_') && !k.startsWith('CINDER')) env[k] = v;
    const r = await runCli(
      '/usr/bin/cinder',
      ['--os-auth-type', 'noauth', '--os-user-id', 'operator', '--os-project-id', PROJECT, '--os-endpoint', `${cluster.baseUrl}/v3`, 'create', '30'],
      env,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 30G, quota is 20G and 2G has been consumed.');
    expect(r.stderr).toContain('HTTP 413');
    expect(usage(PROJECT, 'gigabytes')).toEqual({ in_use: 2, reserved: 0 });
  });

  it('transfer-create and transfer-accept move the volume and its quota', async () => {
    const t = props(await cinder(['transfer-create', '--name', 'tx', volumeId]));
    expect(t.auth_key).toMatch(/^[0-9a-f]{16}$/);
    const row = cluster.sql<any>('SELECT * FROM transfers WHERE id = ?', t.id)[0];
    expect(row).toMatchObject({ volume_id: volumeId, display_name: 'tx', source_project_id: PROJECT, accepted: 0, deleted: 0 });
    expect(row.salt).toMatch(/^[0-9a-f]{8}$/);
    expect(row.crypt_hash).toMatch(/^[0-9a-f]{40}$/);
    expect(cluster.sql<any>('SELECT status FROM volumes WHERE id = ?', volumeId)[0].status).toBe('awaiting-transfer');

    const a = props(await cinder(['transfer-accept', t.id, t.auth_key], OTHER));
    expect(a).toMatchObject({ id: t.id, volume_id: volumeId, name: 'tx' });
    expect(cluster.sql<any>('SELECT status, project_id FROM volumes WHERE id = ?', volumeId)[0]).toEqual({ status: 'available', project_id: OTHER });
    expect(cluster.sql<any>('SELECT accepted, deleted, destination_project_id FROM transfers WHERE id = ?', t.id)[0]).toEqual({
      accepted: 1,
      deleted: 1,
      destination_project_id: OTHER,
    });
    expect(usage(PROJECT, 'volumes')).toEqual({ in_use: 0, reserved: 0 });
    expect(usage(PROJECT, 'gigabytes')).toEqual({ in_use: 0, reserved: 0 });
    expect(usage(OTHER, 'volumes')).toEqual({ in_use: 1, reserved: 0 });
    expect(usage(OTHER, 'gigabytes')).toEqual({ in_use: 2, reserved: 0 });
    const q = table(await cinder(['quota-usage', OTHER]));
    expect(q.find((r) => r[0] === 'gigabytes')?.slice(1, 3)).toEqual(['2', '0']);
  });

  it('delete gives the quota back (manager delete_volume)', async () => {
    await cinder(['delete', volumeId], OTHER);
    const end = Date.now() + 20_000;
    while (Date.now() < end && usage(OTHER, 'volumes')?.in_use !== 0) await sleep(100);
    expect(usage(OTHER, 'volumes')).toEqual({ in_use: 0, reserved: 0 });
    expect(usage(OTHER, 'gigabytes')).toEqual({ in_use: 0, reserved: 0 });
  });
});
