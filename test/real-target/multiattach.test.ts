// Multiattach against the real LIO target: volumes made through the API with the operator's
// `multiattach` type (extra spec multiattach="<is> True", which sets the volume's multiattach column
// as Cinder's create flow does), attached twice from one compute host (legacy API and attachments
// API) and from two compute hosts (attachments API).
//
// What Cinder 21.3.1 does here (spec cinder-behavior.md §2.3, §5.1, pitfalls 4 and 5), and so what
// this file asserts:
// * LVM's terminate_connection keeps the ACL only when more than one attachment row carries a
//   connector with this initiator (the bug 1786327 fix). Legacy os-attach rows have NO connector,
//   so on the legacy path the first terminate_connection already removes the ACL: login is refused
//   although the second instance is still attached.
// * Legacy os-detach always calls remove_export: the first detach deletes the whole target.
// * The second terminate_connection then runs `cinder-rtstool delete-initiator` on a target that is
//   gone: rtstool exits 1 ("Could not find target"), the API answers 500. os-detach still works
//   (remove_export finds no target and skips) and the volume ends available.
// * A user's terminate_connection on a volume with two attachments is refused with 409 by the
//   bug 2004555 guard; Nova sends it with a service token (X-Service-Roles: service), as here.
// The second scenario records the connector on both rows, as the attachments API would have, and
// shows the 1786327 rule itself on real LIO: then terminate_connection keeps the ACL.
// The third is Nova since Queens (the attachments API) deleting attachments of one compute host at
// the same time: Cinder 21.3.1 leaks the ACL and the target there (each delete still counts the
// other); the port serializes the decision per volume (README, behaviour notes), so the ACL stays
// while an attachment of the host remains and goes, with the target, with the last one.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CinderClient, type Cluster } from '../support/cluster.js';
import { SKIP_REASON, iscsiLogin, lioAcls, lioTargets, savedTargets, vm } from './vm.js';
import { PROJECT, attachLegacy, connectorFor, createVolume, deleteVolume, ensureMultiattachType, expect202, iqnOf, scenario, scrubVm, vmCluster, writeSql } from './service.js';

const CONNECTOR = connectorFor('iqn.1994-05.com.redhat:cinder-ts-compute-ma');
const OTHER_HOST = connectorFor('iqn.1994-05.com.redhat:cinder-ts-compute-mb', 'compute-2', '192.0.2.31');
const A = `/v3/${PROJECT}/attachments`;
const MV = { 'OpenStack-API-Version': 'volume 3.44' };

