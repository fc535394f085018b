// Issue 4 acceptance 4: Nova's detach sequences (spec field-failures-and-nova.md §2.2–§2.4) against
// the real API and volume-manager processes, with an HTTP client that behaves like Nova: it reads
// the volume the way nova-api and nova-compute do, sends its service token (with noauth, as in
// Cinder, `X-Service-Roles: service` stands for what keystonemiddleware derives from it), rolls
// back on a guest-side failure, and retries terminate_connection / detach / attachment_delete five
// times in total, immediately, on a 500. Each sequence must end with the volume `available`, no
// live attachment row and no LIO ACL or target left (stand-in state).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';

const PROJECT = '0a0b0c0d0e0f40718293a4b5c6d7e8f9';
const SERVICE = { 'X-Service-Roles': 'service' };
const NOVA_ATTACH_MV = { 'OpenStack-API-Version': 'volume 3.44' };

let cluster: Cluster;
/** nova-api / nova-compute: the user's token plus Nova's service token. */
let nova: CinderClient;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.start();
  nova = new CinderClient(cluster.baseUrl, PROJECT, 'demo-user', SERVICE);
});
afterAll(async () => {
  await cluster?.stop();
});

let hostSeq = 0;
function connectorFor() {
  hostSeq += 1;
  return {
    platform: 'x86_64',
    os_type: 'linux',
    ip: `192.0.2.${70 + hostSeq}`,
    host: `compute-${hostSeq}`,
    multipath: false,
    initiator: `iqn.1994-05.com.redhat:nova-${hostSeq}`,
    do_local_attach: false,
  };
}
type Connector = ReturnType<typeof connectorFor>;

interface Attached {
  id: string;
  iqn: string;
  instance: string;
  connector: Connector;
  attachmentId: string;
}

async function availableVolume(): Promise<string> {
  const r = await nova.create({ volume: { size: 1 } });
  expect(r.status, r.text).toBe(202);
  const id = r.json.volume.id;
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    if (volumeRow(id)?.status === 'available') return id;
    await sleep(30);
  }
  throw new Error(`volume ${id} never became available`);
}

/** Nova's legacy attach: reserve, initialize_connection, attach. */
async function legacyAttached(): Promise<Attached> {
  const id = await availableVolume();
  const connector = connectorFor();
  const instance = randomUUID();
  expect((await nova.action(id, { 'os-reserve': null })).status).toBe(202);
  expect((await nova.action(id, { 'os-initialize_connection': { connector } })).status).toBe(200);
  expect((await nova.action(id, { 'os-attach': { instance_uuid: instance, mountpoint: '/dev/vdb', mode: 'rw' } })).status).toBe(202);
  const attachmentId = liveAttachments(id)[0].id;
  const att = { id, iqn: `iqn.2010-10.org.openstack:volume-${id}`, instance, connector, attachmentId };
  expectAttached(att);
  return att;
}

/** Nova's new-style attach since Train: attachment_create, attachment_update, attachment_complete. */
async function newStyleAttached(): Promise<Attached> {
  const id = await availableVolume();
  const connector = connectorFor();
  const instance = randomUUID();
  const c = await nova.request('POST', `/v3/${PROJECT}/attachments`, { attachment: { volume_uuid: id, instance_uuid: instance, connector: null } }, NOVA_ATTACH_MV);
  expect(c.status, c.text).toBe(200);
  const attachmentId = c.json.attachment.id;
  const u = await nova.request('PUT', `/v3/${PROJECT}/attachments/${attachmentId}`, { attachment: { connector } }, NOVA_ATTACH_MV);
  expect(u.status, u.text).toBe(200);
  expect(u.json.attachment.connection_info).toMatchObject({ driver_volume_type: 'iscsi', attachment_id: attachmentId });
  const done = await nova.request('POST', `/v3/${PROJECT}/attachments/${attachmentId}/action`, { 'os-complete': null }, NOVA_ATTACH_MV);
  expect(done.status, done.text).toBe(204);
  const att = { id, iqn: `iqn.2010-10.org.openstack:volume-${id}`, instance, connector, attachmentId };
  expectAttached(att);
  return att;
}

const volumeRow = (id: string) => cluster.sql<any>('SELECT status, attach_status FROM volumes WHERE id = ?', id)[0];
const liveAttachments = (id: string) =>
  cluster.sql<any>('SELECT id, attach_status FROM volume_attachment WHERE volume_id = ? AND deleted = 0', id);

/** The stand-in LIO target: null when gone, else its ACL initiators. */
function target(iqn: string): string[] | null {
  const f = path.join(cluster.standinState, 'targets', iqn);
  if (!fs.existsSync(f) || fs.readFileSync(f, 'utf8').trim() === '') return null;
  return fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('acl '))
    .map((l) => l.split(' ')[1]);
}

