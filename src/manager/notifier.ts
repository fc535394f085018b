// volume_utils.notify_about_volume_usage: event type volume.<suffix>, priority INFO, publisher
// volume.<host> (the manager passes its host@backend, the API CONF.host), payload
// _usage_from_volume. Sent through the process's oslo Notifier (src/notifier/notifier.ts), which
// does nothing, as Cinder, unless [oslo_messaging_notifications] driver is set
// (@utils.if_notifications_enabled).
import type { RequestContext } from '../common/context.js';
import { pyJsonDumps } from '../common/pyjson.js';
import type { OsloNotifier } from '../notifier/notifier.js';
import type { Volume, VolumeAttachment } from '../objects/volume.js';

export interface Notifier {
  info(ctx: RequestContext, volume: Volume, suffix: string): void;
}

/**
 * datetime.isoformat() of a DB timestamp as the Volume object holds it (UTC-aware, microseconds
 * only when not zero); a missing one is utcnow(), which is naive (no offset), as Cinder writes it.
 */
function iso(v: string | null): string {
  if (!v) return isoNaive(new Date().toISOString().replace('T', ' ').replace('Z', '000'));
  return `${isoNaive(v)}+00:00`;
}
function isoNaive(v: string): string {
  const [date, time = '00:00:00'] = v.split(' ');
  const [hms, frac = ''] = time.split('.');
  const micro = frac.padEnd(6, '0').slice(0, 6);
  return `${date}T${hms}${/^0+$/.test(micro) ? '' : `.${micro}`}`;
}

/** jsonutils.to_primitive of a naive DB datetime: strftime('%Y-%m-%dT%H:%M:%S.%f'). */
function perfectTime(v: string | null | undefined): string | null {
  if (!v) return null;
  const [date, time = '00:00:00'] = v.replace('T', ' ').replace(/Z|\+00:00$/, '').split(' ');
  const [hms, frac = ''] = time.split('.');
  return `${date}T${hms}.${frac.padEnd(6, '0').slice(0, 6)}`;
}

const VOLUME_TIMES = ['created_at', 'updated_at', 'deleted_at', 'scheduled_at', 'launched_at', 'terminated_at'];
const VOLUME_EXTRAS = new Set(['volume_attachment', 'admin_metadata', 'metadata', 'volume_type']);

/** models.Volume's columns in its declaration order (mixins first), as ModelBase iterates them. */
const VOLUME_COLUMN_ORDER = [
  'created_at', 'updated_at', 'deleted_at', 'deleted', 'id', '_name_id', 'use_quota', 'ec2_id', 'user_id', 'project_id',
  'snapshot_id', 'cluster_name', 'host', 'size', 'availability_zone', 'status', 'attach_status', 'migration_status',
  'scheduled_at', 'launched_at', 'terminated_at', 'display_name', 'display_description', 'provider_location',
  'provider_auth', 'provider_geometry', 'provider_id', 'volume_type_id', 'source_volid', 'encryption_key_id',
  'consistencygroup_id', 'group_id', 'bootable', 'multiattach', 'replication_status', 'replication_extended_status',
  'replication_driver_data', 'previous_status', 'service_uuid', 'shared_targets',
];

/**
 * The joined `volume` of an attachment model, as to_primitive renders it: its columns (checked
 * against Cinder 21.3.1's _usage_from_volume on the same rows), nothing nested.
 */
function volumeColumns(volume: Volume): Record<string, unknown> {
  const row = volume as unknown as Record<string, unknown>;
  const keys = [...VOLUME_COLUMN_ORDER.filter((k) => k in row), ...Object.keys(row).filter((k) => !VOLUME_COLUMN_ORDER.includes(k))];
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (VOLUME_EXTRAS.has(k)) continue;
    out[k] = VOLUME_TIMES.includes(k) ? perfectTime(row[k] as string | null) : row[k];
  }
  return out;
}

/**
 * One volume_attachment model of db.volume_attachment_get_all_by_volume_id through to_primitive:
 * its columns (connector and connection_info are the JSON text the DB holds), then the joined volume.
 */
function attachmentPrimitive(a: VolumeAttachment, volume: Volume): Record<string, unknown> {
  return {
    created_at: perfectTime(a.created_at),
    updated_at: perfectTime(a.updated_at),
    deleted_at: perfectTime(a.deleted_at),
    deleted: a.deleted,
    id: a.id,
    volume_id: a.volume_id,
    instance_uuid: a.instance_uuid,
    attached_host: a.attached_host,
    mountpoint: a.mountpoint,
    attach_time: perfectTime(a.attach_time),
    detach_time: perfectTime(a.detach_time),
    attach_status: a.attach_status,
    attach_mode: a.attach_mode,
    connection_info: a.connection_info === null ? null : pyJsonDumps(a.connection_info),
    connector: a.connector === null ? null : pyJsonDumps(a.connector),
    volume: volumeColumns(volume),
  };
}

/**
 * volume_utils._usage_from_volume. `metadata` is the Volume object's `volume_metadata` property:
 * the user metadata as [{key, value}]; `volume_attachment` is the volume's attachments that are
 * not 'detached'; no glance_metadata (this port keeps none, and Cinder leaves the key out when
 * there is none). Checked key by key against Cinder 21.3.1's on the same database rows.
 */
export function usagePayload(volume: Volume) {
  return {
    tenant_id: volume.project_id,
    host: volume.host,
    user_id: volume.user_id,
    availability_zone: volume.availability_zone,
    volume_id: volume.id,
    volume_type: volume.volume_type_id,
    display_name: volume.display_name,
    launched_at: iso(volume.launched_at),
    created_at: iso(volume.created_at),
    status: volume.status === 'error_managing_deleting' ? 'deleting' : volume.status,
    snapshot_id: volume.snapshot_id,
    size: volume.size,
    replication_status: volume.replication_status,
    replication_extended_status: volume.replication_extended_status,
    replication_driver_data: volume.replication_driver_data,
    metadata: Object.entries(volume.metadata ?? {}).map(([key, value]) => ({ key, value })),
    volume_attachment: volume.volume_attachment
      .filter((a) => a.attach_status !== 'detached' && !a.deleted)
      .map((a) => attachmentPrimitive(a, volume)),
  };
}

/** rpc.get_notifier('volume', host).info(context, 'volume.<suffix>', usage). */
export class VolumeUsageNotifier implements Notifier {
  constructor(
    private readonly notifier: OsloNotifier,
    private readonly host: string,
  ) {}

  info(ctx: RequestContext, volume: Volume, suffix: string): void {
    if (!this.notifier.enabled) return; // @utils.if_notifications_enabled: not even the payload is built
    this.notifier.info(ctx, `volume.${this.host}`, `volume.${suffix}`, usagePayload(volume));
  }
}
