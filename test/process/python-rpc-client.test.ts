// Live RPC interop, Python → cinder-ts: Debian's real python3-cinder (21.3.1) calls our
// volume-manager process through RabbitMQ with `cinder.volume.rpcapi.VolumeAPI`, exactly as
// cinder-api would (test/python/cinder_rpc_client.py). The volumes are prepared through our HTTP
// API; Python loads each Volume object through Cinder's own DB API from what our processes wrote
// (see the helper's docstring), gets our results back, and catches our failures with the
// `except cinder.exception.X` clauses a Python caller writes. After every call the DB and the
// stand-in LIO state are checked.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { transportUrl } from '../support/rabbit.js';
import { PyHelper, requirePythonModules } from '../python/py-helper.js';

const PROJECT = 'c0ffee0000000000000000000000beef';
const CONNECTOR = {
  platform: 'x86_64',
  os_type: 'linux',
  ip: '192.0.2.41',
  host: 'compute-py',
  multipath: false,
  initiator: 'iqn.1994-05.com.redhat:py-compute',
  do_local_attach: false,
};

let cluster: Cluster;
let api: CinderClient;
let py: PyHelper;
let ready: any;

beforeAll(async () => {
  requirePythonModules('cinder.volume.rpcapi', 'oslo_messaging');
  cluster = new Cluster();
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT);
  py = new PyHelper('cinder_rpc_client.py', [
    '--transport-url',
    transportUrl(cluster.vhost),
    '--db',
    cluster.dbConnection,
    '--timeout',
    '20',
    '--project-id',
    PROJECT,
  ]);
  ready = await py.next();
});
afterAll(async () => {
  await py?.close();
  await cluster?.stop();
});

async function waitForStatus(id: string, status: string, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < end) {
    last = await api.get(id);
    if (last.status === 200 && last.json.volume.status === status) return last.json.volume;
    await sleep(50);
  }
  throw new Error(`volume ${id} never reached ${status}: ${JSON.stringify(last?.json)}`);
}

