// The stale report (not Cinder's; in the spirit of cinder-manage): volumes and attachments left in
// a transient status longer than a threshold, each with the recovery that brings it back. Served
// to admins by the API (GET /v3/{project_id}/stale) and printed by `src/cmd/manage.ts stale`.
import type { Db } from '../db/client.js';
import { dbNow } from '../db/client.js';
import { staleAttachments, staleVolumes, volumeServiceHeartbeats, type StaleAttachmentRow, type StaleVolumeRow } from '../db/stale.js';

export interface StaleEntry {
  resource: 'volume' | 'attachment';
  id: string;
  volume_id: string;
  status: string | null;
  /** The volume's host@backend#pool. */
  host: string | null;
  updated_at: string | null;
  age_s: number;
  /** Whether the volume's cinder-volume service heartbeats (null: no such service row). */
  service_up: boolean | null;
  recovery: string;
}

export interface StaleReport {
  older_than: number;
  generated_at: string;
  volumes: StaleEntry[];
  attachments: StaleEntry[];
}

const parseDbTime = (t: string | null) => (t ? Date.parse(`${t.slice(0, 23).replace(' ', 'T')}Z`) : NaN);

function volumeRecovery(v: StaleVolumeRow, up: boolean | null, host: string): string {
  const down = up === false ? `its cinder-volume (${host}) is down: restart it. ` : '';
  switch (v.status) {
    case 'creating':
      if (v.worker_service_id !== null) return `${down}At start-up its cinder-volume finds the workers row and sets the volume to 'error'; then delete it.`;
      return `No cinder-volume claims it (the create never reached one): cinder reset-state --state error ${v.id}, then delete it.`;
    case 'deleting':
      if (v.worker_service_id !== null) return `${down}At start-up its cinder-volume finds the workers row and deletes the volume again.`;
      return `No cinder-volume claims the delete: cinder reset-state --state available ${v.id}, then delete it again.`;
    case 'attaching':
      return `${down}The attach was never finished: os-unreserve (or attachment-delete of its reserved attachment) returns it to 'available'; admin: cinder reset-state --state available --attach-status detached ${v.id}.`;
    case 'reserved':
      return `A reserved attachment waits for Nova's update: cinder attachment-delete of it returns the volume to 'available'.`;
    case 'detaching':
      return `${down}The detach was never finished: os-roll_detaching returns it to 'in-use' (Nova's roll-back); or finish it (os-terminate_connection + os-detach, or attachment-delete); admin: cinder reset-state --state in-use ${v.id}.`;
    default:
      return `${down}A detach failed on the backend: retry it, or os-force_detach with the attachment id (admin); cinder reset-state --state in-use|available ${v.id} once the backend is right.`;
  }
}

function attachmentRecovery(a: StaleAttachmentRow, down: string): string {
  switch (a.attach_status) {
    case 'reserved':
      return `Never connected: cinder attachment-delete ${a.id} (or complete it: attachment-update with a connector, then os-complete).`;
    case 'attaching':
      return `${down}Connected on the backend but not completed: os-complete it if the instance uses it, else cinder attachment-delete ${a.id} (removes the ACL/export).`;
    case 'error_attaching':
      return `The attach failed: cinder attachment-delete ${a.id}.`;
    default:
      return `${down}The detach failed: retry cinder attachment-delete ${a.id}, or os-force_detach {"attachment_id": "${a.id}"} (admin).`;
  }
}

/** `serviceDownTimeS`: services whose heartbeat is older than this are down ([DEFAULT] service_down_time). */
export async function staleReport(db: Db, olderThanS: number, now = new Date(), serviceDownTimeS = 60): Promise<StaleReport> {
  const before = dbNow(new Date(now.getTime() - olderThanS * 1000));
  const beats = await volumeServiceHeartbeats(db);
  const serviceOf = (host: string | null) => (host ?? '').split('#')[0];
  const isUp = (host: string | null): boolean | null => {
    const beat = beats.get(serviceOf(host));
    if (beat === undefined) return null;
    return now.getTime() - parseDbTime(beat) <= serviceDownTimeS * 1000;
  };
  const age = (t: string | null) => Math.max(0, Math.round((now.getTime() - parseDbTime(t)) / 1000));
  return {
    older_than: olderThanS,
    generated_at: now.toISOString(),
    volumes: (await staleVolumes(db, before)).map((v) => {
      const up = isUp(v.host);
      return {
        resource: 'volume',
        id: v.id,
        volume_id: v.id,
        status: v.status,
        host: v.host,
        updated_at: v.updated_at,
        age_s: age(v.updated_at),
        service_up: up,
        recovery: volumeRecovery(v, up, serviceOf(v.host)),
      };
    }),
    attachments: (await staleAttachments(db, before)).map((a) => {
      const up = isUp(a.volume_host);
      const down = up === false ? `its cinder-volume (${serviceOf(a.volume_host)}) is down: restart it. ` : '';
      return {
        resource: 'attachment',
        id: a.id,
        volume_id: a.volume_id,
        status: a.attach_status,
        host: a.volume_host,
        updated_at: a.updated_at,
        age_s: age(a.updated_at),
        service_up: up,
        recovery: attachmentRecovery(a, down),
      };
    }),
  };
}

/** The report as an operator reads it in a terminal. */
export function formatStaleReport(r: StaleReport): string {
  const lines = [`stale report: ${r.volumes.length} volume(s), ${r.attachments.length} attachment(s) in a transient status for more than ${r.older_than} s`];
  for (const e of [...r.volumes, ...r.attachments]) {
    const svc = e.service_up === null ? 'no service row' : e.service_up ? 'service up' : 'service DOWN';
    lines.push(`${e.resource} ${e.id}${e.resource === 'attachment' ? ` (volume ${e.volume_id})` : ''}: ${e.status} for ${e.age_s} s on ${e.host ?? '-'} (${svc})`);
    lines.push(`  recovery: ${e.recovery}`);
  }
  return lines.join('\n');
}
