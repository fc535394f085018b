// Create, attach and the legacy detach against a real LIO target, LVM and the real cinder-rtstool
// in the test VM, through the whole service: HTTP -> API -> RabbitMQ -> manager -> ssh -> VM.
// Every step is also checked from outside: libiscsi's iscsi-inq logs in from this host through
// the forwarded iSCSI port with the initiator name and CHAP credentials a compute host would use.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CinderClient, type Cluster } from '../support/cluster.js';
import { SKIP_REASON, iscsiLogin, lioAcls, lioTargets, lvNames, savedTargets, theVm, vm } from './vm.js';
import { PROJECT, attachLegacy, connectorFor, createVolume, deleteVolume, expect202, iqnOf, scenario, scrubVm, vmCluster } from './service.js';

const CONNECTOR = connectorFor('iqn.1994-05.com.redhat:cinder-ts-compute-1');
const STRANGER = 'iqn.1994-05.com.redhat:cinder-ts-stranger';

describe.skipIf(!vm)(`create, attach, legacy detach, delete on a real target${vm ? '' : ` (${SKIP_REASON})`}`, () => {
  let cluster: Cluster;
  let api: CinderClient;
  let volumeId = '';
  let attachmentId = '';
  let data: any;
  const login = (initiator: string, password?: string) =>
    iscsiLogin({ portal: data.target_portal, iqn: data.target_iqn, initiator, user: data.auth_username, password: password ?? data.auth_password });

  beforeAll(async () => {
    cluster = vmCluster();
    await cluster.start();
    api = new CinderClient(cluster.baseUrl, PROJECT);
  });
  afterAll(async () => {
    await cluster?.stop();
    if (volumeId) await scrubVm([volumeId]);
  });

  scenario('create + attach (reserve, initialize_connection, attach): CHAP login ok, stranger refused', async () => {
    volumeId = await createVolume(api, 'rt-attach');
    expect(await lvNames()).toContain(`volume-${volumeId}`);

    const iqn = iqnOf(volumeId);
    const r = await attachLegacy(api, volumeId, CONNECTOR, randomUUID());
    data = r.data;
    attachmentId = r.attachmentId;
    // The portal is the storage host's own address (what the compute host's initiator dials).
    expect(data).toMatchObject({ target_portal: `${theVm().guestIp}:3260`, target_iqn: iqn, target_lun: 0, auth_method: 'CHAP' });
    expect(cluster.sql<any>('SELECT provider_location FROM volumes WHERE id = ?', volumeId)[0].provider_location).toBe(
      `${theVm().guestIp}:3260,${iqn} ${iqn} 0`,
    );
    expect((await api.get(volumeId)).json.volume.status).toBe('in-use');

    // LIO as cinder-rtstool left it: the target, one ACL for the connector, persisted by `save`.
    expect(await lioTargets()).toContain(iqn);
    expect(await lioAcls(iqn)).toEqual([CONNECTOR.initiator]);
    expect(await savedTargets()).toContain(iqn);

    const ok = await login(CONNECTOR.initiator);
    expect(ok.output).toMatch(/Vendor:LIO-ORG/);
    expect(ok.ok, ok.output).toBe(true);
    const stranger = await login(STRANGER);
    expect(stranger.ok).toBe(false);
    expect(stranger.output).toMatch(/Authorization failure\(514\)/);
    const badSecret = await login(CONNECTOR.initiator, 'not-the-password');
    expect(badSecret.ok).toBe(false);
    expect(badSecret.output).toMatch(/Authentication failure\(513\)/);
  });

  scenario('legacy detach (begin_detaching, terminate_connection, detach): ACL, target, saved config gone; LV stays until delete', async () => {
    expect(data, 'needs the attach scenario').toBeDefined();
    const iqn = iqnOf(volumeId);
    await expect202(api.action(volumeId, { 'os-begin_detaching': null }), 'os-begin_detaching');

    await expect202(api.action(volumeId, { 'os-terminate_connection': { connector: CONNECTOR } }), 'os-terminate_connection');
    // terminate_connection removes the ACL only: the target stays until os-detach's remove_export.
    expect(await lioAcls(iqn)).toEqual([]);
    expect(await lioTargets()).toContain(iqn);
    const refused = await login(CONNECTOR.initiator);
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/Authorization failure\(514\)/);

    await expect202(api.action(volumeId, { 'os-detach': { attachment_id: attachmentId } }), 'os-detach');
    expect((await api.get(volumeId)).json.volume).toMatchObject({ status: 'available', attachments: [] });
    expect(await lioTargets()).not.toContain(iqn);
    expect(await savedTargets()).not.toContain(iqn);
    // With no target left there is no portal either: the login fails before any iSCSI status.
    expect((await login(CONNECTOR.initiator)).ok).toBe(false);
    // Detach never touches the LV.
    expect(await lvNames()).toContain(`volume-${volumeId}`);
  });

  scenario('delete: the LV is gone from lvs', async () => {
    expect(volumeId).not.toBe('');
    await deleteVolume(cluster, api, volumeId);
    expect(cluster.sql<any>('SELECT status, deleted FROM volumes WHERE id = ?', volumeId)[0]).toEqual({ status: 'deleted', deleted: 1 });
    expect(await lvNames()).not.toContain(`volume-${volumeId}`);
    volumeId = '';
  });
});