function expectAttached(a: Attached) {
  expect(volumeRow(a.id)).toEqual({ status: 'in-use', attach_status: 'attached' });
  expect(liveAttachments(a.id)).toEqual([{ id: a.attachmentId, attach_status: 'attached' }]);
  expect(target(a.iqn)).toEqual([a.connector.initiator]);
}

/** The end state every sequence must reach: available, no live attachment row, no ACL, no target. */
async function expectCleanlyDetached(a: Attached) {
  expect(volumeRow(a.id)).toEqual({ status: 'available', attach_status: 'detached' });
  expect(liveAttachments(a.id)).toEqual([]);
  expect(target(a.iqn)).toBeNull();
  const v = (await nova.get(a.id)).json.volume;
  expect(v).toMatchObject({ status: 'available', attachments: [] });
}

/** nova-api: GET the volume with no microversion, and the fields Nova reads (cinder.py:259-311). */
async function novaApiReadsVolume(id: string) {
  const r = await nova.get(id);
  expect(r.status).toBe(200);
  const v = r.json.volume;
  for (const k of ['id', 'status', 'size', 'availability_zone', 'created_at', 'multiattach', 'attachments', 'name', 'description', 'volume_type', 'snapshot_id', 'bootable', 'metadata', 'migration_status']) {
    expect(v, k).toHaveProperty(k);
  }
  return v;
}

/** nova-compute: re-reads the volume at 3.69 (falling back to 3.48, then none) for shared_targets/service_uuid. */
async function novaComputeReadsVolume(id: string) {
  for (const mv of ['3.69', '3.48']) {
    const r = await nova.request('GET', `/v3/${PROJECT}/volumes/${id}`, undefined, { 'OpenStack-API-Version': `volume ${mv}` });
    if (r.status === 200) {
      expect(r.json.volume).toHaveProperty('shared_targets');
      expect(r.json.volume).toHaveProperty('service_uuid');
      expect(r.headers.get('openstack-api-version')).toBe(`volume ${mv}`);
      return r.json.volume;
    }
  }
  const r = await nova.get(id);
  expect(r.status).toBe(200);
  return r.json.volume;
}

/**
 * Nova's retry decorator on terminate_connection, detach, attachment_delete and attachment_update:
 * 5 attempts in total, no wait, retrying only on a 500. Returns every answer.
 */
async function withNovaRetries(fn: () => Promise<{ status: number; text: string; json: any }>) {
  const answers: { status: number; json: any }[] = [];
  for (let attempt = 1; attempt <= 5; attempt++) {
    const r = await fn();
    answers.push({ status: r.status, json: r.json });
    if (r.status !== 500) break;
  }
  return answers;
}

const terminate = (a: Attached) => () => nova.action(a.id, { 'os-terminate_connection': { connector: a.connector } });
const detach = (a: Attached) => () => nova.action(a.id, { 'os-detach': { attachment_id: a.attachmentId } });
const attachmentDelete = (a: Attached) => () => nova.request('DELETE', `/v3/${PROJECT}/attachments/${a.attachmentId}`, undefined, NOVA_ATTACH_MV);

describe('§2.2 user-initiated detach, legacy BDM', () => {
  it('guest detach fails → roll_detaching → in-use with nothing touched; the user retries and it detaches', async () => {
    const a = await legacyAttached();
    // nova-api
    expect((await novaApiReadsVolume(a.id)).attachments).toEqual([expect.objectContaining({ server_id: a.instance, attachment_id: a.attachmentId, device: '/dev/vdb' })]);
    expect((await nova.action(a.id, { 'os-begin_detaching': {} })).status).toBe(202);
    expect(volumeRow(a.id)).toEqual({ status: 'detaching', attach_status: 'attached' });
    // nova-compute: driver_detach raises DeviceDetachFailed → roll back, re-raise
    await novaComputeReadsVolume(a.id);
    expect((await nova.action(a.id, { 'os-roll_detaching': {} })).status).toBe(202);
    expectAttached(a); // in-use, attachment attached, ACL still there: the guest still uses it

    // the user asks again; this time the guest lets go
    expect((await nova.action(a.id, { 'os-begin_detaching': {} })).status).toBe(202);
    await novaComputeReadsVolume(a.id);
    expect(await withNovaRetries(terminate(a))).toEqual([{ status: 202, json: undefined }]);
    expect(target(a.iqn)).toEqual([]); // ACL gone, target kept until os-detach
    expect(volumeRow(a.id).status).toBe('detaching');
    expect(await withNovaRetries(detach(a))).toEqual([{ status: 202, json: undefined }]);
    await expectCleanlyDetached(a);
  });
});

