// Every error row of spec §1.2 for the eight legacy actions, through the real API and manager
// processes: status code, fault name, exact message, and that nothing changed in the DB. Then the
// failure-and-recovery paths (a failing delete-initiator, a failing rtstool delete) and Cinder's
// own recovery actions.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Cluster, CinderClient } from '../support/cluster.js';

const PROJECT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const CONNECTOR = { initiator: 'iqn.1994-05.com.redhat:compute1', host: 'compute1', ip: '192.0.2.31', multipath: false };
const SERVICE = { 'X-Service-Roles': 'service' }; // what Nova's service token yields (keystonemiddleware)
const ACTIONS = [
  'os-reserve',
  'os-unreserve',
  'os-initialize_connection',
  'os-attach',
  'os-begin_detaching',
  'os-roll_detaching',
  'os-terminate_connection',
  'os-detach',
];

let cluster: Cluster;
let api: CinderClient;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT);
});
afterAll(async () => {
  await cluster?.stop();
});

const newVolume = () => cluster.newVolume(api);
const attachedVolume = (instance?: string) => cluster.attachedVolume(api, CONNECTOR, instance);

/** Asserts the Cinder fault body and that the DB is untouched. */
async function expectFault(
  id: string,
  body: unknown,
  code: number,
  fault: string,
  message: string | RegExp,
  headers: Record<string, string> = {},
) {
  const before = cluster.snapshot(id);
  const r = await api.action(id, body, headers);
  expect(r.status, r.text).toBe(code);
  expect(Object.keys(r.json)).toEqual([fault]);
  expect(r.json[fault].code).toBe(code);
  if (typeof message === 'string') expect(r.json[fault].message).toBe(message);
  else expect(r.json[fault].message).toMatch(message);
  expect(cluster.snapshot(id)).toEqual(before);
}

async function expectNoop202(id: string, body: unknown, headers: Record<string, string> = {}) {
  const before = cluster.snapshot(id);
  const r = await api.action(id, body, headers);
  expect(r.status, r.text).toBe(202);
  expect(cluster.snapshot(id)).toEqual(before);
}

describe('pipeline errors, for each of the eight actions', () => {
  let id = '';
  beforeAll(async () => {
    id = await newVolume();
  });

  it.each(ACTIONS)('%s: two keys → 400 Malformed request body', async (action) => {
    await expectFault(id, { [action]: {}, 'os-extend': { new_size: 2 } }, 400, 'badRequest', 'Malformed request body');
  });

  it.each(ACTIONS)('%s: bad JSON → 400 Malformed request body', async (action) => {
    await expectFault(id, `{"${action}": {`, 400, 'badRequest', 'Malformed request body');
  });

  it('unknown action → 400 There is no such action', async () => {
    await expectFault(
      id,
      { 'os-nope': {} },
      400,
      'badRequest',
      'There is no such action: os-nope. Verify the request body and Content-Type header and try again.',
    );
  });

  it.each(ACTIONS)('%s: unknown volume → 404', async (action) => {
    const missing = randomUUID();
    const body =
      action === 'os-initialize_connection' || action === 'os-terminate_connection'
        ? { [action]: { connector: CONNECTOR } }
        : action === 'os-attach'
          ? { [action]: { instance_uuid: randomUUID(), mountpoint: '/dev/vdb' } }
          : { [action]: null };
    const r = await api.action(missing, body);
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ itemNotFound: { code: 404, message: `Volume ${missing} could not be found.` } });
  });

  it.each(ACTIONS)('%s: URL project other than the token project → 400 Malformed request url', async (action) => {
    const other = new CinderClient(cluster.baseUrl, PROJECT, 'user1', {});
    const r = await other.request('POST', `/v3/0000000000000000000000000000ffff/volumes/${id}/action`, { [action]: null });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ badRequest: { code: 400, message: 'Malformed request url' } });
  });
});

