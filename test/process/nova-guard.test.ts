// The OSSA-2023-003 guard (attachment_deletion_allowed, spec §1.5) asking a REAL Nova: Debian's
// python3-nova os-compute API (scripts/nova/start.sh), authenticated by a REAL Keystone
// (scripts/keystone/start.sh, with a `nova` user and the compute endpoint in the catalog). The API
// and the volume-manager run as processes with auth_strategy = keystone; a project member's token
// brings the service catalog (X-Service-Catalog), cinder-api exchanges the token at the catalog's
// identity endpoint and asks Nova GET /servers/{id}/os-volume_attachments/{volume} at 2.89,
// exactly as cinder/compute/nova.py does. Nova knows a server's volume through
// scripts/nova/add-server-volume.py (the rows Nova writes when it attaches).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CinderClient, Cluster, REPO, freePort, sleep } from '../support/cluster.js';
import { KEYSTONE_START, authtokenSection, installOnly, passwordToken, startKeystone, stopKeystone, type KeystoneInfo } from '../support/keystone.js';

const NOVA_START = path.join(REPO, 'scripts/nova/start.sh');
const NOVA_STOP = path.join(REPO, 'scripts/nova/stop.sh');
const ADD_SERVER_VOLUME = path.join(REPO, 'scripts/nova/add-server-volume.py');
const GENERIC_500 = 'The server has either erred or is incapable of performing the requested operation.';
const V344 = { 'OpenStack-API-Version': 'volume 3.44' };
const CONNECTOR = { platform: 'x86_64', os_type: 'linux', ip: '192.0.2.30', host: 'compute-1', multipath: false, initiator: 'iqn.1994-05.com.redhat:nova-guard' };

// Install both before collecting: the only reason to skip is a package that cannot be installed.
const installOrSkip = (script: string) => installOnly(script, `${script}: cannot be installed here`);
const SKIP = installOrSkip(KEYSTONE_START) ?? installOrSkip(NOVA_START);
if (SKIP) console.warn(`nova guard tier skipped: ${SKIP}`);

let ks: KeystoneInfo;
let novaDir: string;
let cluster: Cluster;
let member: CinderClient;
let memberToken: string;
let serviceToken: string;

