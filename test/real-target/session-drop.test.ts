// Detach while an initiator is still logged in (Nova normally disconnects first; field failures
// skip that). The initiator is the VM's own open-iscsi, driven with iscsiadm exactly as os-brick's
// connect_volume does on a compute host, logging in to the target_portal Cinder returned. That
// gives a real kernel session whose teardown and reconnect attempts can be watched on both sides
// (a host-side libiscsi session would need a long-running client of our own; iscsiadm's session
// state and LIO's dmesg lines are the standard tools). iscsi-inq from the host adds the outside view.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CinderClient, sleep, type Cluster } from '../support/cluster.js';
import { SKIP_REASON, iscsiLogin, lioAcls, lioTargets, theVm, vm, vmOk, vmRun } from './vm.js';
import { PROJECT, attachLegacy, connectorFor, createVolume, deleteVolume, expect202, iqnOf, scenario, scrubVm, vmCluster } from './service.js';

describe.skipIf(!vm)(`detach while a session is logged in${vm ? '' : ` (${SKIP_REASON})`}`, () => {
  let cluster: Cluster;
  let api: CinderClient;
  let volumeId = '';

  beforeAll(async () => {
    cluster = vmCluster();
    await cluster.start();
    api = new CinderClient(cluster.baseUrl, PROJECT);
  });
  afterAll(async () => {
    await cluster?.stop();
    if (volumeId) await scrubVm([volumeId]);
  });

  /** The kernel's view of the VM initiator's session(s): LOGGED_IN, FAILED, ... */
  const sessionStates = async () => (await vmRun(['sh', '-c', 'cat /sys/class/iscsi_session/session*/state 2>/dev/null'])).stdout.split('\n').filter(Boolean);
  const notAuthorizedLines = async () =>
    (await vmOk(['dmesg'])).split('\n').filter((l) => l.includes(`${theVm().guestInitiator} is not authorized to access iSCSI target portal group`)).length;

  scenario('terminate_connection with a live session: LIO drops it, reconnects are refused, detach ends available', async () => {
    const v = theVm();
    const connector = connectorFor(v.guestInitiator, 'cinder-ts-vm', v.guestIp);
    volumeId = await createVolume(api, 'rt-session');
    const iqn = iqnOf(volumeId);
    const { data, attachmentId } = await attachLegacy(api, volumeId, connector, randomUUID());

    // os-brick's connect_volume: node record with CHAP, then login, to the returned portal.
    const node = ['iscsiadm', '-m', 'node', '-T', data.target_iqn, '-p', data.target_portal];
    await vmOk([...node, '--op', 'new']);
    for (const [k, val] of [['node.session.auth.authmethod', data.auth_method], ['node.session.auth.username', data.auth_username], ['node.session.auth.password', data.auth_password]]) {
      await vmOk([...node, '--op', 'update', '-n', k, '-v', val]);
    }
    await vmOk([...node, '--login']);
    const dev = `/dev/disk/by-path/ip-${data.target_portal}-iscsi-${iqn}-lun-0`;
    await vmOk(['udevadm', 'settle']);
    await vmOk(['dd', `if=${dev}`, 'of=/dev/null', 'bs=4096', 'count=1', 'iflag=direct']); // real I/O over the session
    expect(await sessionStates()).toEqual(['LOGGED_IN']);
    const info = await vmOk(['cat', `/sys/kernel/config/target/iscsi/${iqn}/tpgt_1/acls/${v.guestInitiator}/info`]);
    expect(info).toMatch(/Session State: TARG_SESS_STATE_LOGGED_IN/);
    const refusedBefore = await notAuthorizedLines();

    await expect202(api.action(volumeId, { 'os-begin_detaching': null }), 'os-begin_detaching');
    await expect202(api.action(volumeId, { 'os-terminate_connection': { connector } }), 'os-terminate_connection');
    expect(await lioAcls(iqn)).toEqual([]);

    // The initiator lost its session and iscsid's reconnects are refused by LIO (it retries every ~2 s).
    const end = Date.now() + 120_000;
    while (Date.now() < end && (await notAuthorizedLines()) < refusedBefore + 2) await sleep(1000);
    expect(await notAuthorizedLines()).toBeGreaterThanOrEqual(refusedBefore + 2);
    expect(await sessionStates()).toEqual(['FAILED']);
    expect((await vmOk(['iscsiadm', '-m', 'session', '-P', '1'])).toString()).toMatch(/Internal iscsid Session State: REOPEN/);
    // The same initiator name from outside is refused too.
    const outside = await iscsiLogin({ portal: data.target_portal, iqn, initiator: v.guestInitiator, user: data.auth_username, password: data.auth_password });
    expect(outside.output).toMatch(/Authorization failure\(514\)/);

    await expect202(api.action(volumeId, { 'os-detach': { attachment_id: attachmentId } }), 'os-detach');
    expect((await api.get(volumeId)).json.volume.status).toBe('available');
    expect(await lioTargets()).not.toContain(iqn);
    // os-brick's disconnect, late: logout works on the failed session and leaves nothing behind.
    await vmOk([...node, '--logout']);
    await vmOk([...node, '--op', 'delete']);
    expect(await sessionStates()).toEqual([]);

    await deleteVolume(cluster, api, volumeId);
    volumeId = '';
  });
});
