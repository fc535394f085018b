// The admin recovery actions os-force_detach and os-reset_status (spec §1.2, §7.2, §7.11, pitfalls
// 8 and 14, field failures F1/F2) through the real API and volume-manager processes. noauth contexts
// are always admin, so the 403s are covered in test/unit/api-attachments.test.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Cluster, CinderClient, sleep, iqnOf } from '../support/cluster.js';
import { LOG_DRIVER_CONFIG, loggedNotifications } from '../support/notifications.js';

const PROJECT = 'ad31ac7100000000000000000000a0a0';
const CONNECTOR = { initiator: 'iqn.1994-05.com.redhat:compute9', host: 'compute9', ip: '192.0.2.39', multipath: false };
const SERVICE = { 'X-Service-Roles': 'service' };
const GENERIC_500 = 'The server has either erred or is incapable of performing the requested operation.';

let cluster: Cluster;
let api: CinderClient;

beforeAll(async () => {
  // The log driver, so the notifications can be read from the services' logs.
  cluster = new Cluster({ extraConfig: LOG_DRIVER_CONFIG });
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT);
});
afterAll(async () => {
  await cluster?.stop();
});

const newVolume = () => cluster.newVolume(api);
const attachedVolume = (instance?: string) => cluster.attachedVolume(api, CONNECTOR, instance);

function adminMd(volumeId: string) {
  return cluster.sql<any>('SELECT `key`, value, deleted FROM volume_admin_metadata WHERE volume_id = ? ORDER BY id', volumeId);
}

/** A legacy attach (reserve, initialize_connection, attach): exported, ACL in place, in-use. */

async function expectFault(id: string, body: unknown, code: number, fault: string, message: string, headers: Record<string, string> = {}) {
  const before = cluster.snapshot(id);
  const r = await api.action(id, body, headers);
  expect(r.status, r.text).toBe(code);
  expect(r.json).toEqual({ [fault]: { code, message } });
  expect(cluster.snapshot(id)).toEqual(before);
}

async function expect202(id: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await api.action(id, body, headers);
  expect(r.status, r.text).toBe(202);
  expect(r.text).toBe('');
}

/** Notification event types the API logged for a volume. */
/** The volume's notifications in the API's log, once `count` events of type `last` have arrived. */
async function apiEvents(volumeId: string, last: string, count = 1) {
  const read = () =>
    loggedNotifications(cluster.logs.api).filter((n) => n.payload.volume_id === volumeId);
  // The log pipe may lag behind the HTTP answer: wait for the last expected event itself.
  for (let i = 0; i < 100 && read().filter((e) => e.event_type === last).length < count; i++) await sleep(50);
  return read();
}