/** Tell Nova that `server` has `volume` attached under Cinder attachment `attachment` (or forget it). */
function novaKnows(args: string[]): Record<string, unknown> {
  const r = spawnSync('/usr/bin/python3', [ADD_SERVER_VOLUME, novaDir, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`add-server-volume.py ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}
const novaAttached = (server: string, volume: string, attachment: string) =>
  novaKnows(['--server', server, '--project', ks.projects.a, '--user', ks.users.member.id, '--volume', volume, '--attachment', attachment]);

async function newVolume(): Promise<string> {
  const r = await member.create({ volume: { size: 1, name: 'guarded' } });
  expect(r.status, r.text).toBe(202);
  const id = r.json.volume.id as string;
  for (let i = 0; i < 200; i++) {
    const v = await member.get(id);
    if (v.json?.volume?.status === 'available') return id;
    await sleep(50);
  }
  throw new Error(`volume ${id} never became available`);
}

/** Nova's attach flow at 3.44: create with a connector (connection_info is set), then complete. */
async function attach(volume: string): Promise<{ id: string; server: string }> {
  const server = randomUUID();
  const c = await member.request('POST', `/v3/${ks.projects.a}/attachments`, { attachment: { volume_uuid: volume, instance_uuid: server, connector: CONNECTOR } }, V344);
  expect(c.status, c.text).toBe(200);
  expect(c.json.attachment.connection_info).toMatchObject({ driver_volume_type: 'iscsi' });
  const id = c.json.attachment.id as string;
  const done = await member.request('POST', `/v3/${ks.projects.a}/attachments/${id}/action`, { 'os-complete': null }, V344);
  expect(done.status, done.text).toBe(204);
  return { id, server };
}

function rows(volume: string) {
  return {
    volume: cluster.sql('SELECT status, attach_status FROM volumes WHERE id = ?', volume),
    attachments: cluster.sql('SELECT id, attach_status, deleted FROM volume_attachment WHERE volume_id = ? ORDER BY id', volume),
  };
}

const deleteAttachment = (id: string, headers: Record<string, string> = {}) =>
  member.request('DELETE', `/v3/${ks.projects.a}/attachments/${id}`, undefined, { ...V344, ...headers });

describe.skipIf(SKIP !== null)(`the deletion guard asks a real Nova${SKIP ? ` (${SKIP})` : ''}`, () => {
  beforeAll(async () => {
    const t0 = Date.now();
    novaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-nova-'));
    const [ksPort, novaPort] = [await freePort(), await freePort()];
    const watch = { ...process.env, KEYSTONE_WATCH_PID: String(process.pid), NOVA_WATCH_PID: String(process.pid) };
    ks = await startKeystone({ tmpPrefix: 'cinder-ts-ks-nova-', port: ksPort, env: { NOVA_WATCH_PID: String(process.pid), KEYSTONE_NOVA_PORT: String(novaPort) } });
    const nova = ks.users.nova!;
    const n = spawnSync('bash', [NOVA_START, novaDir, String(novaPort), ks.url, nova.name, nova.password, 'service'], {
      encoding: 'utf8',
      timeout: 300_000,
      env: watch,
    });
    if (n.status !== 0) throw new Error(`scripts/nova/start.sh failed (${n.status}): ${n.stderr}`);
    cluster = new Cluster({
      extraDefault: { auth_strategy: 'keystone' },
      // [nova] left at its defaults: the identity endpoint comes from the caller's catalog.
      extraConfig: authtokenSection(ks),
    });
    await cluster.start();
    // With the service catalog: the member's token brings it (X-Service-Catalog) to cinder-api.
    [memberToken, serviceToken] = await Promise.all([
      passwordToken(ks, ks.users.member, { catalog: true }),
      passwordToken(ks, ks.users.service, { catalog: true }),
    ]);
    member = new CinderClient(cluster.baseUrl, ks.projects.a, 'member-a', { 'X-Auth-Token': memberToken });
    console.info(`keystone + nova + cinder-ts started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 600_000);

  afterAll(async () => {
    await cluster?.stop();
    if (novaDir) {
      spawnSync('bash', [NOVA_STOP, novaDir]);
      fs.rmSync(novaDir, { recursive: true, force: true });
    }
    if (ks) stopKeystone(ks);
  });

  it('Nova still reports the attachment: a user DELETE, os-detach and os-terminate_connection → 409, nothing changes', async () => {
    const v = await newVolume();
    const { id, server } = await attach(v);
    novaAttached(server, v, id);
    const before = rows(v);
    const conflict = { conflictingRequest: { code: 409, message: `ConflictNovaUsingAttachment: Detach volume from instance ${server} using the Compute API` } };
    const d = await deleteAttachment(id);
    expect(d.status, d.text).toBe(409);
    expect(d.json).toEqual(conflict);
    const det = await member.action(v, { 'os-detach': { attachment_id: id } });
    expect(det.status, det.text).toBe(409);
    expect(det.json).toEqual(conflict);
    const term = await member.action(v, { 'os-terminate_connection': { connector: CONNECTOR } });
    expect(term.status, term.text).toBe(409);
    expect(term.json).toEqual(conflict);
    expect(rows(v)).toEqual(before);
    expect(before.volume).toEqual([{ status: 'in-use', attach_status: 'attached' }]);
    expect(cluster.logs.api.some((l) => l.includes(`Attachment connected to vm ${server}, checking data on nova`))).toBe(true);

    // Nova with its service token (a service role) is not asked about: the delete goes through.
    const svc = await deleteAttachment(id, { 'X-Service-Token': serviceToken });
    expect(svc.status, svc.text).toBe(200);
    expect(rows(v).volume).toEqual([{ status: 'available', attach_status: 'detached' }]);
  });

  it('Nova no longer has the volume on that server (404): the user delete is allowed', async () => {
    const v = await newVolume();
    const { id, server } = await attach(v);
    novaAttached(server, v, id);
    novaKnows(['--server', server, '--volume', v, '--remove']);
    const d = await deleteAttachment(id);
    expect(d.status, d.text).toBe(200);
    expect(rows(v)).toMatchObject({ volume: [{ status: 'available', attach_status: 'detached' }], attachments: [{ id, attach_status: 'detached', deleted: 1 }] });
    expect(cluster.logs.api.some((l) => l.includes('Instance or volume not found on Nova, deleting attachment locally'))).toBe(true);
  });

  it('Nova does not know the server at all (404): os-detach by the user is allowed', async () => {
    const v = await newVolume();
    const { id } = await attach(v);
    const r = await member.action(v, { 'os-detach': { attachment_id: id } });
    expect(r.status, r.text).toBe(202);
    expect(rows(v).volume).toEqual([{ status: 'available', attach_status: 'detached' }]);
  });

  it('Nova reports another attachment id for the volume (a mismatch): allowed, with a warning', async () => {
    const v = await newVolume();
    const { id, server } = await attach(v);
    const other = randomUUID();
    novaAttached(server, v, other);
    const d = await deleteAttachment(id);
    expect(d.status, d.text).toBe(200);
    expect(rows(v).volume).toEqual([{ status: 'available', attach_status: 'detached' }]);
    expect(cluster.logs.api.some((l) => l.includes(`Mismatch! Nova has different attachment id (${other})`))).toBe(true);
  });

  it('Nova down: the guard cannot ask, 500 as in Cinder, and nothing changes', async () => {
    const v = await newVolume();
    const { id, server } = await attach(v);
    novaAttached(server, v, id);
    spawnSync('bash', [NOVA_STOP, novaDir]);
    const before = rows(v);
    const d = await deleteAttachment(id);
    expect(d.status, d.text).toBe(500);
    expect(d.json).toEqual({ computeFault: { code: 500, message: GENERIC_500 } });
    expect(rows(v)).toEqual(before);
    // Cinder's recovery path: Nova (service token) deletes it.
    const svc = await deleteAttachment(id, { 'X-Service-Token': serviceToken });
    expect(svc.status, svc.text).toBe(200);
  });
});
