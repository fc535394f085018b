// What the stale report reads: volumes and attachments sitting in a transient status since before
// a cut-off, with what recovery needs to know (the volume's workers row, whether its
// cinder-volume service is heartbeating). Read-only.
import { and, eq, inArray, lt } from 'drizzle-orm';
import type { Db } from './client.js';

/** Volume statuses that mean work in hand (and that no client request leaves a volume in for long). */
export const TRANSIENT_VOLUME_STATUSES = ['creating', 'deleting', 'attaching', 'detaching', 'reserved', 'error_detaching'] as const;
/** Attachment statuses of the same kind (a reserved row waits for Nova's update). */
export const TRANSIENT_ATTACH_STATUSES = ['attaching', 'detaching', 'reserved', 'error_detaching', 'error_attaching'] as const;

export interface StaleVolumeRow {
  id: string;
  project_id: string | null;
  status: string | null;
  attach_status: string | null;
  host: string | null;
  updated_at: string | null;
  /** services.id of the workers row claiming the volume, if any. */
  worker_service_id: number | null;
}

export interface StaleAttachmentRow {
  id: string;
  volume_id: string;
  attach_status: string | null;
  instance_uuid: string | null;
  attached_host: string | null;
  updated_at: string | null;
  volume_status: string | null;
  volume_host: string | null;
}

/** Live volumes in a transient status last updated before `before` (DB time text). */
export function staleVolumes(db: Db, before: string): Promise<StaleVolumeRow[]> {
  const { volumes, workers } = db.t;
  return db.run((q) => q
    .select({
      id: volumes.id,
      project_id: volumes.project_id,
      status: volumes.status,
      attach_status: volumes.attach_status,
      host: volumes.host,
      updated_at: volumes.updated_at,
      worker_service_id: workers.service_id,
    })
    .from(volumes)
    .leftJoin(workers, and(eq(workers.resource_type, 'Volume'), eq(workers.resource_id, volumes.id)))
    .where(and(eq(volumes.deleted, false), inArray(volumes.status, [...TRANSIENT_VOLUME_STATUSES]), lt(volumes.updated_at, before)))
    .orderBy(volumes.updated_at));
}

/** Live attachment rows in a transient status last updated before `before`. */
export function staleAttachments(db: Db, before: string): Promise<StaleAttachmentRow[]> {
  const { volumes, volumeAttachment } = db.t;
  return db.run((q) => q
    .select({
      id: volumeAttachment.id,
      volume_id: volumeAttachment.volume_id,
      attach_status: volumeAttachment.attach_status,
      instance_uuid: volumeAttachment.instance_uuid,
      attached_host: volumeAttachment.attached_host,
      updated_at: volumeAttachment.updated_at,
      volume_status: volumes.status,
      volume_host: volumes.host,
    })
    .from(volumeAttachment)
    .innerJoin(volumes, eq(volumes.id, volumeAttachment.volume_id))
    .where(
      and(
        eq(volumeAttachment.deleted, false),
        inArray(volumeAttachment.attach_status, [...TRANSIENT_ATTACH_STATUSES]),
        lt(volumeAttachment.updated_at, before),
      ),
    )
    .orderBy(volumeAttachment.updated_at));
}

/** Every cinder-volume service row: host → last heartbeat (DB time text). */
export async function volumeServiceHeartbeats(db: Db): Promise<Map<string, string | null>> {
  const { services } = db.t;
  const rows = await db.run((q) =>
    q
      .select({ host: services.host, updated_at: services.updated_at })
      .from(services)
      .where(and(eq(services.binary, 'cinder-volume'), eq(services.deleted, false))),
  );
  return new Map(rows.map((r) => [r.host ?? '', r.updated_at]));
}
