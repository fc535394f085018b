// cinder/volume/manager.py VolumeManager.retype, called by VolumeManager.retype (manager.ts) for the
// `retype` cast the scheduler sends once the new type fits a backend. When the types are equal, or
// the backend is this one and the driver retypes in place (the LVM driver always can: lvm.py retype
// returns True and runs nothing), the volume takes the new type and its previous status back.
// Otherwise a migration is needed: refused with migration_policy 'never' as in Cinder, and not
// implemented in this port for 'on-demand' (it fails as a failed migration does in Cinder).
// Quotas are not implemented in this port: there are no reservations to commit or roll back.
import type { QuotaEngine } from '../quota/index.js';
import type { RequestContext } from '../common/context.js';
import { DriverNotInitialized, InvalidVolume, VolumeMigrationFailed } from '../common/exceptions.js';
import * as dbapi from '../db/api.js';
import { volumeTypesDiff, type TypesDiff } from '../db/retype.js';
import { volumeTypeGet } from '../db/volume-types.js';
import type { ModelUpdate } from '../drivers/driver.js';
import { isBooleanSpec, type Volume } from '../objects/volume.js';
import type { VolumeManagerDeps } from './manager.js';

/** The `host` argument: the backend the scheduler chose (volume/rpcapi.py retype's backend_p). */
export interface RetypeHost {
  host: string;
  cluster_name?: string | null;
  capabilities?: Record<string, unknown>;
  [k: string]: unknown;
}

/** The manager's deps (manager.ts) retype uses; `cluster` is self.driver.cluster_name (none here). */
export type RetypeDeps = Pick<VolumeManagerDeps, 'db' | 'driver' | 'locks' | 'notifier' | 'logger' | 'host'> & {
  cluster?: string | null;
  capacity?: Pick<NonNullable<VolumeManagerDeps['capacity']>, 'publishServiceCapabilities'>;
  /** QUOTAS, for the reservations the API took (committed on success, rolled back on failure). */
  quotas?: QuotaEngine;
};

/** The API's reservations for the new type and (negative) for the old one (volume/api.py retype). */
export interface RetypeReservations {
  reservations?: string[] | null;
  oldReservations?: string[] | null;
}

/** volume_utils.hosts_are_equivalent: the same backend, pools aside (None only equals None). */
function hostsAreEquivalent(h1: string | null | undefined, h2: string | null | undefined): boolean {
  if (!(h1 && h2)) return (h1 ?? null) === (h2 ?? null);
  return h1.split('#')[0] === h2.split('#')[0];
}

/** _set_replication_status: a replication_enabled difference decides the new replication_status. */
function setReplicationStatus(diff: TypesDiff, update: Record<string, unknown>): void {
  if (update.replication_status) return;
  const change = diff.extra_specs.replication_enabled;
  if (!change) return;
  update.replication_status = isBooleanSpec(change[1] as string | null) ? 'enabled' : 'disabled';
}

