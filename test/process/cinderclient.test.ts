// Issue 4 acceptance 1: Debian's python3-cinderclient (9.1.0) drives cinder-ts the way Nova does —
// the client library on a keystoneauth session (test/python/cinderclient_driver.py, noauth plugin
// from cinderclient.contrib) for the legacy volume actions and the attachments API at 3.44 — and
// the `cinder` CLI for list, show, reset-state, attachment-list and attachment-delete. Every call
// must succeed and every state (API view, DB rows, stand-in LIO target) be the expected one.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Cluster, sleep } from '../support/cluster.js';
import { PyHelper, requirePythonModules, runCli } from '../python/py-helper.js';

const PROJECT = 'cc11e470000000000000000000000c11';
const CONNECTOR = {
  platform: 'x86_64',
  os_type: 'linux',
  ip: '192.0.2.61',
  host: 'compute-cc',
  multipath: false,
  initiator: 'iqn.1994-05.com.redhat:cinderclient',
  do_local_attach: false,
};

let cluster: Cluster;
let cc: PyHelper;

beforeAll(async () => {
  requirePythonModules('cinderclient.v3.client', 'keystoneauth1');
  if (!fs.existsSync('/usr/bin/cinder')) throw new Error('the cinder CLI is missing: run scripts/ensure-python-deps.sh');
  cluster = new Cluster();
  await cluster.start();
  cc = new PyHelper('cinderclient_driver.py', ['--endpoint', `${cluster.baseUrl}/v3`, '--project-id', PROJECT, '--user-id', 'nova']);
  expect(await cc.next()).toMatchObject({ ready: true });
});
afterAll(async () => {
  await cc?.close();
  await cluster?.stop();
});

/** One cinderclient call through the Python driver; throws unless it succeeded. */
async function call(name: string, args: unknown[], opts: { version?: string; service?: boolean; kwargs?: Record<string, unknown> } = {}) {
  const r = await cc.request({ call: name, args, kwargs: opts.kwargs ?? {}, version: opts.version ?? '3.0', service: opts.service ?? false });
  if (r.outcome !== 'ok') throw new Error(`${name}(${JSON.stringify(args)}) failed: ${JSON.stringify(r)}`);
  return r;
}

/** volumes.get through cinderclient: the Volume resource's dict. */
async function show(id: string, version = '3.0') {
  return (await call('volumes.get', [id], { version })).value;
}

async function waitFor(id: string, status: string) {
  const end = Date.now() + 15_000;
  let v: any;
  while (Date.now() < end) {
    v = await show(id);
    if (v.status === status) return v;
    await sleep(100);
  }
  throw new Error(`volume ${id} never reached ${status}: ${JSON.stringify(v)}`);
}

const volumeRow = (id: string) => cluster.sql<any>('SELECT status, attach_status FROM volumes WHERE id = ?', id)[0];
const liveAttachments = (id: string) =>
  cluster.sql<any>('SELECT id, attach_status, instance_uuid FROM volume_attachment WHERE volume_id = ? AND deleted = 0', id);

function target(iqn: string): string[] | null {
  const f = path.join(cluster.standinState, 'targets', iqn);
  if (!fs.existsSync(f) || fs.readFileSync(f, 'utf8').trim() === '') return null;
  return fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('acl '))
    .map((l) => l.split(' ')[1]);
}

/** The `cinder` CLI with cinderclient's noauth plugin, no OS_* variables from the environment. */
function cinderCli(args: string[], version?: string) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_') && !k.startsWith('CINDER')) env[k] = v;
  const common = ['--os-auth-type', 'noauth', '--os-user-id', 'operator', '--os-project-id', PROJECT, '--os-endpoint', `${cluster.baseUrl}/v3`];
  if (version) common.push('--os-volume-api-version', version);
  return runCli('/usr/bin/cinder', [...common, ...args], env);
}

/** Rows of a prettytable ("| a | b |") as arrays of trimmed cells, header first. */
function table(out: string): string[][] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

/** A show table (Property | Value) as a record. */
function props(out: string): Record<string, string> {
  return Object.fromEntries(table(out).slice(1).map(([k, v]) => [k, v]));
}

