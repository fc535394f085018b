// cinder/volume/manager.py VolumeManager.extend_volume, for the `extend_volume` cast (3.0) the
// scheduler sends once the volume's backend still has room: volume.resize.start, the driver's
// extend_volume (LVM: lvextend, then the target's extend_target), the quota commit, the new size
// and the status the volume had before ('available', or 'in-use' with attachments, when Nova is
// told), the pool's allocated capacity, volume.resize.end. A driver failure leaves the volume
// 'error_extending' with a user message and rolls the reservations back; the cast then ends quietly.
import type { RequestContext } from '../common/context.js';
import { DriverNotInitialized, TargetUpdateFailed } from '../common/exceptions.js';
import * as dbapi from '../db/api.js';
import type { Volume } from '../objects/volume.js';
import type { VolumeManagerDeps } from './manager.js';
import { errText, requireDriverInitialized } from './utils.js';
import type { QuotaEngine } from '../quota/index.js';
import { Action, Detail } from '../message/message-field.js';

export type ExtendDeps = Pick<VolumeManagerDeps, 'db' | 'driver' | 'notifier' | 'logger' | 'messages'> & {
  capacity?: Pick<NonNullable<VolumeManagerDeps['capacity']>, 'add'>;
  /** QUOTAS.commit / QUOTAS.rollback of the reservations the API made. */
  quota?: Pick<QuotaEngine, 'commit' | 'rollback'>;
  /** compute.API().extend_volume(context, instance_uuids, volume_id): the volume-extended event. */
  nova?: { extendVolume(ctx: RequestContext, serverIds: (string | null)[], volumeId: string): Promise<boolean> };
};

export async function extendVolume(d: ExtendDeps, ctx: RequestContext, volume: Volume, newSize: number, reservations: string[] | null): Promise<void> {
  const log = d.logger.child({ request_id: ctx.request_id, volume_id: volume.id });
  try {
    requireDriverInitialized(d.driver);
  } catch (e) {
    if (e instanceof DriverNotInitialized) await dbapi.volumeUpdate(d.db, volume.id, { status: 'error_extending' });
    throw e;
  }
  const projectId = volume.project_id;
  const sizeIncrease = Math.trunc(newSize) - (volume.size ?? 0);
  d.notifier.info(ctx, volume, 'resize.start');
  try {
    if (!d.driver.extendVolume) throw new Error('NotImplementedError: extend_volume');
    await d.driver.extendVolume(volume, newSize);
  } catch (e) {
    if (e instanceof TargetUpdateFailed) {
      // The LV grew; only the target could not follow: carry on to the commit.
      log.warn('Volume extended but failed to update target.');
    } else {
      log.error({ err: errText(e) }, 'Extend volume failed.');
      await d.messages?.create(ctx, Action.EXTEND_VOLUME, { resourceUuid: volume.id, detail: Detail.DRIVER_FAILED_EXTEND });
      try {
        await dbapi.volumeUpdate(d.db, volume.id, { status: 'error_extending' });
      } finally {
        await d.quota?.rollback(ctx, reservations, { projectId });
      }
      // Cinder raises CinderException("Volume <id>: Error trying to extend volume") inside a
      // try whose finally returns: the cast ends without an error.
      return;
    }
  }
  await d.quota?.commit(ctx, reservations, { projectId });

  const attachments = volume.volume_attachment ?? [];
  const status = attachments.length === 0 ? 'available' : 'in-use';
  await dbapi.volumeUpdate(d.db, volume.id, { size: Math.trunc(newSize), status });
  const updated: Volume = { ...volume, size: Math.trunc(newSize), status };

  if (status === 'in-use') {
    const serverIds = attachments.map((a) => a.instance_uuid);
    if (d.nova) {
      await d.nova.extendVolume(ctx, serverIds, volume.id);
    } else {
      log.warn({ servers: serverIds }, 'No Nova client here: the volume-extended event was not sent.');
    }
  }
  d.capacity?.add(volume.host, sizeIncrease);
  d.notifier.info(ctx, updated, 'resize.end');
  log.info('Extend volume completed successfully.');
}
