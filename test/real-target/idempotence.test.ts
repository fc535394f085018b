// Detach when the backend is not as the service left it, and across a volume-manager restart.
// Out-of-band changes are made the way an operator (or a crashed earlier run) would: the real
// cinder-rtstool in the VM.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CinderClient, sleep, type Cluster } from '../support/cluster.js';
import { SKIP_REASON, iscsiLogin, lioAcls, lioTargets, savedTargets, vm, vmOk } from './vm.js';
import { PROJECT, attachLegacy, connectorFor, createVolume, deleteVolume, expect202, iqnOf, scenario, scrubVm, vmCluster } from './service.js';

const CONNECTOR = connectorFor('iqn.1994-05.com.redhat:cinder-ts-compute-2');

describe.skipIf(!vm)(`detach idempotence${vm ? '' : ` (${SKIP_REASON})`}`, () => {
  let cluster: Cluster;
  let api: CinderClient;
  const created: string[] = [];

  beforeAll(async () => {
    cluster = vmCluster();
    await cluster.start();
    api = new CinderClient(cluster.baseUrl, PROJECT);
  });
  afterAll(async () => {
    await cluster?.stop();
    await scrubVm(created);
  });

  async function attached(name: string) {
    const id = await createVolume(api, name);
    created.push(id);
    const { data, attachmentId } = await attachLegacy(api, id, CONNECTOR, randomUUID());
    const login = () => iscsiLogin({ portal: data.target_portal, iqn: iqnOf(id), initiator: CONNECTOR.initiator, user: data.auth_username, password: data.auth_password });
    expect((await login()).ok).toBe(true);
    return { id, iqn: iqnOf(id), attachmentId, login };
  }
  async function done(id: string, iqn: string) {
    expect((await api.get(id)).json.volume).toMatchObject({ status: 'available', attachments: [] });
    expect(await lioTargets()).not.toContain(iqn);
    expect(await savedTargets()).not.toContain(iqn);
    await deleteVolume(cluster, api, id);
    created.splice(created.indexOf(id), 1);
  }

  scenario('ACL removed out of band: terminate_connection and detach still succeed, ends available', async () => {
    const { id, iqn, attachmentId, login } = await attached('rt-acl-gone');
    await vmOk(['cinder-rtstool', 'delete-initiator', iqn, CONNECTOR.initiator]);
    expect((await login()).output).toMatch(/Authorization failure\(514\)/);

    await expect202(api.action(id, { 'os-begin_detaching': null }), 'os-begin_detaching');
    // rtstool prints "delete_initiator: <iqn> ACL not found. Continuing." and exits 0.
    await expect202(api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } }), 'os-terminate_connection');
    await expect202(api.action(id, { 'os-detach': { attachment_id: attachmentId } }), 'os-detach');
    await done(id, iqn);
  });

  scenario('target removed out of band: terminate_connection fails (500, as in Cinder), detach still ends available', async () => {
    const { id, iqn, attachmentId, login } = await attached('rt-target-gone');
    await vmOk(['cinder-rtstool', 'delete', iqn]);
    await vmOk(['cinder-rtstool', 'save']);
    expect((await login()).ok).toBe(false);

    await expect202(api.action(id, { 'os-begin_detaching': null }), 'os-begin_detaching');
    // delete-initiator on a missing target: RtstoolError "Could not find target", exit 1 ->
    // ISCSITargetDetachFailed -> VolumeBackendAPIException -> 500, no DB change (Nova would roll back).
    const r = await api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } });
    expect(r.status, r.text).toBe(500);
    expect(r.json.computeFault.message).toBe('Unable to terminate volume connection from backend.');
    expect((await api.get(id)).json.volume.status).toBe('detaching');
    // remove_export finds no target in get-targets and skips silently; the detach completes.
    await expect202(api.action(id, { 'os-detach': { attachment_id: attachmentId } }), 'os-detach');
    await done(id, iqn);
  });

  scenario('manager restarted between terminate_connection and detach: the detach sent meanwhile and its retry converge', async () => {
    const { id, iqn, attachmentId } = await attached('rt-restart');
    await expect202(api.action(id, { 'os-begin_detaching': null }), 'os-begin_detaching');
    await expect202(api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } }), 'os-terminate_connection');
    expect(await lioAcls(iqn)).toEqual([]);

    await cluster.stopVolume();
    // os-detach while no manager runs: the RPC call waits in the backend's queue on RabbitMQ.
    const pending = api.action(id, { 'os-detach': { attachment_id: attachmentId } });
    await sleep(2000);
    expect((await api.get(id)).json.volume.status).toBe('detaching');
    await cluster.startVolume();
    const r = await pending;
    expect(r.status, r.text).toBe(202);
    expect(await lioTargets()).not.toContain(iqn);

    // Nova retrying the same detach (e.g. after a timeout on its side): already done, still 202.
    // The attachment is gone, so only a service caller gets past the bug 2004555 guard.
    const nova = new CinderClient(cluster.baseUrl, PROJECT, 'nova', { 'X-Service-Roles': 'service' });
    await expect202(nova.action(id, { 'os-detach': { attachment_id: attachmentId } }), 'retried os-detach');
    await done(id, iqn);
  });
});
