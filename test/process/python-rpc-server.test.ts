// Live RPC interop, cinder-ts → Python: only our API process runs (no cinder-ts volume-manager);
// the volume service is a real oslo.messaging RPC server from Debian's python3-cinder, built as
// cinder/service.py builds cinder-volume's (test/python/cinder_volume_server.py), registered in
// our services table so our API schedules to it. Every HTTP answer is checked, and so is what
// Python received: method, RPC version, Volume OVOs as Cinder deserialized them, the context.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { CINDER_TS, CinderClient, REPO, STANDINS, freePort, sleep } from '../support/cluster.js';
import { createVhost, deleteVhost, transportUrl } from '../support/rabbit.js';
import { createTestDb } from '../support/db.js';
import { PY, PY_DIR, requirePythonModules } from '../python/py-helper.js';

const PROJECT = '5e7c0ffee5e7c0ffee5e7c0ffee5e7c0';
const PYHOST = 'pyhost';
const SERVICE = { 'X-Service-Roles': 'service' };
const INSTANCE = '0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';
const CONNECTOR = { initiator: 'iqn.1994-05.com.redhat:pyside', host: 'compute-ok', ip: '192.0.2.50', multipath: false, platform: 'x86_64', os_type: 'linux' };
const GENERIC_500 = 'The server has either erred or is incapable of performing the requested operation.';

/**
 * Our API and scheduler (src/cmd/api.ts, src/cmd/scheduler.ts) on a temp SQLite file (or MariaDB
 * database: db.ts) and a private vhost: the scheduler places creates on the Python service from its
 * capability report.
 */
class ApiOnly {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-pyserver-'));
  readonly vhost = createVhost();
  readonly db = createTestDb(path.join(this.dir, 'cinder.sqlite'));
  port = 0;
  proc?: ChildProcess;
  scheduler?: ChildProcess;
  logs: string[] = [];
  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.port = await freePort();
    const conf = path.join(this.dir, 'cinder.conf');
    fs.mkdirSync(path.join(this.dir, 'standin-state'), { recursive: true });
    fs.writeFileSync(
      conf,
      [
        '[DEFAULT]',
        `transport_url = ${transportUrl(this.vhost)}`,
        'host = apihost',
        'enabled_backends = lvm',
        'auth_strategy = noauth',
        `state_path = ${path.join(this.dir, 'state')}`,
        'rpc_response_timeout = 15',
        'osapi_volume_listen = 127.0.0.1',
        `osapi_volume_listen_port = ${this.port}`,
        `osapi_volume_workers = ${process.env.CINDER_TS_API_WORKERS ?? '1'}`,
        `root_helper = ${path.join(STANDINS, 'root-helper')}`,
        'log_level = info',
        '',
        '[database]',
        `connection = ${this.db.connection}`,
        '',
        '[oslo_concurrency]',
        `lock_path = ${path.join(this.dir, 'lock')}`,
        '',
        '[lvm]',
        'volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver',
        'volume_group = cinder-volumes',
        'volume_backend_name = lvm',
        'target_helper = lioadm',
        'target_ip_address = 192.0.2.10',
        '',
      ].join('\n'),
    );
    this.proc = spawn(CINDER_TS, ['api', '--config-file', conf], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.scheduler = spawn(CINDER_TS, ['scheduler', '--config-file', conf], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sink = (b: Buffer) => this.logs.push(...b.toString().split('\n').filter(Boolean));
    for (const p of [this.proc, this.scheduler]) {
      p.stdout!.on('data', sink);
      p.stderr!.on('data', sink);
    }
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      if (this.proc.exitCode !== null) throw new Error(`API exited: ${this.logs.slice(-20).join('\n')}`);
      try {
        if ((await fetch(`${this.baseUrl}/`)).status < 500) return;
      } catch {
        /* not yet */
      }
      await sleep(100);
    }
    throw new Error(`API did not start: ${this.logs.slice(-20).join('\n')}`);
  }

  sql<T = any>(q: string, ...p: unknown[]): T[] {
    return this.db.sql<T>(q, ...p);
  }

