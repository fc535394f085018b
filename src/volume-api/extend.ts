// cinder/volume/api.py extend / extend_attached_volume / _extend: the policy, the size check, the
// type's size limits, the conditional update to 'extending' (remembering previous_status), the
// quota steps, then the cast to the scheduler, which checks the backend still has room and casts
// extend_volume to the volume's host.
import type { RequestContext } from '../common/context.js';
import { InvalidInput, InvalidVolume } from '../common/exceptions.js';
import type { Logger } from '../common/log.js';
import { authorize } from '../common/policy.js';
import type { Db } from '../db/client.js';
import * as dbapi from '../db/api.js';
import { volumeTypeGet } from '../db/volume-types.js';
import type { Volume } from '../objects/volume.js';
import type { SchedulerRpcApi } from '../rpc/scheduler-rpcapi.js';
import { volumeToDict, volumeTypeToDict } from './retype.js';
import { provisionFilterOnSize } from './volume-types.js';
import { reserveForExtend, type QuotaEngine } from '../quota/index.js';

export interface ExtendDeps {
  db: Db;
  quotas: QuotaEngine;
  scheduler: Pick<SchedulerRpcApi, 'extendVolume'>;
  logger: Logger;
}

/** What the os-extend action calls (the volume as api.get loaded it). */
export interface ExtendApiSurface {
  extend(ctx: RequestContext, volume: Volume, newSize: number): Promise<void>;
  extendAttachedVolume(ctx: RequestContext, volume: Volume, newSize: number): Promise<void>;
}

/** volume/api.py extend: policy volume:extend, the volume must be 'available'. */
export function extend(d: ExtendDeps, ctx: RequestContext, volume: Volume, newSize: number): Promise<void> {
  authorize(ctx, 'volume:extend', volume);
  return extendVolume(d, ctx, volume, newSize, false);
}

/** volume/api.py extend_attached_volume (3.42): policy volume:extend_attached_volume, 'in-use'. */
export function extendAttached(d: ExtendDeps, ctx: RequestContext, volume: Volume, newSize: number): Promise<void> {
  authorize(ctx, 'volume:extend_attached_volume', volume);
  return extendVolume(d, ctx, volume, newSize, true);
}

/** volume/api.py _extend. */
async function extendVolume(d: ExtendDeps, ctx: RequestContext, volume: Volume, newSize: number, attached: boolean): Promise<void> {
  const log = d.logger.child({ request_id: ctx.request_id, volume_id: volume.id });
  const expected = attached ? 'in-use' : 'available';
  const size = volume.size ?? 0;
  if (newSize - size <= 0) {
    throw new InvalidInput({
      reason: `New size for extend must be greater than current size. (current: ${size}, extended: ${newSize}).`,
    });
  }
  // volume_types.get_volume_type: a missing or invalid type means no size limits. (Cinder reads it
  // under the caller's context first; a project's own volume's type is readable to it either way.)
  const volumeType = volume.volume_type_id ? await volumeTypeGet(d.db, volume.volume_type_id) : null;
  if (volumeType) provisionFilterOnSize(volumeType, newSize);

  const ok = await dbapi.volumeConditionalUpdate(
    d.db,
    volume.id,
    { status: 'extending', previous_status: volume.status },
    { status: expected },
  );
  if (!ok) {
    // %(expected)s is str() of the expected-values dict.
    throw new InvalidVolume({
      reason: `Volume ${volume.id} status must be '{'status': '${expected}'}' to extend, currently ${volume.status}.`,
    });
  }

  // Any failure of the two quota steps puts the status back (_roll_back_status), as Cinder does
  // whatever the exception.
  const rollBackStatus = () =>
    dbapi.volumeConditionalUpdate(d.db, volume.id, { status: volume.status }, { status: 'extending', previous_status: volume.status });
  let reservations: string[];
  try {
    reservations = await reserveForExtend(d.quotas, ctx, volume, newSize);
  } catch (e) {
    await rollBackStatus();
    throw e;
  }

  const current = await dbapi.volumeGetOrThrow(d.db, volume.id);
  // get_volume_type(context.elevated(), ...): any type, whatever the project's access.
  const typeDict = volumeType;
  const requestSpec: Record<string, unknown> = {
    volume_properties: volumeToDict(current, ctx.is_admin),
    volume_type: typeDict ? volumeTypeToDict(typeDict) : {},
    volume_id: volume.id,
  };
  await d.scheduler.extendVolume(ctx, current, newSize, reservations, requestSpec);
  log.info('Extend volume request issued successfully.');
}
