// Issue 12 acceptance 2 (the volume part): Debian's `cinder` CLI (python3-cinderclient, noauth
// plugin) for `list --status`, `list --name`, `list --all-tenants --tenant`, `metadata set/unset`
// and `show`, every answer checked against the DB rows.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { requirePythonModules, runCli } from '../python/py-helper.js';

const P1 = 'c1100000000000000000000000000c11';
const P2 = 'c2200000000000000000000000000c22';
let cluster: Cluster;
const ids: Record<string, string> = {};

function cinderCli(project: string, args: string[], version = '3.0') {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_') && !k.startsWith('CINDER')) env[k] = v;
  const common = ['--os-auth-type', 'noauth', '--os-user-id', 'operator', '--os-project-id', project, '--os-endpoint', `${cluster.baseUrl}/v3`];
  return runCli('/usr/bin/cinder', [...common, '--os-volume-api-version', version, ...args], env);
}

/** Rows of a prettytable as records keyed by the header. */
function rows(out: string): Record<string, string>[] {
  const lines = out
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  const [head, ...body] = lines;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

async function ok(project: string, args: string[], version?: string) {
  const r = await cinderCli(project, args, version);
  expect(r.code, `cinder ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const dbIds = (where: string, ...params: unknown[]) =>
  cluster.sql<{ id: string }>(`SELECT id FROM volumes WHERE deleted = 0 AND ${where}`, ...params).map((r) => r.id).sort();

beforeAll(async () => {
  requirePythonModules('cinderclient.v3.client', 'keystoneauth1');
  if (!fs.existsSync('/usr/bin/cinder')) throw new Error('the cinder CLI is missing: run scripts/ensure-python-deps.sh');
  cluster = new Cluster();
  await cluster.start();
  for (const [project, name] of [
    [P1, 'cli-one'],
    [P1, 'cli-two'],
    [P2, 'cli-other'],
  ]) {
    const c = new CinderClient(cluster.baseUrl, project);
    const r = await c.create({ volume: { size: 1, name } });
    expect(r.status, r.text).toBe(202);
    ids[name] = r.json.volume.id;
    for (let i = 0; i < 300 && cluster.volumeRow(ids[name]).status !== 'available'; i++) await sleep(50);
  }
  // One volume in error, for --status.
  cluster.write("UPDATE volumes SET status = 'error' WHERE id = ?", ids['cli-two']);
});
afterAll(async () => {
  await cluster?.stop();
});

describe('cinder CLI volume list filters, metadata and show', () => {
  it('list --status', async () => {
    for (const status of ['available', 'error']) {
      const listed = rows(await ok(P1, ['list', '--status', status])).map((r) => r.ID).sort();
      expect(listed).toEqual(dbIds('project_id = ? AND status = ?', P1, status));
      expect(listed.length).toBe(1);
    }
  }, 180_000);

  it('list --name', async () => {
    const listed = rows(await ok(P1, ['list', '--name', 'cli-one']));
    expect(listed.map((r) => r.ID)).toEqual(dbIds('project_id = ? AND display_name = ?', P1, 'cli-one'));
    expect(listed[0].Name).toBe('cli-one');
    expect(rows(await ok(P1, ['list', '--name', 'nope']))).toEqual([]);
  }, 180_000);

  it('list --all-tenants --tenant', async () => {
    const listed = rows(await ok(P1, ['list', '--all-tenants', '--tenant', P2]));
    expect(listed.map((r) => r.ID)).toEqual(dbIds('project_id = ?', P2));
    expect(listed[0]['Tenant ID']).toBe(P2);
    const all = rows(await ok(P1, ['list', '--all-tenants'])).map((r) => r.ID).sort();
    expect(all).toEqual(dbIds('1 = 1'));
  }, 180_000);

  it('metadata set / unset, then show', async () => {
    const id = ids['cli-one'];
    await ok(P1, ['metadata', id, 'set', 'k1=v1', 'k2=v2']);
    const live = () =>
      cluster.sql<{ key: string; value: string }>('SELECT `key`, value FROM volume_metadata WHERE volume_id = ? AND deleted = 0 ORDER BY `key`', id);
    expect(live()).toEqual([
      { key: 'k1', value: 'v1' },
      { key: 'k2', value: 'v2' },
    ]);
    await ok(P1, ['metadata', id, 'unset', 'k1']);
    expect(live()).toEqual([{ key: 'k2', value: 'v2' }]);
    const shown = Object.fromEntries(rows(await ok(P1, ['show', id])).map((r) => [r.Property, r.Value]));
    const row = cluster.volumeRow(id);
    expect(shown).toMatchObject({ id, name: row.display_name, status: row.status, size: String(row.size), bootable: 'false' });
    // cinderclient prints the metadata dict as `key : value` lines.
    expect(shown.metadata).toBe('k2 : v2');
  }, 180_000);
});
