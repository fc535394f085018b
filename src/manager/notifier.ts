// volume_utils.notify_about_volume_usage: event type volume.<suffix>, priority INFO, publisher
// volume.<host>. Emitted as a structured log line (event_type + payload) — the notification bus
// of a Cinder deployment is optional, and the log is where operators look first.
import type { RequestContext } from '../common/context.js';
import type { Logger } from '../common/log.js';
import type { Volume } from '../objects/volume.js';

export interface Notifier {
  info(ctx: RequestContext, volume: Volume, suffix: string): void;
}

function iso(v: string | null): string | null {
  return v ? `${v.replace(' ', 'T').slice(0, 19)}+00:00` : null;
}

/** The usage payload of volume_utils._usage_from_volume, minus glance metadata. */
export function usagePayload(volume: Volume, host: string) {
  return {
    tenant_id: volume.project_id,
    host,
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
    metadata: volume.metadata,
    volume_attachment: volume.volume_attachment
      .filter((a) => a.attach_status !== 'detached')
      .map((a) => ({ id: a.id, instance_uuid: a.instance_uuid, attach_status: a.attach_status, mountpoint: a.mountpoint })),
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
        payload: usagePayload(volume, this.host),
      },
      `notification volume.${suffix}`,
    );
  }
}