async function attachedVolume(): Promise<{ id: string; attachmentId: string; iqn: string }> {
  const r = await api.create({ volume: { size: 1, name: 'py-rpc' } });
  expect(r.status, r.text).toBe(202);
  const id = r.json.volume.id;
  await waitForStatus(id, 'available');
  expect((await api.action(id, { 'os-reserve': null })).status).toBe(202);
  expect((await api.action(id, { 'os-initialize_connection': { connector: CONNECTOR } })).status).toBe(200);
  const a = await api.action(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rw' } });
  expect(a.status, a.text).toBe(202);
  const attachmentId = cluster.sql<any>('SELECT id FROM volume_attachment WHERE volume_id = ? AND deleted = 0', id)[0].id;
  return { id, attachmentId, iqn: `iqn.2010-10.org.openstack:volume-${id}` };
}

const volumeRow = (id: string) => cluster.sql<any>('SELECT status, attach_status, deleted FROM volumes WHERE id = ?', id)[0];
const attachmentRow = (id: string) =>
  cluster.sql<any>('SELECT attach_status, deleted, connector FROM volume_attachment WHERE id = ?', id)[0];

/** The stand-in LIO target file: null when the target does not exist (missing or empty file). */
function target(iqn: string): { acls: string[] } | null {
  const f = path.join(cluster.standinState, 'targets', iqn);
  if (!fs.existsSync(f)) return null;
  const text = fs.readFileSync(f, 'utf8');
  if (text.trim() === '') return null;
  return { acls: text.split('\n').filter((l) => l.startsWith('acl ')).map((l) => l.split(' ')[1]) };
}

describe('real cinder.volume.rpcapi.VolumeAPI → our volume-manager', () => {
  it('version caps come from our services row through Cinder\'s own Service.get_minimum_*_version', () => {
    expect(ready.ready).toBe(true);
    expect(ready.caps.rpc_version_cap).toBe('3.18');
    expect(ready.caps.obj_version_cap).toBe('1.39');
    expect(ready.caps.services).toEqual([
      { host: 'testhost@lvm', binary: 'cinder-volume', rpc_current_version: '3.18', object_current_version: '1.39', is_up: true },
    ]);
  });

  describe('legacy detach: terminate_connection then detach_volume', () => {
    let vol: { id: string; attachmentId: string; iqn: string };
    beforeAll(async () => {
      vol = await attachedVolume();
      expect((await api.action(vol.id, { 'os-begin_detaching': null })).status).toBe(202);
      expect(target(vol.iqn)?.acls).toEqual([CONNECTOR.initiator]);
    });

    it('terminate_connection with a failing delete-initiator → Python catches VolumeBackendAPIException, nothing changes', async () => {
      const before = cluster.snapshot(vol.id);
      cluster.injectFailure('cinder-rtstool delete-initiator');
      let r: any;
      try {
        r = await py.request({ op: 'terminate_connection', volume_id: vol.id, connector: CONNECTOR, expect: 'VolumeBackendAPIException' });
      } finally {
        cluster.clearFailures();
      }
      expect(r.outcome, JSON.stringify(r)).toBe('exception');
      expect(r.caught_by_expect).toBe(true);
      // oslo.messaging rebuilds it as a subclass of the real class, in module cinder.exception_Remote
      expect(r.exc_class).toBe('VolumeBackendAPIException_Remote');
      expect(r.exc_module).toBe('cinder.exception_Remote');
      expect(r.exc_mro.slice(0, 3)).toEqual([
        'cinder.exception_Remote.VolumeBackendAPIException_Remote',
        'cinder.exception.VolumeBackendAPIException',
        'cinder.exception.CinderException',
      ]);
      expect(r.is_remote_error).toBe(false);
      expect(r.exc_kwargs.code).toBe(500);
      expect(r.exc_kwargs.data).toMatch(/^Terminate volume connection failed: /);
      expect(r.exc_msg).toMatch(/^Bad or unexpected response from the storage volume backend API: Terminate volume connection failed: /);
      // what Python sent: the Volume it loaded from our rows, routed to our backend queue
      expect(r.volume).toMatchObject({
        obj_name: 'Volume',
        id: vol.id,
        host: 'testhost@lvm#lvm',
        status: 'detaching',
        attach_status: 'attached',
        attachments: [{ id: vol.attachmentId, attach_status: 'attached' }],
      });
      expect(cluster.snapshot(vol.id)).toEqual(before);
      expect(target(vol.iqn)?.acls).toEqual([CONNECTOR.initiator]);
      // the manager worked under Python's request id (the context crossed the wire); its stdout
      // reaches us through a pipe, so give the line a moment to arrive
      for (let i = 0; i < 40 && !cluster.logs.volume.some((l) => l.includes(r.request_id)); i++) await sleep(50);
      expect(cluster.logs.volume.some((l) => l.includes(r.request_id) && l.includes('Terminate volume connection failed'))).toBe(true);
    });

    it('terminate_connection → None; the ACL is gone, the volume still detaching', async () => {
      cluster.clearStandinLog();
      const r = await py.request({ op: 'terminate_connection', volume_id: vol.id, connector: CONNECTOR });
      expect(r, JSON.stringify(r)).toMatchObject({ outcome: 'ok', result_type: 'NoneType', result: null });
      expect(cluster.argvs()).toEqual([`cinder-rtstool delete-initiator ${vol.iqn} ${CONNECTOR.initiator}`, 'cinder-rtstool save']);
      expect(cluster.standinCalls().every((c) => c.lock_held === true)).toBe(true);
      expect(target(vol.iqn)?.acls).toEqual([]);
      expect(volumeRow(vol.id)).toMatchObject({ status: 'detaching', attach_status: 'attached' });
      expect(attachmentRow(vol.attachmentId)).toMatchObject({ attach_status: 'attached', deleted: 0 });
    });

    it('detach_volume with a failing rtstool delete → Python catches RemoveExportException, nothing changes', async () => {
      const before = cluster.snapshot(vol.id);
      cluster.injectFailure('cinder-rtstool delete');
      let r: any;
      try {
        r = await py.request({ op: 'detach_volume', volume_id: vol.id, attachment_id: vol.attachmentId, expect: 'RemoveExportException' });
      } finally {
        cluster.clearFailures();
      }
      expect(r.outcome, JSON.stringify(r)).toBe('exception');
      expect(r.caught_by_expect).toBe(true);
      expect(r.exc_class).toBe('RemoveExportException_Remote');
      expect(r.isinstance).toMatchObject({ RemoveExportException: true, VolumeDriverException: true, CinderException: true, VolumeBackendAPIException: false });
      expect(r.exc_kwargs).toMatchObject({ volume: vol.id, code: 500 });
      expect(r.exc_msg).toMatch(new RegExp(`^Failed to remove export for volume ${vol.id}: `));
      expect(cluster.snapshot(vol.id)).toEqual(before);
      expect(target(vol.iqn)).not.toBeNull();
    });

    it('detach_volume → None; the attachment row is soft-deleted, the target gone, the volume available', async () => {
      cluster.clearStandinLog();
      const r = await py.request({ op: 'detach_volume', volume_id: vol.id, attachment_id: vol.attachmentId });
      expect(r, JSON.stringify(r)).toMatchObject({ outcome: 'ok', result: null });
      expect(cluster.argvs()).toEqual(['cinder-rtstool get-targets', `cinder-rtstool delete ${vol.iqn}`, 'cinder-rtstool save']);
      expect(target(vol.iqn)).toBeNull();
      expect(volumeRow(vol.id)).toMatchObject({ status: 'available', attach_status: 'detached' });
      expect(attachmentRow(vol.attachmentId)).toMatchObject({ attach_status: 'detached', deleted: 1 });
      expect((await api.get(vol.id)).json.volume).toMatchObject({ status: 'available', attachments: [] });
    });

    it('detach_volume again for the gone attachment → None, volume stays available (manager\'s "not attached" path)', async () => {
      cluster.clearStandinLog();
      const r = await py.request({ op: 'detach_volume', volume_id: vol.id, attachment_id: vol.attachmentId });
      expect(r, JSON.stringify(r)).toMatchObject({ outcome: 'ok', result: null });
      expect(cluster.argvs()).toEqual([]);
      expect(volumeRow(vol.id)).toMatchObject({ status: 'available', attach_status: 'detached' });
    });
  });

  describe('new-style: attachment_update then attachment_delete (RPC 3.9)', () => {
    let volumeId = '';
    let iqn = '';
    let attachmentId = '';
    const instance = randomUUID();

    beforeAll(async () => {
      const r = await api.create({ volume: { size: 1, name: 'py-rpc-new' } });
      volumeId = r.json.volume.id;
      iqn = `iqn.2010-10.org.openstack:volume-${volumeId}`;
      await waitForStatus(volumeId, 'available');
      // What Cinder's API attachment_create writes before any RPC: a 'reserved' row, volume reserved.
      attachmentId = randomUUID();
      const now = cluster.db.timestamp();
      cluster.write(
        "INSERT INTO volume_attachment (id, volume_id, instance_uuid, attach_status, attach_mode, created_at, deleted) VALUES (?, ?, ?, 'reserved', 'null', ?, 0)",
        attachmentId, volumeId, instance, now,
      );
      cluster.setVolume(volumeId, { status: 'reserved' });
    });

    it('attachment_delete of an unknown attachment → Python catches VolumeAttachmentNotFound (a NotFound)', async () => {
      const before = cluster.snapshot(volumeId);
      const bogus = randomUUID();
      cluster.clearStandinLog();
      const r = await py.request({ op: 'attachment_delete', volume_id: volumeId, attachment_id: bogus, expect: 'VolumeAttachmentNotFound' });
      expect(r.outcome, JSON.stringify(r)).toBe('exception');
      expect(r.caught_by_expect).toBe(true);
      expect(r.exc_class).toBe('VolumeAttachmentNotFound_Remote');
      expect(r.isinstance).toMatchObject({ VolumeAttachmentNotFound: true, NotFound: true });
      expect(r.exc_kwargs).toEqual({ filter: `attachment_id = ${bogus}`, code: 404 });
      expect(r.exc_msg).toBe(`Volume attachment could not be found with filter: attachment_id = ${bogus}.`);
      expect(cluster.argvs()).toEqual([]);
      expect(cluster.snapshot(volumeId)).toEqual(before);
    });

    it('attachment_update → connection_info with the attachment id; export and ACL made, row attaching', async () => {
      const r = await py.request({ op: 'attachment_update', volume_id: volumeId, attachment_id: attachmentId, connector: CONNECTOR });
      expect(r.outcome, JSON.stringify(r)).toBe('ok');
      expect(r.result_type).toBe('dict');
      expect(r.result).toMatchObject({
        driver_volume_type: 'iscsi',
        target_iqn: iqn,
        target_portal: '192.0.2.10:3260',
        target_lun: 0,
        auth_method: 'CHAP',
        access_mode: 'rw',
        attachment_id: attachmentId,
      });
      expect(target(iqn)?.acls).toEqual([CONNECTOR.initiator]);
      const row = attachmentRow(attachmentId);
      // volume_attached(..., mark_attached=False): both 'attaching' until the API's os-complete
      expect(row).toMatchObject({ attach_status: 'attaching', deleted: 0 });
      expect(JSON.parse(row.connector)).toMatchObject({ initiator: CONNECTOR.initiator, host: CONNECTOR.host });
      expect(volumeRow(volumeId)).toMatchObject({ status: 'attaching', attach_status: 'attaching' });
      expect(r.volume).toMatchObject({ status: 'reserved', attachments: [{ id: attachmentId, attach_status: 'reserved', instance_uuid: instance }] });
    });

    it('attachment_delete with a failing delete-initiator → Python catches VolumeBackendAPIException, ACL kept', async () => {
      const before = cluster.snapshot(volumeId);
      cluster.injectFailure('cinder-rtstool delete-initiator');
      let r: any;
      try {
        r = await py.request({ op: 'attachment_delete', volume_id: volumeId, attachment_id: attachmentId, expect: 'VolumeBackendAPIException' });
      } finally {
        cluster.clearFailures();
      }
      expect(r.outcome, JSON.stringify(r)).toBe('exception');
      expect(r.caught_by_expect).toBe(true);
      expect(r.exc_kwargs.data).toMatch(/^Terminate volume connection failed: /);
      expect(r.volume.attachments).toEqual([
        { id: attachmentId, attach_status: 'attaching', instance_uuid: instance, connector: expect.objectContaining({ initiator: CONNECTOR.initiator }) },
      ]);
      expect(cluster.snapshot(volumeId)).toEqual(before);
      expect(target(iqn)?.acls).toEqual([CONNECTOR.initiator]);
    });

    it('attachment_delete → None; ACL and target removed on the backend, the DB left to the API (as Cinder)', async () => {
      const before = cluster.snapshot(volumeId);
      cluster.clearStandinLog();
      const r = await py.request({ op: 'attachment_delete', volume_id: volumeId, attachment_id: attachmentId });
      expect(r, JSON.stringify(r)).toMatchObject({ outcome: 'ok', result: null });
      expect(cluster.argvs()).toEqual([
        `cinder-rtstool delete-initiator ${iqn} ${CONNECTOR.initiator}`,
        'cinder-rtstool save',
        'cinder-rtstool get-targets',
        `cinder-rtstool delete ${iqn}`,
        'cinder-rtstool save',
      ]);
      expect(target(iqn)).toBeNull();
      // The manager's attachment_delete writes nothing; Cinder's API deletes the row afterwards.
      expect(cluster.snapshot(volumeId)).toEqual(before);
    });
  });
});
