// P's volumes in several states, made by P's member: available, attaching (os-reserve), in-use by
// the legacy attach, detaching (legacy attach + os-begin_detaching), in-use through the attachments
// API (create with a connector + os-complete), reserved (attachments API without a connector); and
// one volume of Q's. Afterwards P's member undoes every attachment, so the closing audit is clean.
import { randomUUID } from 'node:crypto';
import { sleep, type Cluster } from '../../support/cluster.js';
import { passwordToken, type KeystoneInfo } from '../../support/keystone.js';
import { http, must, type Answer } from './http.js';

export const NAMES = ['available', 'attaching', 'in-use-legacy', 'detaching', 'in-use-attachments', 'reserved'] as const;
export type Name = (typeof NAMES)[number];
/** The volumes with an attachment (its id in `att`). */
export type AttachedName = 'in-use-legacy' | 'detaching' | 'in-use-attachments' | 'reserved';

export const connector = (tag: string) => ({ initiator: `iqn.1994-05.com.redhat:${tag}`, host: `${tag}-host`, ip: '192.0.2.50', platform: 'x86_64', os_type: 'linux', multipath: false });

/** Everything the probes are aimed with. */
export interface Setup {
  cluster: Cluster;
  base: string;
  /** Project P (project-a, whose volumes are probed) and project Q (project-b, the prober). */
  P: string;
  Q: string;
  tokP: string;
  tokQ: string;
  tokSvc: string;
  /** P's member on a path under /v3/{P}. */
  asP: (m: string, p: string, body?: unknown, version?: string, extra?: Record<string, string>) => Promise<Answer>;
  ids: Record<Name, string>;
  vQ: string;
  /** The instance of each attached volume. */
  instance: Record<string, string>;
  att: Record<AttachedName, string>;
  /** P's volume and attachment ids (none may show to Q), Q's volume ids (none may show to P). */
  pIds: string[];
  qIds: string[];
  /** "name=status ..." of P's volumes now. */
  states: () => string;
  waitStatus: (id: string, status: string) => Promise<void>;
}

