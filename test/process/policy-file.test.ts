// policy.yaml ([oslo_policy] policy_file, found beside cinder.conf as oslo.config's find_file
// does) read by cinder-api with oslo.policy's format and rule language: a file that makes
// volume_extension:volume_actions:detach admin-only (`rule:admin_api`) turns a project member's
// os-detach into Cinder's 403 PolicyNotAuthorized, and the admin's still works. Keystone tokens
// (the project's own Keystone, as keystone.test.ts): under noauth every caller is an admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { Cluster, sleep } from '../support/cluster.js';
import { authtokenSection, keystoneSkipReason, passwordToken, startKeystone, stopKeystone, type KeystoneInfo } from '../support/keystone.js';

const SKIP = keystoneSkipReason();
if (SKIP) console.warn(`policy-file process test skipped: ${SKIP}`);

const DETACH = 'volume_extension:volume_actions:detach';
const INSTANCE = '0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';
const CONNECTOR = { platform: 'x86_64', os_type: 'linux', ip: '192.0.2.31', host: 'compute-2', multipath: false, initiator: 'iqn.2004-10.com.ubuntu:01:policy0001' };

describe.skipIf(SKIP)('[oslo_policy] policy_file', () => {
  let ks: KeystoneInfo;
  let cluster: Cluster;
  let member: string;
  let admin: string;
  let service: string;

  async function call(tok: string, project: string, method: string, p: string, body?: unknown, extra: Record<string, string> = {}) {
    const r = await fetch(`${cluster.baseUrl}/v3/${project}${p}`, {
      method,
      headers: { 'X-Auth-Token': tok, 'Content-Type': 'application/json', ...extra },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, text, json: text ? JSON.parse(text) : null };
  }

  async function waitFor(project: string, id: string, status: string) {
    for (let i = 0; i < 300; i++) {
      const r = await call(member, project, 'GET', `/volumes/${id}`);
      if (r.json?.volume?.status === status) return;
      await sleep(50);
    }
    throw new Error(`volume ${id} never reached ${status}`);
  }

  beforeAll(async () => {
    ks = await startKeystone({ tmpPrefix: 'cinder-ts-policy-ks-' });
    cluster = new Cluster({ extraDefault: { auth_strategy: 'keystone' }, extraConfig: authtokenSection(ks) });
    // Beside cinder.conf: the default policy_file 'policy.yaml' is found there.
    fs.writeFileSync(path.join(cluster.dir, 'policy.yaml'), `# admin-only detach\n"${DETACH}": "rule:admin_api"\n"some:rule:this:port:does:not:know": "@"\n`);
    await cluster.start();
    [member, admin, service] = await Promise.all([passwordToken(ks, ks.users.member), passwordToken(ks, ks.users.admin), passwordToken(ks, ks.users.service)]);
  }, 600_000);
  afterAll(async () => {
    await cluster?.stop();
    if (ks) stopKeystone(ks);
  });

  it("a member's os-detach is Cinder's 403; the admin's detaches", async () => {
    const A = ks.projects.a;
    const c = await call(member, A, 'POST', '/volumes', { volume: { size: 1, name: 'policed' } });
    expect(c.status, c.text).toBe(202);
    const id = c.json.volume.id as string;
    await waitFor(A, id, 'available');
    // The rest of the attach/detach path keeps its default (member or owner).
    for (const [body, code] of [
      [{ 'os-reserve': null }, 202],
      [{ 'os-initialize_connection': { connector: CONNECTOR } }, 200],
      [{ 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb', mode: 'rw' } }, 202],
    ] as const) {
      const r = await call(member, A, 'POST', `/volumes/${id}/action`, body);
      expect(r.status, r.text).toBe(code);
    }
    await waitFor(A, id, 'in-use');
    expect((await call(member, A, 'POST', `/volumes/${id}/action`, { 'os-begin_detaching': null })).status).toBe(202);
    expect((await call(member, A, 'POST', `/volumes/${id}/action`, { 'os-terminate_connection': { connector: CONNECTOR } })).status).toBe(202);
    const att = cluster.sql<any>('SELECT id FROM volume_attachment WHERE volume_id = ?', id)[0];

    const denied = await call(member, A, 'POST', `/volumes/${id}/action`, { 'os-detach': { attachment_id: att.id } });
    expect(denied.status).toBe(403);
    expect(denied.text).toBe(`{"forbidden": {"code": 403, "message": "Policy doesn't allow ${DETACH} to be performed."}}`);
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'detaching', attach_status: 'attached' });

    // The admin (its own project in the URL, as Nova's admin calls go), with a service token so
    // the OSSA-2023-003 guard lets the detach through without asking Nova.
    const ok = await call(admin, ks.projects.admin, 'POST', `/volumes/${id}/action`, { 'os-detach': { attachment_id: att.id } }, { 'X-Service-Token': service });
    expect(ok.status, ok.text).toBe(202);
    await waitFor(A, id, 'available');
    expect(cluster.volumeRow(id)).toMatchObject({ status: 'available', attach_status: 'detached' });
  }, 120_000);
});