describe('python-cinderclient library, legacy flow as Nova drives it', () => {
  let id = '';
  let iqn = '';
  let attachmentId = '';
  const instance = randomUUID();

  it('volumes.create → creating, then available', async () => {
    const r = await call('volumes.create', [1], { kwargs: { name: 'cc-legacy' } });
    expect(r.value).toMatchObject({ size: 1, name: 'cc-legacy', status: 'creating' });
    id = r.value.id;
    iqn = `iqn.2010-10.org.openstack:volume-${id}`;
    expect(await waitFor(id, 'available')).toMatchObject({ attachments: [], multiattach: false });
  });

  it('volumes.reserve → 202, attaching', async () => {
    const r = await call('volumes.reserve', [id]);
    expect(r).toMatchObject({ status: 202, body: null });
    expect(r.request_ids[0]).toMatch(/^req-[0-9a-f-]{36}$/);
    expect((await show(id)).status).toBe('attaching');
    expect(volumeRow(id)).toEqual({ status: 'attaching', attach_status: 'detached' });
  });

  it('volumes.initialize_connection → connection_info (iscsi, CHAP), ACL created, still attaching', async () => {
    const r = await call('volumes.initialize_connection', [id, CONNECTOR]);
    expect(r.type).toBe('DictWithMeta');
    expect(r.value).toMatchObject({
      driver_volume_type: 'iscsi',
      data: { target_iqn: iqn, target_portal: '192.0.2.10:3260', target_lun: 0, volume_id: id, auth_method: 'CHAP', access_mode: 'rw', encrypted: false },
    });
    expect(target(iqn)).toEqual([CONNECTOR.initiator]);
    expect((await show(id)).status).toBe('attaching');
  });

  it('volumes.attach → 202, in-use with the attachment in the view', async () => {
    const r = await call('volumes.attach', [id, instance, '/dev/vdb']);
    expect(r).toMatchObject({ status: 202, body: null });
    const v = await show(id);
    expect(v.status).toBe('in-use');
    expect(v.attachments).toHaveLength(1);
    attachmentId = v.attachments[0].attachment_id;
    expect(v.attachments[0]).toMatchObject({ server_id: instance, device: '/dev/vdb', volume_id: id });
    expect(volumeRow(id)).toEqual({ status: 'in-use', attach_status: 'attached' });
    expect(liveAttachments(id)).toEqual([{ id: attachmentId, attach_status: 'attached', instance_uuid: instance }]);
  });

  it('volumes.begin_detaching → detaching; roll_detaching → in-use (a guest-side failure)', async () => {
    expect(await call('volumes.begin_detaching', [id])).toMatchObject({ status: 202 });
    expect((await show(id)).status).toBe('detaching');
    expect(await call('volumes.roll_detaching', [id])).toMatchObject({ status: 202 });
    expect((await show(id)).status).toBe('in-use');
    expect(volumeRow(id)).toEqual({ status: 'in-use', attach_status: 'attached' });
    expect(await call('volumes.begin_detaching', [id])).toMatchObject({ status: 202 });
    expect((await show(id)).status).toBe('detaching');
  });

  it('volumes.terminate_connection (service token) → 202, ACL gone, volume still detaching', async () => {
    expect(await call('volumes.terminate_connection', [id, CONNECTOR], { service: true })).toMatchObject({ status: 202, body: null });
    expect(target(iqn)).toEqual([]);
    expect((await show(id)).status).toBe('detaching');
    expect(liveAttachments(id)).toHaveLength(1);
  });

  it('volumes.detach(attachment_id) (service token) → 202, available, no attachment row, no target', async () => {
    expect(await call('volumes.detach', [id, attachmentId], { service: true })).toMatchObject({ status: 202, body: null });
    const v = await show(id);
    expect(v).toMatchObject({ status: 'available', attachments: [] });
    expect(volumeRow(id)).toEqual({ status: 'available', attach_status: 'detached' });
    expect(liveAttachments(id)).toEqual([]);
    expect(target(iqn)).toBeNull();
  });

  it('errors come back as cinderclient exceptions: begin_detaching on an available volume → BadRequest 400', async () => {
    const r = await cc.request({ call: 'volumes.begin_detaching', args: [id], version: '3.0' });
    expect(r).toMatchObject({ outcome: 'exception', exc_class: 'BadRequest', code: 400 });
    expect(r.message).toBe("Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.");
    const nf = await cc.request({ call: 'volumes.get', args: [randomUUID()], version: '3.0' });
    expect(nf).toMatchObject({ outcome: 'exception', exc_class: 'NotFound', code: 404 });
  });
});