describe.skipIf(!vm)(`multiattach, same initiator twice${vm ? '' : ` (${SKIP_REASON})`}`, () => {
  let cluster: Cluster;
  let user: CinderClient;
  let nova: CinderClient;
  let MULTIATTACH = '';
  const created: string[] = [];

  /** Nova's attach through the attachments API (3.44): create, update with the connector, complete. */
  async function attachNew(id: string, connector: typeof CONNECTOR) {
    const c = await nova.request('POST', A, { attachment: { volume_uuid: id, instance_uuid: randomUUID() } }, MV);
    expect(c.status, c.text).toBe(200);
    const u = await nova.request('PUT', `${A}/${c.json.attachment.id}`, { attachment: { connector } }, MV);
    expect(u.status, u.text).toBe(200);
    expect((await nova.request('POST', `${A}/${c.json.attachment.id}/action`, { 'os-complete': null }, MV)).status).toBe(204);
    return { id: c.json.attachment.id as string, data: u.json.attachment.connection_info };
  }
  const del = (att: string) => nova.request('DELETE', `${A}/${att}`, undefined, MV);

  beforeAll(async () => {
    cluster = vmCluster();
    await cluster.start();
    user = new CinderClient(cluster.baseUrl, PROJECT);
    nova = new CinderClient(cluster.baseUrl, PROJECT, 'nova', { 'X-Service-Roles': 'service' });
    MULTIATTACH = await ensureMultiattachType(user);
  });
  afterAll(async () => {
    await cluster?.stop();
    await scrubVm(created);
  });

  /** A multiattach volume attached to two instances through the same connector. */
  async function attachedTwice(name: string) {
    const id = await createVolume(user, name, MULTIATTACH);
    created.push(id);
    const a = await attachLegacy(user, id, CONNECTOR, randomUUID());
    const b = await attachLegacy(user, id, CONNECTOR, randomUUID());
    // Same export, same CHAP secret (create_export reuses provider_auth), one ACL.
    expect(b.data).toEqual(a.data);
    expect(await lioAcls(iqnOf(id))).toEqual([CONNECTOR.initiator]);
    const v = (await user.get(id)).json.volume;
    expect(v).toMatchObject({ status: 'in-use', multiattach: true });
    expect(v.attachments).toHaveLength(2);
    const login = () =>
      iscsiLogin({ portal: a.data.target_portal, iqn: iqnOf(id), initiator: CONNECTOR.initiator, user: a.data.auth_username, password: a.data.auth_password });
    const ok = await login();
    expect(ok.ok, ok.output).toBe(true);
    return { id, iqn: iqnOf(id), attA: a.attachmentId, attB: b.attachmentId, login };
  }

  scenario('legacy multiattach detach: 1st terminate drops the shared ACL, 1st detach the target; 2nd detach ends available', async () => {
    const { id, iqn, attA, attB, login } = await attachedTwice('rt-multiattach');

    const conflict = await user.action(id, { 'os-terminate_connection': { connector: CONNECTOR } });
    expect(conflict.status, conflict.text).toBe(409);
    expect(conflict.json.conflictingRequest.message).toBe('ConflictNovaUsingAttachment: Detach volume from instance  using the Compute API');
    expect(await lioAcls(iqn)).toEqual([CONNECTOR.initiator]);

    // First instance, as Nova does it.
    await expect202(nova.action(id, { 'os-begin_detaching': null }), 'os-begin_detaching');
    await expect202(nova.action(id, { 'os-terminate_connection': { connector: CONNECTOR } }), 'os-terminate_connection');
    expect(await lioAcls(iqn)).toEqual([]);
    const refused = await login();
    expect(refused.output).toMatch(/Authorization failure\(514\)/);
    await expect202(nova.action(id, { 'os-detach': { attachment_id: attA } }), 'os-detach');
    const v = (await nova.get(id)).json.volume;
    expect(v.status).toBe('in-use');
    expect(v.attachments.map((x: any) => x.attachment_id)).toEqual([attB]);
    expect(await lioTargets()).not.toContain(iqn);
    expect(await savedTargets()).not.toContain(iqn);

    // Second instance: terminate_connection fails on the missing target (500, volume stays
    // detaching); the detach itself converges.
    await expect202(nova.action(id, { 'os-begin_detaching': null }), 'os-begin_detaching');
    const failed = await nova.action(id, { 'os-terminate_connection': { connector: CONNECTOR } });
    expect(failed.status, failed.text).toBe(500);
    expect(failed.json.computeFault.message).toBe('Unable to terminate volume connection from backend.');
    expect((await nova.get(id)).json.volume.status).toBe('detaching');
    await expect202(nova.action(id, { 'os-detach': { attachment_id: attB } }), 'os-detach');
    expect((await nova.get(id)).json.volume).toMatchObject({ status: 'available', attachments: [] });

    await deleteVolume(cluster, user, id);
    created.splice(created.indexOf(id), 1);
  });

  scenario('attachments API, concurrent deletes on one host: the ACL stays while one remains and goes with the last, with the target', async () => {
    const id = await createVolume(user, 'rt-multiattach-concurrent', MULTIATTACH);
    created.push(id);
    const iqn = iqnOf(id);
    const attach = () => attachNew(id, CONNECTOR);
    const atts = [await attach(), await attach(), await attach()];
    expect(await lioAcls(iqn)).toEqual([CONNECTOR.initiator]);
    const login = () =>
      iscsiLogin({ portal: atts[0].data.target_portal, iqn, initiator: CONNECTOR.initiator, user: atts[0].data.auth_username, password: atts[0].data.auth_password });

    // Two of the three at once: the third still needs the ACL.
    const first = await Promise.all([del(atts[0].id), del(atts[1].id)]);
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    expect(await lioAcls(iqn)).toEqual([CONNECTOR.initiator]);
    const ok = await login();
    expect(ok.ok, ok.output).toBe(true);
    expect((await user.get(id)).json.volume).toMatchObject({ status: 'in-use' });

    // The last one (with a fresh one attached and deleted alongside): nothing of the host is left.
    const extra = await attach();
    const last = await Promise.all([del(atts[2].id), del(extra.id)]);
    expect(last.map((r) => r.status)).toEqual([200, 200]);
    expect((await user.get(id)).json.volume).toMatchObject({ status: 'available', attachments: [] });
    expect(await lioTargets()).not.toContain(iqn);
    expect(await savedTargets()).not.toContain(iqn);
    expect((await login()).ok).toBe(false);
    await deleteVolume(cluster, user, id);
    created.splice(created.indexOf(id), 1);
  });

  scenario("attachments API, two servers on two compute hosts: each host's ACL goes with its attachment, the target with the last", async () => {
    const id = await createVolume(user, 'rt-multiattach-two-hosts', MULTIATTACH);
    created.push(id);
    const iqn = iqnOf(id);
    expect((await user.get(id)).json.volume).toMatchObject({ multiattach: true, volume_type: 'multiattach' });
    const a = await attachNew(id, CONNECTOR);
    const b = await attachNew(id, OTHER_HOST);
    expect((await lioAcls(iqn)).sort()).toEqual([CONNECTOR.initiator, OTHER_HOST.initiator].sort());
    const loginAs = (c: typeof CONNECTOR, data: any) =>
      iscsiLogin({ portal: data.target_portal, iqn, initiator: c.initiator, user: data.auth_username, password: data.auth_password });
    for (const [c, att] of [[CONNECTOR, a], [OTHER_HOST, b]] as const) {
      const ok = await loginAs(c, att.data);
      expect(ok.ok, ok.output).toBe(true);
    }

    // The first server's detach (Nova since Queens: DELETE /attachments/{id}) removes only its host's ACL.
    expect((await del(a.id)).status).toBe(200);
    expect(await lioAcls(iqn)).toEqual([OTHER_HOST.initiator]);
    expect((await loginAs(CONNECTOR, a.data)).ok).toBe(false);
    const still = await loginAs(OTHER_HOST, b.data);
    expect(still.ok, still.output).toBe(true);
    expect((await user.get(id)).json.volume).toMatchObject({ status: 'in-use' });

    // The last one takes the ACL and the target.
    expect((await del(b.id)).status).toBe(200);
    expect((await user.get(id)).json.volume).toMatchObject({ status: 'available', attachments: [] });
    expect(await lioTargets()).not.toContain(iqn);
    expect(await savedTargets()).not.toContain(iqn);
    await deleteVolume(cluster, user, id);
    created.splice(created.indexOf(id), 1);
  });

  scenario('with connectors recorded on both rows (attachments API style), terminate_connection keeps the shared ACL; legacy detach still removes the target', async () => {
    const { id, iqn, attA, attB, login } = await attachedTwice('rt-multiattach-connectors');
    writeSql(cluster, 'UPDATE volume_attachment SET connector = ? WHERE volume_id = ?', JSON.stringify(CONNECTOR), id);

    await expect202(nova.action(id, { 'os-begin_detaching': null }), 'os-begin_detaching');
    await expect202(nova.action(id, { 'os-terminate_connection': { connector: CONNECTOR } }), 'os-terminate_connection');
    expect(await lioAcls(iqn)).toEqual([CONNECTOR.initiator]);
    const stillOk = await login();
    expect(stillOk.ok, stillOk.output).toBe(true);

    // Legacy os-detach still calls remove_export: the target goes although attachment B remains.
    await expect202(nova.action(id, { 'os-detach': { attachment_id: attA } }), 'os-detach');
    expect((await nova.get(id)).json.volume.status).toBe('in-use');
    expect(await lioTargets()).not.toContain(iqn);
    expect((await login()).ok).toBe(false);
    // The second instance (its terminate_connection would fail as in the scenario above).
    await expect202(nova.action(id, { 'os-begin_detaching': null }), 'os-begin_detaching');
    await expect202(nova.action(id, { 'os-detach': { attachment_id: attB } }), 'os-detach');
    expect((await nova.get(id)).json.volume.status).toBe('available');
    expect(await lioTargets()).not.toContain(iqn);
    await deleteVolume(cluster, user, id);
    created.splice(created.indexOf(id), 1);
  });
});