describe('os-force_detach', () => {
  it('legacy attachment with connector and id: ACL and export gone, row soft-deleted, available, readonly kept', async () => {
    const { id, attachmentId } = await attachedVolume();
    expect(cluster.target(id).acls).toEqual([CONNECTOR.initiator]);
    cluster.clearStandinLog();
    await expect202(id, { 'os-force_detach': { attachment_id: attachmentId, connector: CONNECTOR } });
    const iqn = iqnOf(id);
    expect(cluster.argvs()).toEqual([
      `cinder-rtstool delete-initiator ${iqn} ${CONNECTOR.initiator}`,
      'cinder-rtstool save',
      'cinder-rtstool get-targets',
      `cinder-rtstool delete ${iqn}`,
      'cinder-rtstool save',
    ]);
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'available', attach_status: 'detached' });
    expect(cluster.liveAttachments(id)).toEqual([]);
    expect(adminMd(id)).toEqual([
      { key: 'readonly', value: 'False', deleted: 0 },
      { key: 'attached_mode', value: 'rw', deleted: 1 },
    ]);
    expect(cluster.target(id)).toEqual({ exists: false, acls: [] });
  });

  it('an attaching (reserved) volume: terminate_connection unreserves it first', async () => {
    const id = await newVolume();
    expect((await api.action(id, { 'os-reserve': null })).status).toBe(202);
    await expect202(id, { 'os-force_detach': {} });
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'available', attach_status: 'detached' });
  });

  it('{} on a never-exported volume with no attachments → 202 (provider_location NULL: LIO does nothing)', async () => {
    const id = await newVolume();
    cluster.clearStandinLog();
    await expect202(id, { 'os-force_detach': {} });
    expect(cluster.argvs()).toEqual([]);
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'available', attach_status: 'detached' });
  });

  it('LIO with a null or string connector on an exported volume → 500, detach never attempted, nothing changed', async () => {
    const { id, attachmentId } = await attachedVolume();
    const msg = 'Unable to terminate volume connection from backend.';
    await expectFault(id, { 'os-force_detach': { attachment_id: attachmentId } }, 500, 'computeFault', msg);
    await expectFault(id, { 'os-force_detach': { attachment_id: attachmentId, connector: null } }, 500, 'computeFault', msg);
    await expectFault(id, { 'os-force_detach': { attachment_id: attachmentId, connector: 'compute9' } }, 500, 'computeFault', msg);
    expect(cluster.target(id).acls).toEqual([CONNECTOR.initiator]);
  });

  it('schema errors (before the lookup), unknown volume → 404', async () => {
    const id = await newVolume();
    await expectFault(id, { 'os-force_detach': null }, 400, 'badRequest', "Invalid input for field/attribute os-force_detach. Value: None. None is not of type 'object'");
    await expectFault(id, { 'os-force_detach': { x: 1 } }, 400, 'badRequest', "Invalid input for field/attribute os-force_detach. Value: {'x': 1}. Additional properties are not allowed ('x' was unexpected)");
    await expectFault(id, { 'os-force_detach': { attachment_id: 5 } }, 400, 'badRequest', "Invalid input for field/attribute attachment_id. Value: 5. 5 is not of type 'string', 'null'");
    await expectFault(id, { 'os-force_detach': { connector: 5 } }, 400, 'badRequest', "Invalid input for field/attribute connector. Value: 5. 5 is not of type 'string', 'object', 'null'");
    const missing = randomUUID();
    const r = await api.action(missing, { 'os-force_detach': { x: 1 } });
    expect(r.status).toBe(400); // schema before lookup
    const nf = await api.action(missing, { 'os-force_detach': {} });
    expect(nf.json).toEqual({ itemNotFound: { code: 404, message: `Volume ${missing} could not be found.` } });
  });

  it('the deletion guard: a new-style connected attachment → 500 for a user under noauth (Nova not in the catalog), the service passes', async () => {
    const id = await newVolume();
    const instance = randomUUID();
    const V = { 'OpenStack-API-Version': 'volume 3.44' };
    const c = await api.request('POST', `/v3/${PROJECT}/attachments`, { attachment: { volume_uuid: id, instance_uuid: instance, connector: CONNECTOR } }, V);
    expect(c.status, c.text).toBe(200);
    const attachmentId = c.json.attachment.id;
    expect((await api.request('POST', `/v3/${PROJECT}/attachments/${attachmentId}/action`, { 'os-complete': null }, V)).status).toBe(204);
    // The guard asks Nova; with no service catalog Cinder's novaclient() raises EndpointNotFound.
    await expectFault(id, { 'os-force_detach': { attachment_id: attachmentId, connector: CONNECTOR } }, 500, 'computeFault', GENERIC_500);
    await expect202(id, { 'os-force_detach': { attachment_id: attachmentId, connector: CONNECTOR } }, SERVICE);
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'available', attach_status: 'detached' });
    expect(cluster.liveAttachments(id)).toEqual([]);
    expect(cluster.target(id)).toEqual({ exists: false, acls: [] });
  });

  it('two attachments and no id: 409 for a user; 400 "More than one attachment" from the manager for a service', async () => {
    const { id } = await attachedVolume();
    cluster.setVolume(id, { multiattach: 1 });
    expect((await api.action(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc', mode: 'rw' } })).status).toBe(202);
    await expectFault(id, { 'os-force_detach': { connector: CONNECTOR } }, 409, 'conflictingRequest', 'ConflictNovaUsingAttachment: Detach volume from instance  using the Compute API');
    const r = await api.action(id, { 'os-force_detach': { connector: CONNECTOR } }, SERVICE);
    expect(r.status, r.text).toBe(400);
    expect(r.json).toEqual({ badRequest: { code: 400, message: 'Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.' } });
    // terminate_connection went through first (the ACL is gone), the rows stay
    expect(cluster.target(id).acls).toEqual([]);
    expect(cluster.liveAttachments(id)).toHaveLength(2);
  });
});

describe('os-reset_status', () => {
  it('validation messages (probed), before the lookup', async () => {
    const id = await newVolume();
    const statuses =
      "('creating', 'available', 'deleting', 'error', 'error_deleting', 'error_managing', 'managing', 'attaching', 'in-use', 'detaching', 'maintenance', 'restoring-backup', 'error_restoring', 'reserved', 'awaiting-transfer', 'backing-up', 'error_backing-up', 'error_extending', 'downloading', 'uploading', 'retyping', 'extending')";
    const must = "Must specify 'status', 'attach_status' or 'migration_status' for update.";
    const cases: [unknown, string][] = [
      [{ status: 'bogus' }, `Volume status: bogus is invalid, valid statuses are: ${statuses}.`],
      [{ status: 'Bogus', zzz: 1 }, `Volume status: Bogus is invalid, valid statuses are: ${statuses}.`],
      [{ attach_status: 'error_detaching' }, "Volume attach status: error_detaching is invalid, valid statuses are: ['attached', 'detached']."],
      [{ migration_status: 'bogus' }, "Volume migration status: bogus is invalid, valid statuses are: ('migrating', 'error', 'success', 'completing', 'none', 'starting')."],
      [{}, must],
      [{ status: '' }, must],
      [{ status: null, attach_status: null, migration_status: null }, must],
      [{ status: 0 }, must],
      [{ zzz: 1 }, must],
      [{ status: 5 }, "Invalid input for field/attribute status. Value: 5. 5 is not of type 'string', 'null'"],
      [{ status: 'available', zzz: 1 }, "Invalid input for field/attribute os-reset_status. Value: {'status': 'available', 'zzz': 1}. Additional properties are not allowed ('zzz' was unexpected)"],
      [null, "Invalid input for field/attribute os-reset_status. Value: None. None is not of type 'object'"],
      [{ status: 'deleting' }, 'Cannot reset-state to deleting'],
      [{ status: 'DELETING' }, 'Cannot reset-state to deleting'],
      [{ status: 'in-use' }, 'Cannot reset-state to in-use because volume does not have any attachments.'],
    ];
    for (const [body, message] of cases) await expectFault(id, { 'os-reset_status': body }, 400, 'badRequest', message);
    const missing = randomUUID();
    const r = await api.action(missing, { 'os-reset_status': { status: 'available' } });
    expect(r.json).toEqual({ itemNotFound: { code: 404, message: `Volume ${missing} could not be found.` } });
    expect((await api.action(missing, { 'os-reset_status': { status: 'bogus' } })).status).toBe(400);
  });

  it('lower-cases, migration_status "none" → NULL, the UPDATE is unconditional; start/end notifications from the API', async () => {
    const id = await newVolume();
    await expect202(id, { 'os-reset_status': { status: 'ERROR', migration_status: 'Migrating' } });
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'error', migration_status: 'migrating', attach_status: 'detached' });
    await expect202(id, { 'os-reset_status': { migration_status: 'None', attach_status: 'Attached' } });
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'error', migration_status: null, attach_status: 'attached' });
    const ev = await apiEvents(id, 'volume.reset_status.end', 2);
    expect(ev.slice(-2).map((e) => [e.event_type, e.publisher_id, e.payload.status])).toEqual([
      ['volume.reset_status.start', 'volume.testhost', 'error'],
      ['volume.reset_status.end', 'volume.testhost', 'error'],
    ]);
  });

  it("the missing comma (F2): 'detaching' and 'error_deleting' are accepted", async () => {
    const id = await newVolume();
    await expect202(id, { 'os-reset_status': { status: 'detaching' } });
    expect(cluster.volumeRow(id).status).toBe('detaching');
    await expect202(id, { 'os-reset_status': { status: 'error_deleting' } });
    expect(cluster.volumeRow(id).status).toBe('error_deleting');
  });

  it("in-use needs live attachments; with one it is set (status only)", async () => {
    const { id } = await attachedVolume();
    cluster.setVolume(id, { status: 'error' });
    await expect202(id, { 'os-reset_status': { status: 'in-use' } });
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'in-use', attach_status: 'attached' });
  });

  it('F1: {"status":"error","attach_status":"detached"} on an attached volume ends "available", rows and attached_mode gone, the ACL stays', async () => {
    const { id, attachmentId } = await attachedVolume();
    cluster.clearStandinLog();
    await expect202(id, { 'os-reset_status': { status: 'error', attach_status: 'detached' } });
    // volume_detached ran after the reset and recomputed the status (probed on Cinder 21.3.1)
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'available', attach_status: 'detached' });
    expect(cluster.liveAttachments(id)).toEqual([]);
    expect(cluster.sql<any>('SELECT attach_status, deleted FROM volume_attachment WHERE id = ?', attachmentId)[0]).toEqual({ attach_status: 'detached', deleted: 1 });
    expect(adminMd(id)).toEqual([
      { key: 'readonly', value: 'False', deleted: 0 },
      { key: 'attached_mode', value: 'rw', deleted: 1 },
    ]);
    // DB only: no storage command ran, the target and the initiator's ACL are still exported
    expect(cluster.argvs()).toEqual([]);
    expect(cluster.target(id)).toEqual({ exists: true, acls: [CONNECTOR.initiator] });
    // the safe path afterwards: force-detach with the connector removes what reset-state left
    await expect202(id, { 'os-force_detach': { connector: CONNECTOR } });
    expect(cluster.target(id).acls).toEqual([]);
  });

  it('attach_status detached with no attachments keeps the status that was set', async () => {
    const id = await newVolume();
    await expect202(id, { 'os-reset_status': { status: 'error', attach_status: 'detached' } });
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'error', attach_status: 'detached' });
  });
});