describe('state errors (spec §1.2)', () => {
  it('os-reserve on in-use and on maintenance', async () => {
    const { id } = await attachedVolume();
    await expectFault(id, { 'os-reserve': null }, 400, 'badRequest', 'Invalid volume: Volume status must be available to reserve, but the status is in-use.');
    cluster.setVolume(id, { status: 'maintenance' });
    await expectFault(id, { 'os-reserve': null }, 400, 'badRequest', 'Invalid volume: Volume status must be available to reserve, but the status is maintenance.');
  });

  it('os-unreserve on a volume that is not attaching is a silent 202', async () => {
    const id = await newVolume();
    await expectNoop202(id, { 'os-unreserve': null });
  });

  it('os-begin_detaching: available, maintenance, twice → 400; migrating → silent 202', async () => {
    const msg = "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.";
    const avail = await newVolume();
    await expectFault(avail, { 'os-begin_detaching': null }, 400, 'badRequest', msg);
    const { id } = await attachedVolume();
    cluster.setVolume(id, { status: 'maintenance' });
    await expectFault(id, { 'os-begin_detaching': null }, 400, 'badRequest', msg);
    cluster.setVolume(id, { status: 'in-use' });
    expect((await api.action(id, { 'os-begin_detaching': null })).status).toBe(202);
    await expectFault(id, { 'os-begin_detaching': null }, 400, 'badRequest', msg);
    cluster.setVolume(id, { status: 'in-use', migration_status: 'migrating' });
    await expectNoop202(id, { 'os-begin_detaching': null });
  });

  it('os-roll_detaching on an available or maintenance volume is a silent 202', async () => {
    const id = await newVolume();
    await expectNoop202(id, { 'os-roll_detaching': null });
    cluster.setVolume(id, { status: 'maintenance' });
    await expectNoop202(id, { 'os-roll_detaching': null });
  });

  it('os-initialize_connection: no connector, no initiator, maintenance', async () => {
    const id = await newVolume();
    await expectFault(id, { 'os-initialize_connection': {} }, 400, 'badRequest', "Invalid input for field/attribute os-initialize_connection. Value: {}. 'connector' is a required property");
    await expectFault(
      id,
      { 'os-initialize_connection': { connector: { host: 'compute1' } } },
      400,
      'badRequest',
      "Invalid input received: Connector doesn't have required information: initiator",
    );
    cluster.setVolume(id, { status: 'maintenance' });
    await expectFault(id, { 'os-initialize_connection': { connector: CONNECTOR } }, 400, 'badRequest', 'Invalid volume: The volume connection cannot be initialized in maintenance mode.');
  });

  it('os-attach: schema, maintenance, already attached elsewhere, readonly volume in rw', async () => {
    const id = await newVolume();
    await expectFault(
      id,
      { 'os-attach': { mountpoint: '/dev/vdb' } },
      400,
      'badRequest',
      "Invalid input for field/attribute os-attach. Value: {'mountpoint': '/dev/vdb'}. {'mountpoint': '/dev/vdb'} is not valid under any of the given schemas",
    );
    await expectFault(id, { 'os-attach': { instance_uuid: 'x', mountpoint: '/dev/vdb' } }, 400, 'badRequest', "Invalid input for field/attribute instance_uuid. Value: x. 'x' is not a 'uuid'");
    cluster.setVolume(id, { status: 'maintenance' });
    await expectFault(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb' } }, 400, 'badRequest', 'Invalid volume: The volume cannot be attached in maintenance mode.');

    const attached = await attachedVolume();
    // The manager writes nothing before this check, so the DB must stay as it was.
    await expectFault(
      attached.id,
      { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc', mode: 'rw' } },
      400,
      'badRequest',
      'Invalid volume: volume is already attached and multiple attachments are not enabled',
    );

    const ro = await newVolume();
    cluster.write("INSERT INTO volume_admin_metadata (volume_id, `key`, value, deleted) VALUES (?, 'readonly', 'True', 0)", ro);
    await expectFault(ro, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rw' } }, 400, 'badRequest', `Invalid attaching mode 'rw' for volume ${ro}.`);
  });

  it('os-terminate_connection: missing connector; several attachments without a service token → 409', async () => {
    const { id } = await attachedVolume();
    await expectFault(id, { 'os-terminate_connection': {} }, 400, 'badRequest', "Invalid input for field/attribute os-terminate_connection. Value: {}. 'connector' is a required property");
    await expectFault(id, { 'os-terminate_connection': { connector: CONNECTOR, force: true } }, 400, 'badRequest', /^Invalid input for field\/attribute os-terminate_connection\. .*Additional properties are not allowed \('force' was unexpected\)$/);
    cluster.setVolume(id, { multiattach: 1 });
    expect((await api.action(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc', mode: 'rw' } })).status).toBe(202);
    await expectFault(
      id,
      { 'os-terminate_connection': { connector: CONNECTOR } },
      409,
      'conflictingRequest',
      'ConflictNovaUsingAttachment: Detach volume from instance  using the Compute API',
    );
  });

  it('os-detach: bad id, unknown id, several attachments without id, maintenance, null body', async () => {
    const { id, attachmentId } = await attachedVolume();
    await expectFault(id, { 'os-detach': { attachment_id: 'bogus' } }, 400, 'badRequest', "Invalid input for field/attribute attachment_id. Value: bogus. 'bogus' is not valid under any of the given schemas");
    await expectFault(id, { 'os-detach': { foo: 1 } }, 400, 'badRequest', "Invalid input for field/attribute os-detach. Value: {'foo': 1}. Additional properties are not allowed ('foo' was unexpected)");
    // a user (no service token) naming an unknown attachment: the OSSA-2023-003 guard answers 409
    await expectFault(id, { 'os-detach': { attachment_id: randomUUID() } }, 409, 'conflictingRequest', 'ConflictNovaUsingAttachment: Detach volume from instance  using the Compute API');
    // {"os-detach": null} passes the schema and crashes in Cinder's controller: 500
    await expectFault(id, { 'os-detach': null }, 500, 'computeFault', 'The server has either erred or is incapable of performing the requested operation.');
    cluster.setVolume(id, { status: 'maintenance' });
    await expectFault(id, { 'os-detach': { attachment_id: attachmentId } }, 400, 'badRequest', 'Invalid volume: The volume cannot be detached in maintenance mode.', SERVICE);
    cluster.setVolume(id, { status: 'in-use', multiattach: 1 });
    expect((await api.action(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc', mode: 'rw' } })).status).toBe(202);
    await expectFault(id, { 'os-detach': {} }, 409, 'conflictingRequest', 'ConflictNovaUsingAttachment: Detach volume from instance  using the Compute API');
    await expectFault(
      id,
      { 'os-detach': {} },
      400,
      'badRequest',
      'Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.',
      SERVICE,
    );
  });

  it('os-detach with an unknown id from a service: 202, and a detaching volume rolls back to in-use', async () => {
    const { id } = await attachedVolume();
    expect((await api.action(id, { 'os-begin_detaching': null })).status).toBe(202);
    cluster.clearStandinLog();
    const r = await api.action(id, { 'os-detach': { attachment_id: randomUUID() } }, SERVICE);
    expect(r.status, r.text).toBe(202);
    expect(cluster.standinCalls()).toEqual([]); // no driver call
    expect(cluster.sql<any>('SELECT status, attach_status FROM volumes WHERE id = ?', id)[0]).toEqual({ status: 'in-use', attach_status: 'attached' });
  });
});

describe('failures half-way and Cinder\'s recovery actions', () => {
  it('a failing delete-initiator: 500, volume stays detaching, ACL kept; roll_detaching and a retry recover', async () => {
    const { id, attachmentId } = await attachedVolume();
    expect((await api.action(id, { 'os-begin_detaching': null })).status).toBe(202);
    cluster.injectFailure('cinder-rtstool delete-initiator');
    try {
      await expectFault(
        id,
        { 'os-terminate_connection': { connector: CONNECTOR } },
        500,
        'computeFault',
        'Unable to terminate volume connection from backend.',
      );
    } finally {
      cluster.clearFailures();
    }
    expect(cluster.sql<any>('SELECT status FROM volumes WHERE id = ?', id)[0].status).toBe('detaching');
    // Nova rolls back on a failed detach...
    expect((await api.action(id, { 'os-roll_detaching': null })).status).toBe(202);
    expect(cluster.sql<any>('SELECT status FROM volumes WHERE id = ?', id)[0].status).toBe('in-use');
    // ...and a later detach goes through
    expect((await api.action(id, { 'os-begin_detaching': null })).status).toBe(202);
    expect((await api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } })).status).toBe(202);
    expect((await api.action(id, { 'os-detach': { attachment_id: attachmentId } })).status).toBe(202);
    expect(cluster.sql<any>('SELECT status, attach_status FROM volumes WHERE id = ?', id)[0]).toEqual({ status: 'available', attach_status: 'detached' });
  });

  it('a failing rtstool delete during os-detach: 500 and no DB change (as Cinder 21.3.1); a retried os-detach converges', async () => {
    const { id, attachmentId } = await attachedVolume();
    expect((await api.action(id, { 'os-begin_detaching': null })).status).toBe(202);
    expect((await api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } })).status).toBe(202);
    cluster.injectFailure('cinder-rtstool delete');
    try {
      await expectFault(
        id,
        { 'os-detach': { attachment_id: attachmentId } },
        500,
        'computeFault',
        'The server has either erred or is incapable of performing the requested operation.',
      );
    } finally {
      cluster.clearFailures();
    }
    // RemoveExportException: Cinder's manager writes nothing — the attachment stays attached and
    // the volume detaching, so either recovery action works from here.
    expect(cluster.sql<any>('SELECT attach_status, deleted FROM volume_attachment WHERE id = ?', attachmentId)[0]).toEqual({ attach_status: 'attached', deleted: 0 });
    expect(cluster.sql<any>('SELECT status, attach_status FROM volumes WHERE id = ?', id)[0]).toEqual({ status: 'detaching', attach_status: 'attached' });
    expect((await api.action(id, { 'os-roll_detaching': null })).status).toBe(202);
    expect(cluster.sql<any>('SELECT status FROM volumes WHERE id = ?', id)[0].status).toBe('in-use');
    expect((await api.action(id, { 'os-begin_detaching': null })).status).toBe(202);
    expect((await api.action(id, { 'os-detach': { attachment_id: attachmentId } })).status).toBe(202);
    expect(cluster.sql<any>('SELECT status, attach_status FROM volumes WHERE id = ?', id)[0]).toEqual({ status: 'available', attach_status: 'detached' });
    expect(cluster.sql<any>('SELECT count(*) AS n FROM volume_attachment WHERE volume_id = ? AND deleted = 0', id)[0].n).toBe(0);
  });

  it('detach twice and after an out-of-band ACL delete: both succeed (bug 1506496)', async () => {
    const { id, attachmentId } = await attachedVolume();
    expect((await api.action(id, { 'os-begin_detaching': null })).status).toBe(202);
    expect((await api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } })).status).toBe(202);
    // the ACL is already gone: delete-initiator says "ACL not found. Continuing." and exits 0
    expect((await api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } })).status).toBe(202);
    expect((await api.action(id, { 'os-detach': { attachment_id: attachmentId } })).status).toBe(202);
    expect((await api.action(id, { 'os-detach': { attachment_id: attachmentId } }, SERVICE)).status).toBe(202);
    expect(cluster.sql<any>('SELECT status FROM volumes WHERE id = ?', id)[0].status).toBe('available');
  });
});
