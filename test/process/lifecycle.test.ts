// The whole legacy lifecycle over HTTP, with the API and the volume-manager as separate OS
// processes, a temporary SQLite file, a private vhost on the real RabbitMQ and the recording
// stand-ins for cinder-rtstool/lvm behind the root helper. Every step checks the HTTP answer,
// Cinder's GET view, the DB rows and the exact argv the manager ran.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { LOG_DRIVER_CONFIG, loggedNotifications } from '../support/notifications.js';

const PROJECT = 'c0ffee0000000000000000000000beef';
const INSTANCE = '0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';
// What Nova's os-brick sends (the fixture connector, trimmed)
const CONNECTOR = {
  platform: 'x86_64',
  os_type: 'linux',
  ip: '192.0.2.30',
  host: 'compute-1',
  multipath: false,
  initiator: 'iqn.2004-10.com.ubuntu:01:abcdef012345',
  do_local_attach: false,
};

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

function attachmentRows(volumeId: string) {
  return cluster.sql<any>('SELECT * FROM volume_attachment WHERE volume_id = ? ORDER BY created_at', volumeId);
}
function adminMd(volumeId: string) {
  return cluster.sql<any>('SELECT `key`, value, deleted FROM volume_admin_metadata WHERE volume_id = ? ORDER BY id', volumeId);
}

function expectEmpty202(r: { status: number; text: string; headers: Headers }) {
  expect(r.status, r.text).toBe(202);
  expect(r.text).toBe('');
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  expect(r.headers.get('x-compute-request-id')).toMatch(/^req-[0-9a-f-]{36}$/);
}