  async stop() {
    this.db.closeReader();
    for (const p of [this.proc, this.scheduler]) {
      if (!p || p.exitCode !== null) continue;
      const done = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    }
    this.db.close();
    if (!process.env.CINDER_TS_KEEP_TMP) this.db.drop();
    deleteVhost(this.vhost);
    if (!process.env.CINDER_TS_KEEP_TMP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The Python cinder-volume: ready line on stdout, calls recorded in a JSON-lines file. */
class PythonVolumeService {
  proc?: ChildProcess;
  stderr = '';
  constructor(
    readonly api: ApiOnly,
    readonly recordFile: string,
  ) {}

  async start(): Promise<any> {
    this.proc = spawn(
      PY,
      [
        path.join(PY_DIR, 'cinder_volume_server.py'),
        '--transport-url',
        transportUrl(this.api.vhost),
        '--db',
        this.api.db.connection,
        '--record',
        this.recordFile,
        '--host',
        PYHOST,
        '--fail-host',
        'compute-fail',
        '--vbe-host',
        'compute-vbe',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.proc.stderr!.on('data', (b: Buffer) => (this.stderr += b.toString()));
    const rl = readline.createInterface({ input: this.proc.stdout! });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`python cinder-volume not ready:\n${this.stderr.slice(-3000)}`)), 60_000);
      this.proc!.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`python cinder-volume exited (${code}):\n${this.stderr.slice(-4000)}`));
      });
      rl.once('line', (l) => {
        clearTimeout(t);
        try {
          resolve(JSON.parse(l));
        } catch {
          reject(new Error(`python cinder-volume printed: ${l}`));
        }
      });
    });
  }

  calls(): any[] {
    if (!fs.existsSync(this.recordFile)) return [];
    return fs.readFileSync(this.recordFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const done = new Promise((r) => this.proc!.once('exit', r));
    this.proc.stdin!.end();
    const t = setTimeout(() => this.proc!.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(t);
  }
}

let apiProc: ApiOnly;
let pyvol: PythonVolumeService;
let http: CinderClient;
let ready: any;

beforeAll(async () => {
  requirePythonModules('cinder.rpc', 'oslo_messaging', 'eventlet');
  apiProc = new ApiOnly();
  await apiProc.start();
  pyvol = new PythonVolumeService(apiProc, path.join(apiProc.dir, 'python-calls.jsonl'));
  ready = await pyvol.start();
  http = new CinderClient(apiProc.baseUrl, PROJECT);
});
afterAll(async () => {
  await pyvol?.stop();
  await apiProc?.stop();
});

/** The recorded calls of one method after `since` (an index into the record). */
async function waitForCall(method: string, since: number, timeoutMs = 10_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const c = pyvol.calls().slice(since).find((x) => x.method === method);
    if (c) return c;
    await sleep(50);
  }
  throw new Error(`python cinder-volume never received ${method}; got ${JSON.stringify(pyvol.calls().slice(since).map((c) => c.method))}\n${pyvol.stderr.slice(-2000)}`);
}

const volumeRow = (id: string) => apiProc.sql('SELECT status, attach_status, host, deleted FROM volumes WHERE id = ?', id)[0];

function expectVolumeOvo(wire: any, id: string) {
  expect(wire['versioned_object.name']).toBe('Volume');
  expect(wire['versioned_object.namespace']).toBe('cinder');
  expect(wire['versioned_object.version']).toBe('1.9');
  expect(wire['versioned_object.data'].id).toBe(id);
}