describe('the cinder CLI', () => {
  let id = '';
  beforeAll(async () => {
    const r = await call('volumes.create', [1], { kwargs: { name: 'cc-cli' } });
    id = r.value.id;
    await waitFor(id, 'available');
  });

  it('cinder list (version discovered from GET /) shows the volume', async () => {
    const r = await cinderCli(['list']);
    expect(r.code, r.stderr).toBe(0);
    const rows = table(r.stdout);
    expect(rows[0]).toEqual(expect.arrayContaining(['ID', 'Status', 'Name', 'Size', 'Attached to']));
    const col = (name: string) => rows[0].indexOf(name);
    const row = rows.find((x) => x[col('ID')] === id);
    expect(row, r.stdout).toBeDefined();
    expect(row![col('Status')]).toBe('available');
    expect(row![col('Name')]).toBe('cc-cli');
    expect(row![col('Size')]).toBe('1');
  });

  it('cinder show (3.0 and discovered) prints the volume', async () => {
    for (const version of ['3.0', undefined]) {
      const r = await cinderCli(['show', id], version);
      expect(r.code, r.stderr).toBe(0);
      const p = props(r.stdout);
      // cinderclient's show replaces `attachments` by attached_servers / attachment_ids
      expect(p).toMatchObject({ id, status: 'available', name: 'cc-cli', size: '1', multiattach: 'False', attached_servers: '[]' });
    }
  });

  it('cinder show of an unknown volume exits 1 with Cinder\'s message', async () => {
    const r = await cinderCli(['show', '00000000-0000-0000-0000-000000000000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No volume with a name or ID of '00000000-0000-0000-0000-000000000000' exists\./);
  });
});

// The attachments API at 3.44, as Nova has used it since Train, and the CLI commands that need it.
describe('python-cinderclient attachments API at 3.44, and the CLI', () => {
  let id = '';
  let iqn = '';
  let attachmentId = '';
  const instance = randomUUID();
  const V = '3.44';

  beforeAll(async () => {
    const r = await call('volumes.create', [1], { kwargs: { name: 'cc-new' } });
    id = r.value.id;
    iqn = `iqn.2010-10.org.openstack:volume-${id}`;
    await waitFor(id, 'available');
  });

  it('attachments.create(volume, None, instance) → reserved (Nova reserves without a connector)', async () => {
    const r = await call('attachments.create', [id, null, instance], { version: V });
    expect(r.value).toMatchObject({ volume_id: id, instance: instance, status: 'reserved' });
    attachmentId = r.value.id;
    expect((await show(id)).status).toBe('reserved');
    expect(liveAttachments(id)).toEqual([{ id: attachmentId, attach_status: 'reserved', instance_uuid: instance }]);
    expect(target(iqn)).toBeNull();
  });

  it('attachments.update(id, connector) → connection_info, attaching; export and ACL made', async () => {
    const r = await call('attachments.update', [attachmentId, CONNECTOR], { version: V });
    // Cinder answers with the attachment object it loaded before the RPC: still 'reserved' in the
    // body, while the manager has written 'attaching'.
    expect(r.value).toMatchObject({ id: attachmentId, status: 'reserved', instance: instance, volume_id: id });
    expect(liveAttachments(id)).toEqual([{ id: attachmentId, attach_status: 'attaching', instance_uuid: instance }]);
    expect(r.value.connection_info).toMatchObject({ driver_volume_type: 'iscsi', target_iqn: iqn, attachment_id: attachmentId, access_mode: 'rw' });
    expect(target(iqn)).toEqual([CONNECTOR.initiator]);
    expect((await show(id)).status).toBe('attaching');
  });

  it('attachments.complete(id) → 204, attached / in-use', async () => {
    const r = await call('attachments.complete', [attachmentId], { version: V });
    expect(r.status).toBe(204);
    const v = await show(id);
    expect(v.status).toBe('in-use');
    expect(v.attachments).toEqual([expect.objectContaining({ attachment_id: attachmentId, server_id: instance })]);
    expect(liveAttachments(id)).toEqual([{ id: attachmentId, attach_status: 'attached', instance_uuid: instance }]);
  });

  it('cinder attachment-list (3.44) lists it', async () => {
    const r = await cinderCli(['attachment-list'], V);
    expect(r.code, r.stderr).toBe(0);
    const rows = table(r.stdout);
    const col = (n: string) => rows[0].indexOf(n);
    const row = rows.find((x) => x[col('ID')] === attachmentId);
    expect(row, r.stdout).toBeDefined();
    expect(row![col('Volume ID')]).toBe(id);
    expect(row![col('Status')]).toBe('attached');
    expect(row![col('Server ID')]).toBe(instance);
  });

  it('attachments.delete(id) (service token) after begin_detaching → available, no row, no ACL, no target', async () => {
    expect(await call('volumes.begin_detaching', [id], { version: V })).toMatchObject({ status: 202 });
    expect((await show(id)).status).toBe('detaching');
    const r = await call('attachments.delete', [attachmentId], { version: V, service: true });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ attachments: [] });
    expect(await show(id)).toMatchObject({ status: 'available', attachments: [] });
    expect(volumeRow(id)).toEqual({ status: 'available', attach_status: 'detached' });
    expect(liveAttachments(id)).toEqual([]);
    expect(target(iqn)).toBeNull();
  });

  it('cinder attachment-delete (3.44) deletes a reserved attachment', async () => {
    const r0 = await call('attachments.create', [id, null, randomUUID()], { version: V });
    expect((await show(id)).status).toBe('reserved');
    const r = await cinderCli(['attachment-delete', r0.value.id], V);
    expect(r.code, r.stderr).toBe(0);
    expect(liveAttachments(id)).toEqual([]);
    expect(await show(id)).toMatchObject({ status: 'available', attachments: [] });
  });

  it('cinder reset-state --state error, then back to available/detached', async () => {
    let r = await cinderCli(['reset-state', '--state', 'error', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(volumeRow(id)).toEqual({ status: 'error', attach_status: 'detached' });
    expect((await show(id)).status).toBe('error');
    r = await cinderCli(['reset-state', '--state', 'available', '--attach-status', 'detached', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(volumeRow(id)).toEqual({ status: 'available', attach_status: 'detached' });
    const s = await cinderCli(['show', id]);
    expect(props(s.stdout).status).toBe('available');
  });
});

describe('a multiattach volume type through the cinder CLI, attached from two servers (attachments API 3.44)', () => {
  const V = '3.44';
  const OTHER_HOST = { ...CONNECTOR, host: 'compute-dd', ip: '192.0.2.62', initiator: 'iqn.1994-05.com.redhat:cinderclient-b' };
  let typeId = '';

  /** A server's attach as Nova does it since Queens: attachments.create with the connector, complete. */
  async function attachServer(volumeId: string, connector: typeof CONNECTOR) {
    const r = await call('attachments.create', [volumeId, connector, randomUUID()], { version: V });
    expect(r.value.connection_info).toMatchObject({ driver_volume_type: 'iscsi', qos_specs: null, access_mode: 'rw' });
    expect((await call('attachments.complete', [r.value.id], { version: V })).status).toBe(204);
    return r.value.id as string;
  }
  const detachServer = (attachmentId: string) => call('attachments.delete', [attachmentId], { version: V, service: true });

  /** `cinder create --volume-type multiattach 1`, waited until available. */
  async function createMultiattach(name: string) {
    const r = await cinderCli(['create', '--volume-type', 'multiattach', '--name', name, '1']);
    expect(r.code, r.stderr).toBe(0);
    const p = props(r.stdout);
    expect(p).toMatchObject({ multiattach: 'True', volume_type: 'multiattach' });
    await waitFor(p.id, 'available');
    return { id: p.id, iqn: `iqn.2010-10.org.openstack:volume-${p.id}` };
  }

  it('cinder type-create multiattach; type-key multiattach set multiattach="<is> True"', async () => {
    const c = await cinderCli(['type-create', 'multiattach']);
    expect(c.code, c.stderr).toBe(0);
    const rows = table(c.stdout);
    const row = rows[1];
    expect(row[rows[0].indexOf('Name')]).toBe('multiattach');
    expect(row[rows[0].indexOf('Is_Public')]).toBe('True');
    typeId = row[rows[0].indexOf('ID')];
    const k = await cinderCli(['type-key', 'multiattach', 'set', 'multiattach=<is> True']);
    expect(k.code, k.stderr).toBe(0);
    const specs = await cinderCli(['extra-specs-list']);
    expect(specs.code, specs.stderr).toBe(0);
    expect(specs.stdout).toContain("'multiattach': '<is> True'");
    expect(cluster.sql<any>('SELECT `key`, value FROM volume_type_extra_specs WHERE volume_type_id = ? AND deleted = 0', typeId)).toEqual([
      { key: 'multiattach', value: '<is> True' },
    ]);
  });

  it('cinder create --volume-type multiattach 1 → multiattach volume of that type; an untyped one is __DEFAULT__', async () => {
    const { id } = await createMultiattach('cc-ma-type');
    expect(cluster.sql<any>('SELECT multiattach, volume_type_id FROM volumes WHERE id = ?', id)).toEqual([{ multiattach: 1, volume_type_id: typeId }]);
    expect(await show(id, '3.63')).toMatchObject({ multiattach: true, volume_type: 'multiattach', volume_type_id: typeId });
    const plain = await call('volumes.create', [1], { kwargs: { name: 'cc-untyped' } });
    expect(plain.value).toMatchObject({ volume_type: '__DEFAULT__', multiattach: false });
  });

  it('two servers on one compute host: one ACL, kept until the last detach, then no target', async () => {
    const { id, iqn } = await createMultiattach('cc-ma-one-host');
    const a = await attachServer(id, CONNECTOR);
    const b = await attachServer(id, CONNECTOR);
    expect(await show(id)).toMatchObject({ status: 'in-use', multiattach: true });
    expect(liveAttachments(id)).toHaveLength(2);
    expect(target(iqn)).toEqual([CONNECTOR.initiator]);
    await detachServer(a);
    expect(target(iqn)).toEqual([CONNECTOR.initiator]);
    expect((await show(id)).status).toBe('in-use');
    await detachServer(b);
    expect(await show(id)).toMatchObject({ status: 'available', attachments: [] });
    expect(volumeRow(id)).toEqual({ status: 'available', attach_status: 'detached' });
    expect(liveAttachments(id)).toEqual([]);
    expect(target(iqn)).toBeNull();
  });

  it('two servers on two compute hosts: an ACL each, each detach removes its own, the last the target', async () => {
    const { id, iqn } = await createMultiattach('cc-ma-two-hosts');
    const a = await attachServer(id, CONNECTOR);
    const b = await attachServer(id, OTHER_HOST);
    expect(target(iqn)?.sort()).toEqual([CONNECTOR.initiator, OTHER_HOST.initiator].sort());
    await detachServer(a);
    expect(target(iqn)).toEqual([OTHER_HOST.initiator]);
    expect((await show(id)).status).toBe('in-use');
    await detachServer(b);
    expect(await show(id)).toMatchObject({ status: 'available', attachments: [] });
    expect(liveAttachments(id)).toEqual([]);
    expect(target(iqn)).toBeNull();
  });

  it('a second attachment of a volume of the default (non-multiattach) type is refused', async () => {
    const r = await call('volumes.create', [1], { kwargs: { name: 'cc-single' } });
    await waitFor(r.value.id, 'available');
    await attachServer(r.value.id, CONNECTOR);
    const second = await cc.request({ call: 'attachments.create', args: [r.value.id, OTHER_HOST, randomUUID()], kwargs: {}, version: V, service: false });
    expect(second).toMatchObject({ outcome: 'exception', code: 400 });
  });
});
