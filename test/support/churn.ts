// The whole life of many volumes at once, as a cloud's users and Nova drive it: N clients each
// create a volume, wait for it, attach it the legacy way, detach it, delete it and wait until it is
// gone, until `volumes` lifecycles are done. Shared by bench/churn.ts (figures) and the process test
// (no "database is locked", nothing left creating or deleting).
import { randomUUID } from 'node:crypto';
import type { Cluster, CinderClient } from './cluster.js';
import { sleep } from './cluster.js';

export interface ChurnResult {
  lifecycles: number;
  wallS: number;
  /** Answers outside the expected 2xx, as "<call> <status> <body>". */
  unexpected: string[];
  /** Volumes that went to error (create or delete failed). */
  errors: string[];
  /** Service log lines naming a locked database. */
  lockedLogLines: string[];
  /** Volumes still creating/deleting when everything was done (after a grace period). */
  stuck: { id: string; status: string }[];
  lifecycleMs: number[];
}

const SERVICE = { 'X-Service-Roles': 'service' };

async function waitFor(cluster: Cluster, id: string, done: (s: string | undefined) => boolean, timeoutMs = 60_000): Promise<string | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = cluster.sql<{ status: string; deleted: number }>('SELECT status, deleted FROM volumes WHERE id = ?', id)[0];
    const status = s ? (s.deleted ? 'deleted' : s.status) : undefined;
    if (done(status) || Date.now() > end) return status;
    await sleep(20);
  }
}

export async function churn(cluster: Cluster, api: CinderClient, opts: { clients: number; volumes: number }): Promise<ChurnResult> {
  const r: ChurnResult = { lifecycles: 0, wallS: 0, unexpected: [], errors: [], lockedLogLines: [], stuck: [], lifecycleMs: [] };
  const ids: string[] = [];
  let started = 0;
  const expectStatus = async (call: string, p: Promise<{ status: number; text: string }>, code: number) => {
    const a = await p;
    if (a.status !== code) r.unexpected.push(`${call} ${a.status} ${a.text.slice(0, 200)}`);
    return a.status === code;
  };
  const client = async () => {
    while (started < opts.volumes) {
      started++;
      const t0 = performance.now();
      const c = await api.create({ volume: { size: 1 } });
      if (c.status !== 202) {
        r.unexpected.push(`create ${c.status} ${c.text.slice(0, 200)}`);
        continue;
      }
      const id: string = c.json.volume.id;
      ids.push(id);
      const created = await waitFor(cluster, id, (s) => s !== 'creating');
      if (created !== 'available') {
        r.errors.push(`${id} after create: ${created}`);
        continue;
      }
      const connector = { initiator: `iqn.1994-05.com.redhat:churn-${randomUUID().slice(0, 8)}`, host: 'compute-c', ip: '192.0.2.60' };
      const ok =
        (await expectStatus('os-reserve', api.action(id, { 'os-reserve': null }, SERVICE), 202)) &&
        (await expectStatus('os-initialize_connection', api.action(id, { 'os-initialize_connection': { connector } }, SERVICE), 200)) &&
        (await expectStatus(
          'os-attach',
          api.action(id, { 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdb', mode: 'rw' } }, SERVICE),
          202,
        ));
      if (ok) {
        const attachmentId = cluster.sql<{ id: string }>('SELECT id FROM volume_attachment WHERE volume_id = ? AND deleted = 0', id)[0]?.id;
        (await expectStatus('os-begin_detaching', api.action(id, { 'os-begin_detaching': null }, SERVICE), 202)) &&
          (await expectStatus('os-terminate_connection', api.action(id, { 'os-terminate_connection': { connector } }, SERVICE), 202)) &&
          (await expectStatus('os-detach', api.action(id, { 'os-detach': { attachment_id: attachmentId } }, SERVICE), 202));
      }
      if (!(await expectStatus('delete', api.delete(id), 202))) continue;
      const gone = await waitFor(cluster, id, (s) => s !== 'deleting');
      if (gone !== 'deleted') r.errors.push(`${id} after delete: ${gone}`);
      r.lifecycles++;
      r.lifecycleMs.push(performance.now() - t0);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: opts.clients }, client));
  r.wallS = (performance.now() - start) / 1000;
  // Anything still moving gets a grace period before it counts as stuck.
  for (const id of ids) {
    const s = await waitFor(cluster, id, (st) => st !== 'creating' && st !== 'deleting', 10_000);
    if (s === 'creating' || s === 'deleting') r.stuck.push({ id, status: s });
  }
  r.lockedLogLines = [...cluster.logs.api, ...cluster.logs.volume].filter((l) => /database is locked|SQLITE_BUSY/i.test(l));
  return r;
}
