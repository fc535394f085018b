// Issue 12 acceptance 2 (services): the `cinder` CLI of Debian's python3-cinderclient against
// cinder-ts — service-list, service-disable (with --reason), service-enable — each checked against
// the services rows; a disabled backend gets no new volume (the scheduler skips it, as Cinder's
// host manager does, and writes the user message), and gets them again once enabled.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { requirePythonModules, runCli } from '../python/py-helper.js';

const PROJECT = 'cc12e470000000000000000000000c12';

let cluster: Cluster;
let api: CinderClient;

beforeAll(async () => {
  requirePythonModules('cinderclient.v3.client');
  if (!fs.existsSync('/usr/bin/cinder')) throw new Error('the cinder CLI is missing: run scripts/ensure-python-deps.sh');
  cluster = new Cluster();
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT);
});
afterAll(async () => {
  await cluster?.stop();
});

/** The `cinder` CLI with cinderclient's noauth plugin (an admin context), no OS_* from the environment. */
async function cinder(args: string[], version = '3.7') {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_') && !k.startsWith('CINDER')) env[k] = v;
  const common = ['--os-auth-type', 'noauth', '--os-user-id', 'operator', '--os-project-id', PROJECT, '--os-endpoint', `${cluster.baseUrl}/v3`];
  const r = await runCli('/usr/bin/cinder', [...common, '--os-volume-api-version', version, ...args], env);
  if (r.code !== 0) throw new Error(`cinder ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
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

const serviceRow = (host: string) =>
  cluster.sql<any>('SELECT disabled, disabled_reason, modified_at FROM services WHERE host = ? AND deleted = 0', host)[0];

async function createAndWait(name: string): Promise<any> {
  const r = await api.request('POST', `/v3/${PROJECT}/volumes`, { volume: { size: 1, name } });
  expect(r.status).toBe(202);
  const id = r.json.volume.id;
  const end = Date.now() + 20_000;
  for (;;) {
    const v = cluster.sql<any>('SELECT id, status, host FROM volumes WHERE id = ?', id)[0];
    if (v.status !== 'creating') return v;
    if (Date.now() > end) throw new Error(`volume ${id} still creating`);
    await sleep(100);
  }
}

describe('cinder service-* CLI', () => {
  const backend = () => `${cluster.host}@${cluster.backend}`;

  it('service-list shows the scheduler and the volume backend, up and enabled', async () => {
    const list = rows(await cinder(['service-list']));
    const vol = list.find((r) => r.Binary === 'cinder-volume');
    expect(vol).toMatchObject({ Host: backend(), Zone: 'nova', Status: 'enabled', State: 'up', Cluster: '-' });
    expect(list.find((r) => r.Binary === 'cinder-scheduler')).toMatchObject({ Host: cluster.host, Status: 'enabled', State: 'up' });
    // --host filters as Cinder's _filter_host (the bare host also matches host@backend).
    const byHost = rows(await cinder(['service-list', '--host', backend(), '--binary', 'cinder-volume']));
    expect(byHost.map((r) => r.Host)).toEqual([backend()]);
  });

  it('service-disable --reason disables the row; the backend gets no new volume', async () => {
    const out = rows(await cinder(['service-disable', backend(), 'cinder-volume', '--reason', 'maintenance window']));
    expect(out[0]).toMatchObject({ Host: backend(), Binary: 'cinder-volume', Status: 'disabled', 'Disabled Reason': 'maintenance window' });
    expect(serviceRow(backend())).toMatchObject({ disabled: 1, disabled_reason: 'maintenance window' });
    expect(serviceRow(backend()).modified_at).not.toBeNull();
    const list = rows(await cinder(['service-list', '--withreplication']));
    expect(list.find((r) => r.Binary === 'cinder-volume')).toMatchObject({ Status: 'disabled', 'Disabled Reason': 'maintenance window' });

    const v = await createAndWait('while-disabled');
    expect(v).toMatchObject({ status: 'error', host: null });
    // flows/create_volume.py: the scheduler's failure is a user message on the volume.
    const msgs = await api.request('GET', `/v3/${PROJECT}/messages?resource_uuid=${v.id}`, undefined, { 'OpenStack-API-Version': 'volume 3.5' });
    expect(msgs.status).toBe(200);
    expect(msgs.json.messages).toMatchObject([{ event_id: 'VOLUME_VOLUME_001_003', resource_uuid: v.id }]);
  });

  it('service-disable without a reason, then service-enable; new volumes go to the backend again', async () => {
    const out = rows(await cinder(['service-disable', backend(), 'cinder-volume']));
    expect(out[0]).toMatchObject({ Host: backend(), Binary: 'cinder-volume', Status: 'disabled' });
    expect(serviceRow(backend()).disabled).toBe(1);
    const en = rows(await cinder(['service-enable', backend(), 'cinder-volume']));
    expect(en[0]).toMatchObject({ Host: backend(), Binary: 'cinder-volume', Status: 'enabled' });
    expect(serviceRow(backend()).disabled).toBe(0);
    const v = await createAndWait('after-enable');
    expect(v.status).toBe('available');
    expect(v.host).toBe(`${backend()}#lvm`);
  });

  it('service-set-log / service-get-log (3.32) reach the API, the scheduler and the volume service', async () => {
    const get = async () => rows(await cinder(['service-get-log'], '3.32')).map((r) => [r.Binary, r.Host, r.Prefix, r.Level]);
    expect(await get()).toEqual(
      expect.arrayContaining([
        ['cinder-api', cluster.host, 'cinder', 'INFO'],
        ['cinder-scheduler', cluster.host, 'cinder', 'INFO'],
        ['cinder-volume', backend(), 'cinder', 'INFO'],
      ]),
    );
    await cinder(['service-set-log', 'DEBUG', '--binary', 'cinder-volume'], '3.32');
    await sleep(500); // a cast
    const after = rows(await cinder(['service-get-log', '--binary', 'cinder-volume'], '3.32'));
    expect(after.map((r) => [r.Binary, r.Level])).toEqual([['cinder-volume', 'DEBUG']]);
    expect((await get()).find((r) => r[0] === 'cinder-api')?.[3]).toBe('INFO');
    await cinder(['service-set-log', 'INFO'], '3.32');
  });

  it('an unknown host is a 404 with Cinder text', async () => {
    const env = { ...process.env };
    const r = await runCli(
      '/usr/bin/cinder',
      ['--os-auth-type', 'noauth', '--os-user-id', 'operator', '--os-project-id', PROJECT, '--os-endpoint', `${cluster.baseUrl}/v3`, 'service-enable', 'nohost', 'cinder-volume'],
      env,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Service cinder-volume could not be found on host nohost. (HTTP 404)');
  });
});