export async function retypeVolume(
  d: RetypeDeps,
  ctx: RequestContext,
  volume: Volume,
  newTypeId: string,
  host: RetypeHost,
  migrationPolicy: string | null = 'never',
  res: RetypeReservations = {},
): Promise<void> {
  // Beyond Cinder (whose retype takes no lock): the per-volume lock of attach_volume, so a retype
  // and the manager's other work on the volume do not interleave.
  await d.locks.withLock(volume.id, async () => {
    const log = d.logger.child({ request_id: ctx.request_id, volume_id: volume.id });
    const previousStatus = volume.previous_status || volume.status;
    const statusUpdate = { status: previousStatus };
    // _retype_error: the status back, then both reservations rolled back.
    const retypeError = async () => {
      await dbapi.volumeUpdate(d.db, volume.id, statusUpdate);
      if (res.oldReservations) await d.quotas?.rollback(ctx, res.oldReservations);
      if (res.reservations) await d.quotas?.rollback(ctx, res.reservations);
    };

    if (!d.driver.initialized) {
      log.error(`Volume driver ${d.driver.constructor.name} not initialized`);
      await retypeError();
      throw new DriverNotInitialized();
    }

    // Types with the same contents: nothing to do on the backend.
    const [diff, allEqual] = await volumeTypesDiff(d.db, volume.volume_type_id, newTypeId);
    let retyped = allEqual;
    let retypeModelUpdate: ModelUpdate | null = null;

    // The driver only for this backend (a driver that retypes another one would report a
    // migration as done), and never for an encryption change.
    const isOurBackend = host.cluster_name ? hostsAreEquivalent(d.cluster, host.cluster_name) : hostsAreEquivalent(d.host, host.host);
    if (!retyped && Object.keys(diff.encryption).length === 0 && isOurBackend) {
      try {
        const newType = await volumeTypeGet(d.db, newTypeId);
        if (!newType) throw new Error(`Volume type ${newTypeId} could not be found.`);
        const ret = d.driver.retype ? await d.driver.retype(volume, newType, diff, host) : ([false, null] as [boolean, null]);
        if (Array.isArray(ret)) [retyped, retypeModelUpdate] = ret;
        else retyped = ret;
        if (retyped) log.info(`Volume ${volume.id}: retyped successfully.`);
      } catch (e) {
        retyped = false;
        log.error({ err: e instanceof Error ? e.message : String(e) }, `Volume ${volume.id}: driver error when trying to retype, falling back to generic mechanism.`);
      }
    }

    if (!retyped) {
      if (migrationPolicy === 'never') {
        await retypeError();
        throw new VolumeMigrationFailed({ reason: 'Retype requires migration but is not allowed.' });
      }
      // No snapshots in this port, so the "Volume must not have snapshots." refusal never applies.
      const rep = volume.replication_status;
      if (rep !== null && rep !== undefined && rep !== 'disabled' && rep !== 'not-capable') {
        await retypeError();
        log.error('Volume must not be replicated.');
        throw new InvalidVolume({ reason: 'Volume must not be replicated.' });
      }
      await dbapi.volumeUpdate(d.db, volume.id, { migration_status: 'starting' });
      try {
        await migrateVolume(d, volume);
      } catch (e) {
        await retypeError();
        throw e;
      }
    } else {
      const update: Record<string, unknown> = {
        volume_type_id: newTypeId,
        host: host.host,
        cluster_name: host.cluster_name ?? null,
        status: statusUpdate.status,
        ...(retypeModelUpdate ?? {}),
      };
      setReplicationStatus(diff, update);
      await dbapi.volumeUpdate(d.db, volume.id, update);
      // No snapshots in this port whose type would follow the volume's.
    }

    // _notify_about_volume_usage(context, volume, "retype", extra_usage_info={'volume_type': new_type_id}).
    const projectId = volume.project_id;
    if (res.oldReservations) await d.quotas?.commit(ctx, res.oldReservations, { projectId });
    if (res.reservations) await d.quotas?.commit(ctx, res.reservations, { projectId });
    const after = await dbapi.volumeGetOrThrow(d.db, volume.id);
    d.notifier.info(ctx, { ...after, volume_type_id: newTypeId }, 'retype');
    await d.capacity?.publishServiceCapabilities(ctx);
    log.info('Retype volume completed successfully.');
  });
}

/**
 * migrate_volume(ctxt, volume, host, new_type_id=..., diff=...) as far as this port goes: the
 * status bookkeeping of Cinder's, then the failure of a migration (neither the LVM driver's local
 * copy nor the generic create-and-copy migration is ported), which Cinder records as
 * migration_status 'error' with the previous status back.
 */
async function migrateVolume(d: RetypeDeps, volume: Volume): Promise<void> {
  const statusUpdate = volume.status === 'retyping' || volume.status === 'maintenance' ? { status: volume.previous_status } : {};
  await dbapi.volumeUpdate(d.db, volume.id, { migration_status: 'migrating' });
  const e = new VolumeMigrationFailed({ reason: 'volume migration is not implemented in cinder-ts' });
  d.logger.error({ volume_id: volume.id, err: e.message }, 'Volume migration failed.');
  await dbapi.volumeUpdate(d.db, volume.id, { migration_status: 'error', ...statusUpdate });
  throw e;
}