export async function setUp(cluster: Cluster, ks: KeystoneInfo, log: (l: string) => void): Promise<Setup> {
  const base = cluster.baseUrl;
  const P = ks.projects.a;
  const Q = ks.projects.b;
  const [tokP, tokQ, tokSvc] = await Promise.all([
    passwordToken(ks, ks.users.member),
    passwordToken(ks, ks.users.member_b),
    passwordToken(ks, ks.users.service),
  ]);
  const asP = (m: string, p: string, body?: unknown, version?: string, extra: Record<string, string> = {}) =>
    http(base, m, `/v3/${P}${p}`, tokP, body, version, extra);
  const asQ = (m: string, p: string, body?: unknown, version?: string) => http(base, m, `/v3/${Q}${p}`, tokQ, body, version);

  const t2 = Date.now();
  const waitStatus = async (id: string, status: string) => {
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      const s = cluster.volumeRow(id)?.status;
      if (s === status) return;
      if (s === 'error') throw new Error(`volume ${id} went to error`);
      await sleep(30);
    }
    throw new Error(`volume ${id} never became ${status} (${cluster.volumeRow(id)?.status})`);
  };
  const newVolume = async (name: string, as = asP) => {
    const r = must(await as('POST', '/volumes', { volume: { size: 1, name } }), 202, `create ${name}`);
    return r.json.volume.id as string;
  };
  const ids = Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, await newVolume(`p-${n}`)]))) as Record<Name, string>;
  const vQ = await newVolume('q-own', asQ);
  await Promise.all([...Object.values(ids), vQ].map((id) => waitStatus(id, 'available')));

  const instance: Record<string, string> = {};
  const legacyAttach = async (id: string, tag: string) => {
    instance[id] = randomUUID();
    must(await asP('POST', `/volumes/${id}/action`, { 'os-reserve': null }), 202, 'os-reserve');
    must(await asP('POST', `/volumes/${id}/action`, { 'os-initialize_connection': { connector: connector(tag) } }), 200, 'os-initialize_connection');
    must(await asP('POST', `/volumes/${id}/action`, { 'os-attach': { instance_uuid: instance[id], mountpoint: '/dev/vdb', mode: 'rw' } }), 202, 'os-attach');
  };
  must(await asP('POST', `/volumes/${ids.attaching}/action`, { 'os-reserve': null }), 202, 'os-reserve');
  await legacyAttach(ids['in-use-legacy'], 'p-legacy');
  await legacyAttach(ids.detaching, 'p-detaching');
  must(await asP('POST', `/volumes/${ids.detaching}/action`, { 'os-begin_detaching': null }), 202, 'os-begin_detaching');
  instance[ids['in-use-attachments']] = randomUUID();
  const created = must(
    await asP('POST', '/attachments', { attachment: { volume_uuid: ids['in-use-attachments'], instance_uuid: instance[ids['in-use-attachments']], connector: connector('p-new') } }, '3.44'),
    200,
    'attachment create',
  );
  must(await asP('POST', `/attachments/${created.json.attachment.id}/action`, { 'os-complete': null }, '3.44'), 204, 'os-complete');
  instance[ids.reserved] = randomUUID();
  must(await asP('POST', '/attachments', { attachment: { volume_uuid: ids.reserved, instance_uuid: instance[ids.reserved] } }, '3.44'), 200, 'attachment reserve');

  const att = {} as Record<AttachedName, string>;
  for (const n of ['in-use-legacy', 'detaching', 'in-use-attachments', 'reserved'] as const) att[n] = cluster.liveAttachments(ids[n])[0].id;
  const statusOf = (id: string) => cluster.volumeRow(id).status;
  const states = () => NAMES.map((n) => `${n}=${statusOf(ids[n])}`).join(' ');
  log(`P's volumes made in ${((Date.now() - t2) / 1000).toFixed(1)} s: ${states()}`);
  for (const n of NAMES) if (statusOf(ids[n]) !== n.replace(/-legacy|-attachments/, '')) throw new Error(`setup: ${n} is ${statusOf(ids[n])}`);

  const pIds = [...Object.values(ids), ...Object.values(att)];
  return { cluster, base, P, Q, tokP, tokQ, tokSvc, asP, ids, vQ, instance, att, pIds, qIds: [vQ], states, waitStatus };
}

/** P's member undoes its attachments and reservations (with a service token, as Nova would). */
export async function undo(s: Setup): Promise<void> {
  const { asP, ids, att } = s;
  const svc = { 'X-Service-Token': s.tokSvc };
  must(await asP('POST', `/volumes/${ids.attaching}/action`, { 'os-unreserve': null }), 202, 'cleanup os-unreserve');
  must(await asP('POST', `/volumes/${ids.detaching}/action`, { 'os-roll_detaching': null }), 202, 'cleanup os-roll_detaching');
  for (const [n, tag] of [['in-use-legacy', 'p-legacy'], ['detaching', 'p-detaching']] as const) {
    const v = ids[n];
    must(await asP('POST', `/volumes/${v}/action`, { 'os-begin_detaching': null }), 202, 'cleanup os-begin_detaching');
    must(await asP('POST', `/volumes/${v}/action`, { 'os-terminate_connection': { connector: connector(tag) } }, undefined, svc), 202, 'cleanup os-terminate_connection');
    must(await asP('POST', `/volumes/${v}/action`, { 'os-detach': { attachment_id: att[n] } }, undefined, svc), 202, 'cleanup os-detach');
  }
  for (const n of ['in-use-attachments', 'reserved'] as const) {
    must(await asP('DELETE', `/attachments/${att[n]}`, undefined, '3.44', svc), 200, 'cleanup attachment delete');
  }
  await Promise.all(Object.values(ids).map((id) => s.waitStatus(id, 'available')));
}
