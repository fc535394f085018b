// The real service (API + volume-manager processes from test/support/cluster.ts) pointed at the
// test VM, and the HTTP steps of Nova's legacy attach/detach, for the real-target scenarios.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { it } from 'vitest';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { theVm, vmRun } from './vm.js';

export const PROJECT = 'c0ffee0000000000000000000000beef';
export const iqnOf = (volumeId: string) => `iqn.2010-10.org.openstack:volume-${volumeId}`;

/**
 * A Cluster whose volume-manager runs every storage command in the VM over ssh (the executor's
 * ssh mode, ControlMaster). No root helper: ssh logs in as root. LIO listens on, and Cinder
 * advertises, the guest's address (target_ip_address), as on a real storage host. volume_clear_size
 * = 1 keeps the delete path's dd (1 MiB instead of the whole volume: TCG is slow).
 * Timeouts are generous: one cinder-rtstool call takes 2-7 s under TCG on a loaded 2-core host.
 */
export function vmCluster(): Cluster {
  const v = theVm();
  const cluster = new Cluster({
    rpcResponseTimeout: 300,
    extraDefault: { root_helper: '', rtstool_path: '/usr/bin/cinder-rtstool' },
    extraBackend: {
      ssh_host: '127.0.0.1',
      ssh_port: String(v.sshPort),
      ssh_user: 'root',
      ssh_private_key: v.sshKey,
      target_ip_address: v.guestIp,
      target_port: '3260',
      volume_clear: 'zero',
      volume_clear_size: '1',
      command_timeout: '240',
    },
  });
  // The manager's ssh ControlPath lives in state_path, which nothing has created yet when the
  // first command (cinder-rtstool verify) runs.
  fs.mkdirSync(path.join(cluster.dir, 'state'), { recursive: true });
  return cluster;
}

/** What os-brick sends for an iSCSI initiator on a compute host. */
export function connectorFor(initiator: string, host = 'compute-1', ip = '192.0.2.30') {
  return { platform: 'x86_64', os_type: 'linux', ip, host, multipath: false, initiator, do_local_attach: false };
}
export type Connector = ReturnType<typeof connectorFor>;

export async function waitForStatus(api: CinderClient, id: string, status: string, timeoutMs = 180_000) {
  const end = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < end) {
    last = await api.get(id);
    if (last.status === 200 && last.json.volume.status === status) return last.json.volume;
    if (last.status === 200 && /^error/.test(last.json.volume.status)) break;
    await sleep(250);
  }
  throw new Error(`volume ${id} never reached ${status}: ${JSON.stringify(last?.json)}`);
}

export async function expect202(p: Promise<{ status: number; text: string }>, what: string) {
  const r = await p;
  if (r.status !== 202) throw new Error(`${what}: HTTP ${r.status} ${r.text}`);
}

export async function createVolume(api: CinderClient, name: string, volumeType?: string): Promise<string> {
  const r = await api.create({ volume: { size: 1, name, ...(volumeType ? { volume_type: volumeType } : {}) } });
  if (r.status !== 202) throw new Error(`create: HTTP ${r.status} ${r.text}`);
  await waitForStatus(api, r.json.volume.id, 'available');
  return r.json.volume.id as string;
}

/**
 * The operator's multiattach type (`cinder type-create multiattach`, `type-key multiattach set
 * multiattach="<is> True"` in one POST /types, as Cinder's types_manage create takes extra_specs).
 */
export async function ensureMultiattachType(admin: CinderClient, name = 'multiattach'): Promise<string> {
  const r = await admin.request('POST', `/v3/${admin.projectId}/types`, { volume_type: { name, extra_specs: { multiattach: '<is> True' } } });
  if (r.status === 200) return r.json.volume_type.id as string;
  const existing = await admin.request('GET', `/v3/${admin.projectId}/types/${name}`);
  if (r.status !== 409 || existing.status !== 200) throw new Error(`type-create ${name}: HTTP ${r.status} ${r.text}`);
  return existing.json.volume_type.id as string;
}

/** Nova's legacy attach: os-reserve, os-initialize_connection, os-attach. */
export async function attachLegacy(api: CinderClient, id: string, connector: Connector, instance: string) {
  await expect202(api.action(id, { 'os-reserve': null }), 'os-reserve');
  const r = await api.action(id, { 'os-initialize_connection': { connector } });
  if (r.status !== 200) throw new Error(`os-initialize_connection: HTTP ${r.status} ${r.text}`);
  await expect202(api.action(id, { 'os-attach': { instance_uuid: instance, mountpoint: '/dev/vdb', mode: 'rw' } }), 'os-attach');
  const v = (await api.get(id)).json.volume;
  const att = v.attachments.find((a: any) => a.server_id === instance);
  if (!att) throw new Error(`no attachment for ${instance}: ${JSON.stringify(v.attachments)}`);
  return { data: r.json.connection_info.data, attachmentId: att.attachment_id as string };
}

/** DELETE the volume and wait until the manager has soft-deleted it (LV removed in the VM). */
export async function deleteVolume(cluster: Cluster, api: CinderClient, id: string) {
  const r = await api.delete(id);
  if (r.status !== 202) throw new Error(`delete: HTTP ${r.status} ${r.text}`);
  const end = Date.now() + 180_000;
  const row = () => cluster.sql<{ status: string; deleted: number }>('SELECT status, deleted FROM volumes WHERE id = ?', id)[0];
  while (Date.now() < end && row().deleted !== 1 && row().status !== 'error_deleting') await sleep(250);
  if (row().deleted !== 1) throw new Error(`volume ${id} not deleted: ${JSON.stringify(row())}`);
}

/** A writable handle on the shared SQLite file, for what no API sets (the connector on legacy rows). */
export function writeSql(cluster: Cluster, query: string, ...params: unknown[]) {
  const db = new Database(cluster.dbFile, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    return db.prepare(query).run(...params);
  } finally {
    db.close();
  }
}

/** Best-effort removal of whatever a failed scenario left in the VM, so later files start clean. */
export async function scrubVm(volumeIds: string[]) {
  for (const id of volumeIds) {
    const iqn = iqnOf(id);
    await vmRun(['iscsiadm', '-m', 'node', '-T', iqn, '--logout']);
    await vmRun(['iscsiadm', '-m', 'node', '-T', iqn, '--op', 'delete']);
    await vmRun(['cinder-rtstool', 'delete', iqn]);
    await vmRun(['lvremove', '-f', `cinder-volumes/volume-${id}`]);
  }
  if (volumeIds.length) await vmRun(['cinder-rtstool', 'save']);
}

/** Prints a scenario's wall time and adds it to run.sh's report ($CINDER_TS_RT_TIMES). */
export function recordTime(name: string, seconds: number) {
  console.log(`[real-target] ${name}: ${seconds.toFixed(1)} s`);
  const file = process.env.CINDER_TS_RT_TIMES;
  if (file) fs.appendFileSync(file, `${name}\t${seconds.toFixed(1)}\n`);
}

/** it() that records its wall time (also when it fails). */
export function scenario(name: string, fn: () => Promise<void>) {
  it(name, async () => {
    const t0 = performance.now();
    let failed = true;
    try {
      await fn();
      failed = false;
    } finally {
      recordTime(failed ? `${name} (FAILED)` : name, (performance.now() - t0) / 1000);
    }
  });
}