describe('legacy volume lifecycle across two processes', () => {
  let volumeId = '';
  let attachmentId = '';
  let iqn = '';
  let chapUser = '';
  let chapPass = '';

  it('create → 202 creating, then available with an LV', async () => {
    cluster.clearStandinLog();
    const r = await api.create({ volume: { size: 1, name: 'v1', description: 'lifecycle' } });
    expect(r.status, r.text).toBe(202);
    expect(r.json.volume).toMatchObject({ status: 'creating', size: 1, name: 'v1', description: 'lifecycle', attachments: [] });
    volumeId = r.json.volume.id;
    iqn = `iqn.2010-10.org.openstack:volume-${volumeId}`;
    const v = await waitForStatus(volumeId, 'available');
    expect(v).toMatchObject({ id: volumeId, status: 'available', multiattach: false, attachments: [], metadata: {}, bootable: 'false', replication_status: null });
    expect(v.migration_status).toBeNull(); // noauth contexts are admin: they see migration_status
    const row = cluster.volumeRow(volumeId);
    expect(row).toMatchObject({ status: 'available', attach_status: 'detached', host: 'testhost@lvm#lvm', deleted: 0, project_id: PROJECT });
    expect(row.launched_at).not.toBeNull();
    expect(cluster.argvs()).toContain(`env LC_ALL=C lvcreate -n volume-${volumeId} cinder-volumes -L 1g`);
  });

  it('os-reserve → attaching', async () => {
    expectEmpty202(await api.action(volumeId, { 'os-reserve': null }));
    expect((await api.get(volumeId)).json.volume.status).toBe('attaching');
    expect(cluster.volumeRow(volumeId).status).toBe('attaching');
  });

  it('os-initialize_connection → 200 connection_info (iscsi, CHAP) and an ACL', async () => {
    cluster.clearStandinLog();
    const r = await api.action(volumeId, { 'os-initialize_connection': { connector: CONNECTOR } });
    expect(r.status, r.text).toBe(200);
    const info = r.json.connection_info;
    expect(info.driver_volume_type).toBe('iscsi');
    expect(info.data).toMatchObject({
      target_discovered: false,
      target_portal: '192.0.2.10:3260',
      target_iqn: iqn,
      target_lun: 0,
      volume_id: volumeId,
      auth_method: 'CHAP',
      encrypted: false,
      qos_specs: null,
      access_mode: 'rw',
      cacheable: false,
    });
    chapUser = info.data.auth_username;
    chapPass = info.data.auth_password;
    expect(chapUser).toMatch(/^\S{20}$/);
    expect(chapPass).toMatch(/^\S{16}$/);
    const row = cluster.volumeRow(volumeId);
    expect(row.provider_location).toBe(`192.0.2.10:3260,${iqn} ${iqn} 0`);
    expect(row.provider_auth).toBe(`CHAP ${chapUser} ${chapPass}`);
    expect(row.status).toBe('attaching');
    expect(cluster.argvs()).toEqual([
      `lvchange -a y --yes -K cinder-volumes/volume-${volumeId}`,
      `cinder-rtstool create /dev/cinder-volumes/volume-${volumeId} ${iqn} ${chapUser} ${chapPass} False -p3260 -a192.0.2.10`,
      'cinder-rtstool get-targets',
      'cinder-rtstool save',
      `cinder-rtstool add-initiator ${iqn} ${chapUser} ${chapPass} ${CONNECTOR.initiator}`,
      'cinder-rtstool save',
    ]);
    // every rtstool call ran under the host-wide cinder-lioadm lock
    const rts = cluster.standinCalls().filter((c) => c.argv[0] === 'cinder-rtstool');
    expect(rts.every((c) => c.lock_held === true)).toBe(true);
    // the CHAP secret never appears in either process's logs
    expect(cluster.logs.api.join('\n')).not.toContain(chapPass);
    expect(cluster.logs.volume.join('\n')).not.toContain(chapPass);
  });

  it('os-attach → in-use/attached with the attachment in the view', async () => {
    expectEmpty202(await api.action(volumeId, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb', mode: 'rw' } }));
    const v = (await api.get(volumeId)).json.volume;
    expect(v.status).toBe('in-use');
    expect(v.metadata).toEqual({ attached_mode: 'rw', readonly: 'False' });
    expect(v.attachments).toHaveLength(1);
    attachmentId = v.attachments[0].attachment_id;
    expect(v.attachments[0]).toMatchObject({ id: volumeId, attachment_id: attachmentId, volume_id: volumeId, server_id: INSTANCE, device: '/dev/vdb' });
    const rows = attachmentRows(volumeId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: attachmentId, attach_status: 'attached', instance_uuid: INSTANCE, mountpoint: '/dev/vdb', attach_mode: 'rw', deleted: 0, connector: null, connection_info: null });
    expect(cluster.volumeRow(volumeId)).toMatchObject({ status: 'in-use', attach_status: 'attached' });
    expect(adminMd(volumeId)).toEqual([
      { key: 'readonly', value: 'False', deleted: 0 },
      { key: 'attached_mode', value: 'rw', deleted: 0 },
    ]);
  });

  it('os-begin_detaching → detaching; os-roll_detaching → in-use; begin again', async () => {
    expectEmpty202(await api.action(volumeId, { 'os-begin_detaching': null }));
    expect((await api.get(volumeId)).json.volume.status).toBe('detaching');
    expect(cluster.volumeRow(volumeId)).toMatchObject({ status: 'detaching', attach_status: 'attached' });
    expectEmpty202(await api.action(volumeId, { 'os-roll_detaching': null }));
    expect((await api.get(volumeId)).json.volume.status).toBe('in-use');
    expectEmpty202(await api.action(volumeId, { 'os-begin_detaching': {} }));
    expect(cluster.volumeRow(volumeId).status).toBe('detaching');
  });

  it('os-terminate_connection → ACL removed, volume still detaching', async () => {
    cluster.clearStandinLog();
    expectEmpty202(await api.action(volumeId, { 'os-terminate_connection': { connector: CONNECTOR } }));
    expect(cluster.argvs()).toEqual([`cinder-rtstool delete-initiator ${iqn} ${CONNECTOR.initiator}`, 'cinder-rtstool save']);
    expect(cluster.standinCalls().every((c) => c.lock_held === true)).toBe(true);
    expect(cluster.volumeRow(volumeId)).toMatchObject({ status: 'detaching', attach_status: 'attached' });
    expect(attachmentRows(volumeId)[0]).toMatchObject({ attach_status: 'attached', deleted: 0 });
  });

  it('os-detach with the attachment id → export removed, row soft-deleted, available/detached', async () => {
    cluster.clearStandinLog();
    expectEmpty202(await api.action(volumeId, { 'os-detach': { attachment_id: attachmentId } }));
    expect(cluster.argvs()).toEqual(['cinder-rtstool get-targets', `cinder-rtstool delete ${iqn}`, 'cinder-rtstool save']);
    const v = (await api.get(volumeId)).json.volume;
    expect(v).toMatchObject({ status: 'available', attachments: [], metadata: { readonly: 'False' } });
    expect(cluster.volumeRow(volumeId)).toMatchObject({ status: 'available', attach_status: 'detached' });
    const [att] = attachmentRows(volumeId);
    expect(att).toMatchObject({ id: attachmentId, deleted: 1, attach_status: 'detached' });
    expect(att.detach_time).not.toBeNull();
    expect(att.deleted_at).not.toBeNull();
    expect(adminMd(volumeId)).toEqual([
      { key: 'readonly', value: 'False', deleted: 0 },
      { key: 'attached_mode', value: 'rw', deleted: 1 },
    ]);
    // notifications volume.detach.start / volume.detach.end from the manager
    // (the manager's stdout reaches us through a pipe: give the last line a moment to arrive)
    const events = () =>
      loggedNotifications(cluster.logs.volume).filter((n) => n.payload.volume_id === volumeId).map((n) => n.event_type);
    for (let i = 0; i < 40 && events().at(-1) !== 'volume.detach.end'; i++) await sleep(50);
    expect(events().slice(-2)).toEqual(['volume.detach.start', 'volume.detach.end']);
  });

  it('GET /volumes/detail lists the volume in Cinder\'s view', async () => {
    const r = await api.request('GET', `/v3/${PROJECT}/volumes/detail`);
    expect(r.status).toBe(200);
    const v = r.json.volumes.find((x: any) => x.id === volumeId);
    expect(v).toMatchObject({ status: 'available', attachments: [], multiattach: false, 'os-vol-tenant-attr:tenant_id': PROJECT });
  });

  it('delete → 202 text/html, LV removed, row soft-deleted', async () => {
    cluster.clearStandinLog();
    const r = await api.delete(volumeId);
    expect(r.status).toBe(202);
    expect(r.text).toBe('');
    expect(r.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    const end = Date.now() + 15000;
    while (Date.now() < end && cluster.volumeRow(volumeId).deleted !== 1) await sleep(50);
    expect(cluster.volumeRow(volumeId)).toMatchObject({ deleted: 1, status: 'deleted' });
    expect((await api.get(volumeId)).status).toBe(404);
    expect(cluster.argvs().some((a) => a.startsWith('lvremove') && a.endsWith(`cinder-volumes/volume-${volumeId}`))).toBe(true);
  });
});

describe('concurrency', () => {
  async function attachedVolume(connector = CONNECTOR) {
    const r = await api.create({ volume: { size: 1 } });
    const id = r.json.volume.id;
    await waitForStatus(id, 'available');
    expect((await api.action(id, { 'os-reserve': null })).status).toBe(202);
    expect((await api.action(id, { 'os-initialize_connection': { connector } })).status).toBe(200);
    expect((await api.action(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rw' } })).status).toBe(202);
    return id;
  }

  it('50 concurrent os-begin_detaching on one in-use volume: one 202, 49 × 400, final detaching', async () => {
    const id = await attachedVolume();
    const results = await Promise.all(Array.from({ length: 50 }, () => api.action(id, { 'os-begin_detaching': null })));
    const codes = results.map((r) => r.status).sort();
    expect(codes.filter((c) => c === 202)).toHaveLength(1);
    expect(codes.filter((c) => c === 400)).toHaveLength(49);
    for (const r of results.filter((x) => x.status === 400)) {
      expect(r.json).toEqual({
        badRequest: {
          code: 400,
          message: "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.",
        },
      });
    }
    expect(cluster.volumeRow(id).status).toBe('detaching');
  });

  it('two concurrent detaches on different volumes never interleave rtstool calls', async () => {
    const a = await attachedVolume();
    const b = await attachedVolume({ ...CONNECTOR, initiator: 'iqn.2004-10.com.ubuntu:01:other' });
    const attOf = async (id: string) => (await api.get(id)).json.volume.attachments[0].attachment_id;
    const [attA, attB] = [await attOf(a), await attOf(b)];
    cluster.clearStandinLog();
    const detach = async (id: string, att: string, initiator: string) => {
      expect((await api.action(id, { 'os-begin_detaching': null })).status).toBe(202);
      expect((await api.action(id, { 'os-terminate_connection': { connector: { ...CONNECTOR, initiator } } })).status).toBe(202);
      expect((await api.action(id, { 'os-detach': { attachment_id: att } })).status).toBe(202);
    };
    await Promise.all([detach(a, attA, CONNECTOR.initiator), detach(b, attB, 'iqn.2004-10.com.ubuntu:01:other')]);
    const rts = cluster.standinCalls().filter((c) => c.argv[0] === 'cinder-rtstool');
    // each: delete-initiator, save / get-targets, delete, save — a save or listing still queued on
    // the lock when the other detach asks for one is shared (group commit); the changes never are
    const sub = (name: string) => rts.filter((c) => c.argv[1] === name);
    expect(sub('delete-initiator')).toHaveLength(2);
    expect(sub('delete')).toHaveLength(2);
    expect(sub('save').length).toBeGreaterThanOrEqual(2);
    expect(sub('save').length).toBeLessThanOrEqual(4);
    expect(sub('get-targets').length).toBeGreaterThanOrEqual(1);
    expect(sub('get-targets').length).toBeLessThanOrEqual(2);
    expect(rts).toHaveLength(4 + sub('save').length + sub('get-targets').length);
    const last = [...rts].sort((x, y) => x.t_start - y.t_start).at(-1)!;
    expect(last.argv[1]).toBe('save');
    expect(rts.every((c) => c.lock_held === true)).toBe(true);
    const spans = rts.map((c) => [c.t_start, c.t_end]).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    expect(cluster.volumeRow(a).status).toBe('available');
    expect(cluster.volumeRow(b).status).toBe('available');
  });
});

describe('a volume-manager killed in the middle of the work (workers cleanup at start-up)', () => {
  const failFile = () => `${cluster.standinState}/fail`;
  /** Kill -9 the manager while the command `prefix` hangs in the stand-in, then start it again. */
  async function killDuring(prefix: string, start: () => Promise<void>) {
    cluster.injectFailure(`once hang=5 ${prefix}`);
    await start();
    // `once` lines go when they fire: an empty fail file means the command is running now
    for (let i = 0; i < 200 && fs.readFileSync(failFile(), 'utf8').trim() !== ''; i++) await sleep(25);
    expect(fs.readFileSync(failFile(), 'utf8').trim()).toBe('');
    await cluster.stopVolume('SIGKILL');
  }
  const workerRows = () => cluster.sql<any>('SELECT resource_type, resource_id, status, service_id FROM workers');
  const serviceId = () => cluster.sql<any>("SELECT id FROM services WHERE `binary` = 'cinder-volume' AND deleted = 0")[0].id;

  it('killed during lvremove: the volume stays deleting with its worker row; the restarted manager deletes it', async () => {
    const id = await cluster.newVolume(api);
    await killDuring('lvremove', async () => {
      expect((await api.delete(id)).status).toBe(202);
    });
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'deleting', deleted: 0 });
    expect(workerRows()).toEqual([{ resource_type: 'Volume', resource_id: id, status: 'deleting', service_id: serviceId() }]);
    await cluster.startVolume();
    // The worker row goes in its own statement after the soft delete (the cleanable decorator's end).
    for (let i = 0; i < 200 && (cluster.volumeRow(id).deleted !== 1 || workerRows().length > 0); i++) await sleep(50);
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'deleted', deleted: 1 });
    expect(workerRows()).toEqual([]);
    expect(cluster.logs.volume.some((l) => l.includes(`Cleaning Volume with status deleting`) && l.includes(id))).toBe(true);
  });

  it('killed during lvcreate: the restarted manager puts the volume in error, which can then be deleted', async () => {
    let id = '';
    await killDuring('env LC_ALL=C lvcreate', async () => {
      const r = await api.create({ volume: { size: 1 } });
      expect(r.status).toBe(202);
      id = r.json.volume.id;
    });
    expect(cluster.volumeRow(id).status).toBe('creating');
    await cluster.startVolume();
    for (let i = 0; i < 200 && cluster.volumeRow(id).status === 'creating'; i++) await sleep(50);
    expect(cluster.volumeRow(id).status).toBe('error');
    expect(workerRows()).toEqual([]);
    expect((await api.delete(id)).status).toBe(202);
    for (let i = 0; i < 200 && cluster.volumeRow(id).deleted !== 1; i++) await sleep(50);
    expect(cluster.volumeRow(id).deleted).toBe(1);
  });
});

describe('GET /volumes[/detail]: marker, limit, offset and sort (common.get_pagination_params / get_sort_params)', () => {
  // A project of its own, so the list holds exactly these three volumes.
  const Q = 'c0ffee00000000000000000000009a9e';
  let q: CinderClient;
  const ids: Record<string, string> = {};
  const names = async (p: string) => {
    const r = await q.request('GET', `/v3/${Q}/${p}`);
    expect(r.status, r.text).toBe(200);
    return { names: r.json.volumes.map((v: any) => v.name), links: r.json.volumes_links as { rel: string; href: string }[] | undefined };
  };

  beforeAll(async () => {
    q = new CinderClient(cluster.baseUrl, Q);
    for (const name of ['b', 'c', 'a']) {
      ids[name] = await cluster.newVolume(q, { size: 1, name });
      // Their created_at orders them: on MariaDB (whole seconds) each in a second of its own.
      await cluster.db.nextTimestamp();
    }
  });

  it('pages with limit and the next link until the last page, which has no link; limit=0 is an empty page', async () => {
    const first = await names('volumes?limit=2');
    expect(first.names).toEqual(['a', 'c']); // created_at desc
    expect(first.links).toHaveLength(1);
    const next = new URL(first.links![0].href);
    expect(next.searchParams.get('marker')).toBe(ids.c);
    const second = await names(`volumes${next.search}`);
    expect(second).toEqual({ names: ['b'], links: undefined });
    expect(await names('volumes/detail?limit=0')).toEqual({ names: [], links: undefined });
  });

  it('sort= and sort_key/sort_dir by name (display_name), offset, and the marker in that order', async () => {
    expect((await names('volumes?sort=name:asc')).names).toEqual(['a', 'b', 'c']);
    expect((await names('volumes/detail?sort_key=name&sort_dir=asc')).names).toEqual(['a', 'b', 'c']);
    expect((await names('volumes?sort=name')).names).toEqual(['c', 'b', 'a']);
    expect((await names('volumes?sort=name:asc&offset=1')).names).toEqual(['b', 'c']);
    expect((await names(`volumes?sort=name:asc&marker=${ids.a}`)).names).toEqual(['b', 'c']);
  });

  it("create in a zone no cinder-volume service is in → 400 InvalidAvailabilityZone, nothing written; the service's zone is fine", async () => {
    const count = () => cluster.sql<any>('SELECT count(*) AS n FROM volumes')[0].n;
    const before = count();
    const r = await api.create({ volume: { size: 1, availability_zone: 'nowhere' } });
    expect(r.status, r.text).toBe(400);
    expect(r.json).toEqual({ badRequest: { code: 400, message: "Availability zone 'nowhere' is invalid." } });
    expect(count()).toBe(before);
    const id = await cluster.newVolume(api, { size: 1, availability_zone: 'nova' });
    expect(cluster.volumeRow(id).availability_zone).toBe('nova');
    expect((await api.delete(id)).status).toBe(202);
  });

  it('errors: unknown marker → 404, both sort forms / bad direction / bad key → 400', async () => {
    const fault = async (p: string, code: number, name: string, message: string) => {
      const r = await q.request('GET', `/v3/${Q}/${p}`);
      expect(r.status, r.text).toBe(code);
      expect(r.json).toEqual({ [name]: { code, message } });
    };
    const missing = randomUUID();
    await fault(`volumes?marker=${missing}`, 404, 'itemNotFound', `Volume ${missing} could not be found.`);
    await fault('volumes?sort=name&sort_key=size', 400, 'badRequest', "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
    await fault('volumes?sort=name:up', 400, 'badRequest', "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.");
    await fault('volumes/detail?sort=bogus', 400, 'badRequest', 'Invalid input received: Invalid sort key');
    await fault('volumes?limit=-1', 400, 'badRequest', 'limit param must be positive');
  });
});