describe('os-force_delete (AdminController._force_delete: volume_api.delete(force=True))', () => {
  it('an attaching volume (a status the plain DELETE refuses): 202, LV removed, row deleted', async () => {
    const id = await newVolume();
    // 'attaching' is no status the plain delete accepts; force skips the status check.
    expect((await api.action(id, { 'os-reserve': null })).status).toBe(202);
    cluster.clearStandinLog();
    await expect202(id, { 'os-force_delete': {} });
    for (let i = 0; i < 200 && cluster.volumeRow(id).deleted !== 1; i++) await sleep(50);
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'deleted', deleted: 1 });
    expect(cluster.argvs().some((a) => a.startsWith('lvremove') && a.endsWith(`cinder-volumes/volume-${id}`))).toBe(true);
  });

  it('an attached volume: 400 with the status part left out (force), nothing changed', async () => {
    const { id } = await attachedVolume();
    await expectFault(
      id,
      { 'os-force_delete': {} },
      400,
      'badRequest',
      'Invalid volume: Volume  must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.',
    );
  });

  it('an unknown volume: 404', async () => {
    const missing = randomUUID();
    const r = await api.action(missing, { 'os-force_delete': {} });
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ itemNotFound: { code: 404, message: `Volume ${missing} could not be found.` } });
  });
});
