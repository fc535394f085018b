// volume_utils.notify_about_volume_usage: event type volume.<suffix>, priority INFO, publisher
// volume.<host>. Emitted as a structured log line (event_type + payload) — the notification bus
// of a Cinder deployment is optional, and the log is where operators look first.
import type { RequestContext } from '../common/context.js';
import type { Logger } from '../common/log.js';
import type { Volume } from '../objects/volume.js';

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

/**
 * The usage payload of volume_utils._usage_from_volume, minus glance metadata. `metadata` is
 * null as in Cinder (it asks the Volume object for `volume_metadata`, which it does not have), and
 * an attachment's connection_info stays out of it: these payloads go to the log, CHAP secrets never.
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
    status: volume.status,
    snapshot_id: volume.snapshot_id,
    size: volume.size,
    replication_status: volume.replication_status,
    replication_extended_status: volume.replication_extended_status,
    replication_driver_data: volume.replication_driver_data,
    metadata: null,
    volume_attachment: volume.volume_attachment
      .filter((a) => a.attach_status !== 'detached')
      .map(({ connection_info: _secret, ...row }) => row),
  };
}

export class LogNotifier implements Notifier {
  constructor(
    private readonly logger: Logger,
    private readonly host: string,
  ) {}

  info(ctx: RequestContext, volume: Volume, suffix: string): void {
    this.logger.info(
      {
        notification: true,
        event_type: `volume.${suffix}`,
        priority: 'INFO',
        publisher_id: `volume.${this.host}`,
        request_id: ctx.request_id,
        volume_id: volume.id,
        payload: usagePayload(volume),
      },
      `notification volume.${suffix}`,
    );
  }
}