describe('§2.3 instance delete (no begin_detaching), legacy BDM', () => {
  it('terminate_connection + detach straight from in-use → available, nothing leaked', async () => {
    const a = await legacyAttached();
    expect(await withNovaRetries(terminate(a))).toEqual([{ status: 202, json: undefined }]);
    expect(volumeRow(a.id)).toEqual({ status: 'in-use', attach_status: 'attached' });
    expect(await withNovaRetries(detach(a))).toEqual([{ status: 202, json: undefined }]);
    await expectCleanlyDetached(a);
  });
});

describe('§2.4 a 500 from the backend, then Nova\'s five immediate retries (legacy)', () => {
  it('delete-initiator fails twice: terminate_connection answers 500, 500, 202; detach 202 → clean', async () => {
    const a = await legacyAttached();
    expect((await nova.action(a.id, { 'os-begin_detaching': {} })).status).toBe(202);
    cluster.injectFailure('once cinder-rtstool delete-initiator');
    cluster.injectFailure('once cinder-rtstool delete-initiator');
    const answers = await withNovaRetries(terminate(a));
    cluster.clearFailures();
    const fault = { computeFault: { code: 500, message: 'Unable to terminate volume connection from backend.' } };
    expect(answers).toEqual([
      { status: 500, json: fault },
      { status: 500, json: fault },
      { status: 202, json: undefined },
    ]);
    expect(target(a.iqn)).toEqual([]);
    expect(await withNovaRetries(detach(a))).toEqual([{ status: 202, json: undefined }]);
    await expectCleanlyDetached(a);
  });

  it('rtstool delete (remove_export) fails four times: os-detach answers 500 ×4 then 202 → clean', async () => {
    const a = await legacyAttached();
    expect((await nova.action(a.id, { 'os-begin_detaching': {} })).status).toBe(202);
    expect(await withNovaRetries(terminate(a))).toEqual([{ status: 202, json: undefined }]);
    for (let i = 0; i < 4; i++) cluster.injectFailure('once cinder-rtstool delete');
    const answers = await withNovaRetries(detach(a));
    cluster.clearFailures();
    expect(answers.map((x) => x.status)).toEqual([500, 500, 500, 500, 202]);
    // between the failures nothing was written (Cinder 21.3.1's RemoveExportException path)
    expect(answers[0].json).toEqual({ computeFault: { code: 500, message: 'The server has either erred or is incapable of performing the requested operation.' } });
    await expectCleanlyDetached(a);
  });

  it('a backend down for all five attempts: Nova gives up, nothing is half-done; os-force_detach recovers later', async () => {
    const a = await legacyAttached();
    cluster.injectFailure('cinder-rtstool delete-initiator');
    const answers = await withNovaRetries(terminate(a));
    expect(answers.map((x) => x.status)).toEqual([500, 500, 500, 500, 500]);
    // Nova's instance delete swallows the error (§2.3): the volume and its ACL are left as they were
    expectAttached(a);
    cluster.clearFailures();
    // an operator recovers with os-force_detach once the backend is back
    const r = await nova.action(a.id, { 'os-force_detach': { attachment_id: a.attachmentId, connector: a.connector } });
    expect(r.status, r.text).toBe(202);
    await expectCleanlyDetached(a);
  });
});

describe('new-style BDM (attachments API, 3.44)', () => {
  it('§2.2 user detach: guest failure → roll_detaching → in-use; retry → attachment_delete → clean', async () => {
    const a = await newStyleAttached();
    await novaApiReadsVolume(a.id);
    expect((await nova.action(a.id, { 'os-begin_detaching': {} })).status).toBe(202);
    await novaComputeReadsVolume(a.id);
    expect((await nova.action(a.id, { 'os-roll_detaching': {} })).status).toBe(202);
    expectAttached(a);
    expect((await nova.action(a.id, { 'os-begin_detaching': {} })).status).toBe(202);
    const answers = await withNovaRetries(attachmentDelete(a));
    expect(answers).toEqual([{ status: 200, json: { attachments: [] } }]);
    await expectCleanlyDetached(a);
  });

  it('§2.3 instance delete: attachment_delete straight from in-use → clean', async () => {
    const a = await newStyleAttached();
    expect(await withNovaRetries(attachmentDelete(a))).toEqual([{ status: 200, json: { attachments: [] } }]);
    await expectCleanlyDetached(a);
  });

  it('§2.4 delete-initiator fails twice: attachment_delete answers 500, 500, 200 → clean', async () => {
    const a = await newStyleAttached();
    expect((await nova.action(a.id, { 'os-begin_detaching': {} })).status).toBe(202);
    cluster.injectFailure('once cinder-rtstool delete-initiator');
    cluster.injectFailure('once cinder-rtstool delete-initiator');
    const answers = await withNovaRetries(attachmentDelete(a));
    cluster.clearFailures();
    expect(answers.map((x) => x.status)).toEqual([500, 500, 200]);
    expect(answers[2].json).toEqual({ attachments: [] });
    await expectCleanlyDetached(a);
  });
});