describe('our API → a Python oslo.messaging cinder-volume', () => {
  let volumeId = '';
  let attachmentId = '';

  it('the Python service registered itself as cinder-ts\'s manager does, and is the one scheduled to', () => {
    expect(ready).toMatchObject({ ready: true, host: `${PYHOST}@lvm`, rpc_api_version: '3.18', obj_version: '1.39' });
    expect(apiProc.sql("SELECT host, `binary`, topic, rpc_current_version, object_current_version, deleted FROM services WHERE `binary` = 'cinder-volume'")).toEqual([
      { host: `${PYHOST}@lvm`, binary: 'cinder-volume', topic: 'cinder-volume', rpc_current_version: '3.18', object_current_version: '1.39', deleted: 0 },
    ]);
  });

  it('create → 202; Python receives the create_volume cast (3.0) and marks the volume available', async () => {
    const since = pyvol.calls().length;
    const r = await http.create({ volume: { size: 1, name: 'to-python' } });
    expect(r.status, r.text).toBe(202);
    volumeId = r.json.volume.id;
    const call = await waitForCall('create_volume', since);
    expect(call.wire.version).toBe('3.0');
    expect(call.wire.namespace ?? null).toBeNull();
    expect(Object.keys(call.wire.args).sort()).toEqual(['allow_reschedule', 'filter_properties', 'request_spec', 'volume']);
    expectVolumeOvo(call.wire.args.volume, volumeId);
    // Placed by our scheduler on the pool of the Python service's capability report.
    expect(call.handled.volume).toMatchObject({ py_class: 'Volume', VERSION: '1.9', id: volumeId, host: `${PYHOST}@lvm#lvm`, status: 'creating', project_id: PROJECT, size: 1 });
    expect(call.wire.args.request_spec['versioned_object.name']).toBe('RequestSpec');
    expect(call.wire.args.filter_properties.retry).toMatchObject({ num_attempts: 1, backends: [`${PYHOST}@lvm#lvm`] });
    expect(call.wire.context).toMatchObject({ project_id: PROJECT, user_id: 'user1', is_admin: true, read_deleted: 'no' });
    expect(call.wire.context.request_id).toMatch(/^req-[0-9a-f-]{36}$/);
    const end = Date.now() + 10_000;
    while (Date.now() < end && volumeRow(volumeId).status !== 'available') await sleep(50);
    expect(volumeRow(volumeId)).toMatchObject({ status: 'available', host: `${PYHOST}@lvm#lvm` });
  });

  it('os-reserve → 202 without any RPC', async () => {
    const since = pyvol.calls().length;
    expect((await http.action(volumeId, { 'os-reserve': null })).status).toBe(202);
    expect(volumeRow(volumeId).status).toBe('attaching');
    await sleep(200);
    expect(pyvol.calls().slice(since)).toEqual([]);
  });

  it('os-initialize_connection → 200 with the connection_info Python returned (call 3.0, Volume OVO + connector)', async () => {
    const since = pyvol.calls().length;
    const r = await http.action(volumeId, { 'os-initialize_connection': { connector: CONNECTOR } });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({
      connection_info: {
        driver_volume_type: 'iscsi',
        data: {
          target_discovered: false,
          target_portal: '192.0.2.30:3260',
          target_iqn: `iqn.2010-10.org.openstack:volume-${volumeId}`,
          target_lun: 1,
          volume_id: volumeId,
          auth_method: 'CHAP',
          auth_username: 'pyuser',
          auth_password: 'pysecret',
          encrypted: false,
          qos_specs: null,
          access_mode: 'rw',
          cacheable: false,
        },
      },
    });
    const call = await waitForCall('initialize_connection', since);
    expect(call.wire.version).toBe('3.0');
    expect(Object.keys(call.wire.args).sort()).toEqual(['connector', 'volume']);
    expectVolumeOvo(call.wire.args.volume, volumeId);
    expect(call.handled.connector).toEqual(CONNECTOR);
    expect(call.handled.volume).toMatchObject({ py_class: 'Volume', status: 'attaching', attach_status: 'detached', host: `${PYHOST}@lvm#lvm` });
  });

  it('os-attach → 202; Python receives attach_volume at 3.3 with the Volume and returns a VolumeAttachment', async () => {
    const since = pyvol.calls().length;
    const r = await http.action(volumeId, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb', mode: 'rw' } });
    expect(r.status, r.text).toBe(202);
    const call = await waitForCall('attach_volume', since);
    expect(call.wire.version).toBe('3.3');
    expect(Object.keys(call.wire.args).sort()).toEqual(['host_name', 'instance_uuid', 'mode', 'mountpoint', 'volume', 'volume_id']);
    expect(call.wire.args).toMatchObject({ volume_id: volumeId, instance_uuid: INSTANCE, host_name: null, mountpoint: '/dev/vdb', mode: 'rw' });
    expectVolumeOvo(call.wire.args.volume, volumeId);
    expect(call.handled.volume).toMatchObject({ py_class: 'Volume', status: 'attaching', admin_metadata: { readonly: 'False' } });
    const v = (await http.get(volumeId)).json.volume;
    expect(v.status).toBe('in-use');
    expect(v.attachments).toHaveLength(1);
    attachmentId = v.attachments[0].attachment_id;
    expect(v.attachments[0]).toMatchObject({ server_id: INSTANCE, device: '/dev/vdb', volume_id: volumeId });
  });

  it('os-begin_detaching → 202 without any RPC', async () => {
    const since = pyvol.calls().length;
    expect((await http.action(volumeId, { 'os-begin_detaching': null })).status).toBe(202);
    expect(volumeRow(volumeId).status).toBe('detaching');
    expect(pyvol.calls().slice(since)).toEqual([]);
  });

  it('os-terminate_connection, Python raises VolumeBackendAPIException → 500 "Unable to terminate volume connection from backend."', async () => {
    const since = pyvol.calls().length;
    const r = await http.action(volumeId, { 'os-terminate_connection': { connector: { ...CONNECTOR, host: 'compute-vbe' } } }, SERVICE);
    expect(r.status, r.text).toBe(500);
    expect(r.json).toEqual({ computeFault: { code: 500, message: 'Unable to terminate volume connection from backend.' } });
    const call = await waitForCall('terminate_connection', since);
    expect(call.wire.version).toBe('3.0');
    expect(call.wire.args).toEqual({ volume_id: volumeId, connector: { ...CONNECTOR, host: 'compute-vbe' }, force: false });
    expect(volumeRow(volumeId).status).toBe('detaching');
  });

  it('os-terminate_connection, Python raises ISCSITargetDetachFailed → 500 (not caught by the controller, as in Cinder)', async () => {
    const since = pyvol.calls().length;
    const r = await http.action(volumeId, { 'os-terminate_connection': { connector: { ...CONNECTOR, host: 'compute-fail' } } }, SERVICE);
    expect(r.status, r.text).toBe(500);
    // Cinder's controller catches only VolumeBackendAPIException; the rebuilt
    // ISCSITargetDetachFailed (code 500, not "safe") reaches the fault wrapper: generic message.
    expect(r.json).toEqual({ computeFault: { code: 500, message: GENERIC_500 } });
    await waitForCall('terminate_connection', since);
    expect(volumeRow(volumeId).status).toBe('detaching');
  });

  it('os-terminate_connection → 202 (call 3.0: volume_id, connector, force — no OVO)', async () => {
    const since = pyvol.calls().length;
    const r = await http.action(volumeId, { 'os-terminate_connection': { connector: CONNECTOR } }, SERVICE);
    expect(r.status, r.text).toBe(202);
    const call = await waitForCall('terminate_connection', since);
    expect(call.wire.args).toEqual({ volume_id: volumeId, connector: CONNECTOR, force: false });
    expect(call.handled).toEqual({ volume_id: volumeId, connector: CONNECTOR, force: false });
  });

  it('os-detach → 202; Python receives detach_volume at 3.4 with the Volume and its VolumeAttachmentList', async () => {
    const since = pyvol.calls().length;
    const r = await http.action(volumeId, { 'os-detach': { attachment_id: attachmentId } }, SERVICE);
    expect(r.status, r.text).toBe(202);
    const call = await waitForCall('detach_volume', since);
    expect(call.wire.version).toBe('3.4');
    expect(Object.keys(call.wire.args).sort()).toEqual(['attachment_id', 'volume', 'volume_id']);
    expect(call.wire.args).toMatchObject({ volume_id: volumeId, attachment_id: attachmentId });
    expectVolumeOvo(call.wire.args.volume, volumeId);
    const list = call.wire.args.volume['versioned_object.data'].volume_attachment;
    expect(list['versioned_object.name']).toBe('VolumeAttachmentList');
    expect(list['versioned_object.version']).toBe('1.1');
    expect(call.handled.volume).toMatchObject({
      py_class: 'Volume',
      status: 'detaching',
      attach_status: 'attached',
      volume_attachment: {
        py_class: 'VolumeAttachmentList',
        objects: [{ py_class: 'VolumeAttachment', id: attachmentId, attach_status: 'attached', instance_uuid: INSTANCE, mountpoint: '/dev/vdb' }],
      },
    });
    expect((await http.get(volumeId)).json.volume).toMatchObject({ status: 'available', attachments: [] });
  });

  it('delete → 202; Python receives the delete_volume cast (3.0)', async () => {
    const since = pyvol.calls().length;
    const r = await http.delete(volumeId);
    expect(r.status, r.text).toBe(202);
    const call = await waitForCall('delete_volume', since);
    expect(call.wire.version).toBe('3.0');
    expectVolumeOvo(call.wire.args.volume, volumeId);
    expect(call.handled).toMatchObject({ unmanage_only: false, cascade: false, volume: { status: 'deleting' } });
  });

  it('an unknown volume never reaches Python (404 from our API)', async () => {
    const since = pyvol.calls().length;
    const r = await http.action(randomUUID(), { 'os-terminate_connection': { connector: CONNECTOR } }, SERVICE);
    expect(r.status).toBe(404);
    expect(pyvol.calls().slice(since)).toEqual([]);
  });
});
