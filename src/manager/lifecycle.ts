// cinder/volume/manager.py VolumeManager's volume lifecycle, called by VolumeManager (manager.ts):
// init_host with its re-exports and CleanableManager.do_cleanup, the @set_workers bookkeeping of
// create_volume and delete_volume, create_volume with the flow's reschedule
// (volume/flows/manager/create_volume.py OnFailureRescheduleTask), and delete_volume.
import { Action, Detail } from '../message/message-field.js';
import { adminContext, type RequestContext } from '../common/context.js';
import { DriverNotInitialized, VolumeAttached, VolumeIsBusy } from '../common/exceptions.js';
import { dbNow } from '../db/client.js';
import * as dbapi from '../db/api.js';
import type { Volume } from '../objects/volume.js';
import type { VolumeManagerDeps } from './manager.js';
import { releaseDeltas, type QuotaEngine } from '../quota/index.js';
import { errText, requireDriverInitialized } from './utils.js';

/** What the scheduler passed along with a create (create_volume's request_spec, filter_properties, allow_reschedule). */
export interface CreateRequest {
  requestSpec?: Record<string, unknown> | null;
  filterProperties?: Record<string, unknown> | null;
  allowReschedule?: boolean;
}

/** The manager's own deps (manager.ts), with the defaults filled in, and its service identity. */
export type LifecycleDeps = Pick<VolumeManagerDeps, 'db' | 'driver' | 'locks' | 'notifier' | 'logger' | 'host' | 'pool' | 'capacity' | 'reschedule' | 'messages'> & {
  reinitDriverCount: number;
  sleep: (ms: number) => Promise<void>;
  quotas: QuotaEngine;
  /** self.service_id and self.service_uuid, read when used: the service sets them as it reports. */
  readonly serviceId: number | null;
  readonly serviceUuid: string | null;
};

/**
 * init_host: set the driver up, re-export in-use volumes (an in-use volume whose export fails
 * goes to error), mark the driver initialized and clean up the work a crash left. A setup failure
 * is retried reinit_driver_count times (after 1, 2, 4 … s); if it still fails the driver stays
 * uninitialized: the service runs and every call answers DriverNotInitialized.
 */
export async function initHost(d: LifecycleDeps): Promise<void> {
  await initHostOnce(d);
  // A storage host that is not ready yet (VG not activated, LIO not loaded) gets a few more tries.
  for (let n = 0; !d.driver.initialized && n < d.reinitDriverCount; n++) {
    await d.sleep(2 ** n * 1000);
    await initHostOnce(d);
  }
}

async function initHostOnce(d: LifecycleDeps): Promise<void> {
  try {
    await d.driver.doSetup();
    await d.driver.checkForSetupError();
  } catch (e) {
    d.logger.error({ err: errText(e) }, 'Failed to initialize driver.');
    return;
  }
  // The backend's capabilities list (what GET /capabilities/{host} shows).
  await d.driver.initCapabilities();
  for (const volume of await myVolumes(d)) {
    if (volume.status !== 'in-use') continue;
    try {
      await d.driver.ensureExport(volume);
    } catch (e) {
      d.logger.error({ volume_id: volume.id, err: errText(e) }, 'Failed to re-export volume, setting to ERROR.');
      await dbapi.volumeConditionalUpdate(d.db, volume.id, { status: 'error' }, { status: 'in-use' });
    }
  }
  d.capacity?.countAllocated(await myVolumes(d));
  d.driver.initialized = true;
  d.logger.info({ host: d.host }, 'Driver initialization completed successfully.');
  await doCleanup(d);
}

/**
 * CleanableManager.do_cleanup at start-up: the work this service had in hand when it stopped
 * (its `workers` rows) is finished. A volume still 'deleting' is deleted again, one still
 * 'creating' goes to 'error'; a row whose volume is gone or moved on is just dropped.
 */
async function doCleanup(d: LifecycleDeps): Promise<void> {
  if (d.serviceId === null) return;
  d.logger.info(`Initiating service ${d.serviceId} cleanup`);
  const ctx = adminContext();
  for (const worker of await dbapi.workersOfService(d.db, d.serviceId)) {
    const volume = await dbapi.volumeGet(d.db, worker.resource_id);
    const log = d.logger.child({ volume_id: worker.resource_id });
    if (!volume) {
      log.debug('Skipping cleanup for non existent Volume.');
    } else if (volume.status !== worker.status) {
      log.debug(`Skipping cleanup for mismatching work on Volume: ${worker.status} <> ${volume.status}.`);
    } else {
      log.info(`Cleaning Volume with status ${worker.status}`);
      try {
        if (worker.status === 'deleting') {
          // delete_volume's own worker handling removes the row when it is done.
          await deleteVolume(d, ctx, volume);
          continue;
        }
        if (worker.status === 'creating' || worker.status === 'downloading') {
          await dbapi.volumeUpdate(d.db, volume.id, { status: 'error' });
        }
      } catch (e) {
        log.error({ err: errText(e) }, 'Could not perform cleanup.');
        continue;
      }
    }
    await dbapi.workerDestroy(d.db, worker.id);
  }
  d.logger.info(`Service ${d.serviceId} cleanup completed.`);
}

/**
 * Cinder's @set_workers on create_volume/delete_volume: while the volume is in a cleanable status
 * a `workers` row names this service; it is removed once the status has moved on (done, or failed
 * into error/error_deleting/available). A process that dies half-way leaves it for doCleanup.
 */
async function withWorker<T>(d: LifecycleDeps, volume: Volume, fn: () => Promise<T>): Promise<T> {
  const status = volume.status ?? '';
  const worker = dbapi.CLEANABLE_VOLUME_STATUSES.includes(status)
    ? await dbapi.workerSet(d.db, volume.id, status, d.serviceId)
    : null;
  try {
    return await fn();
  } finally {
    if (worker && (await dbapi.volumeGet(d.db, volume.id))?.status !== worker.status) await dbapi.workerDestroy(d.db, worker.id);
  }
}

async function myVolumes(d: LifecycleDeps): Promise<Volume[]> {
  return (await dbapi.volumeGetAll(d.db)).filter((v) => v.host !== null && (v.host === d.host || v.host.startsWith(`${d.host}#`)));
}

// ---------------------------------------------------------------------------------------------
// create / delete (casts)

export async function createVolume(d: LifecycleDeps, ctx: RequestContext, volume: Volume, req: CreateRequest = {}): Promise<void> {
  try {
    await withWorker(d, volume, () => createVolumeWorked(d, ctx, volume, req));
  } catch (e) {
    // The flow could not even record its failure (the database was away or locked for longer
    // than the engine waits). Beyond Cinder, whose volume stays 'creating' then: keep trying to
    // set it to 'error' in the background, so no create is lost; the workers row the API wrote
    // covers a restart in the meantime (doCleanup).
    d.logger.error({ request_id: ctx.request_id, volume_id: volume.id, err: errText(e) }, 'Volume create failed on a database error; setting it to error when the database answers.');
    void errorWhenPossible(d, volume.id, 'creating');
  }
}

/** A conditional `status → error` from `from`, retried until the database takes it, then the worker row goes. */
async function errorWhenPossible(d: LifecycleDeps, volumeId: string, from: string): Promise<void> {
  for (let wait = 1000; ; wait = Math.min(wait * 2, 30_000)) {
    try {
      await dbapi.volumeConditionalUpdate(d.db, volumeId, { status: 'error' }, { status: from });
      await dbapi.workerDestroyFor(d.db, volumeId, from);
      d.logger.info({ volume_id: volumeId }, `Volume left '${from}' for 'error' after a database error.`);
      return;
    } catch (e) {
      d.logger.warn({ volume_id: volumeId, err: errText(e) }, `Database still unavailable; volume stays '${from}' for now.`);
      await new Promise((r) => setTimeout(r, wait).unref());
    }
  }
}

async function createVolumeWorked(d: LifecycleDeps, ctx: RequestContext, volume: Volume, req: CreateRequest): Promise<void> {
  const log = d.logger.child({ request_id: ctx.request_id, volume_id: volume.id });
  // The scheduler sends host@backend#pool; a create cast straight here (a Python peer's API with
  // a backend named) gets this backend's pool, as the scheduler would have chosen.
  const host = volume.host && volume.host.includes('#') ? volume.host : `${d.host}#${d.pool}`;
  if (host !== volume.host) {
    await dbapi.volumeUpdate(d.db, volume.id, { host });
    volume.host = host;
  }
  d.notifier.info(ctx, volume, 'create.start');
  try {
    requireDriverInitialized(d.driver);
    // _create_raw_volume: a driver failure is a user message (CREATE_VOLUME_FROM_BACKEND).
    const update = await d.driver.createVolume(volume).catch(async (e: unknown) => {
      await d.messages?.create(ctx, Action.CREATE_VOLUME_FROM_BACKEND, { resourceUuid: volume.id, detail: Detail.DRIVER_FAILED_CREATE, exception: e });
      throw e;
    });
    await dbapi.volumeUpdate(d.db, volume.id, {
      ...(update ?? {}),
      status: 'available',
      launched_at: dbNow(),
      // Nova reads these (3.48+) to decide whether os-brick must lock around the iSCSI connect.
      shared_targets: d.driver.sharedTargets,
      service_uuid: d.serviceUuid,
    });
  } catch (e) {
    if (await rescheduled(d, ctx, volume, req, e)) return;
    log.error({ err: errText(e) }, 'Volume create failed.');
    await dbapi.volumeUpdate(d.db, volume.id, { status: 'error' });
    return;
  }
  d.capacity?.add(host, volume.size);
  d.notifier.info(ctx, await dbapi.volumeGetOrThrow(d.db, volume.id), 'create.end');
  log.info('Created volume successfully.');
}

/**
 * OnFailureRescheduleTask (volume/flows/manager/create_volume.py): a create that failed on the
 * driver goes back to the scheduler when the scheduler sent retry information and allowed it.
 * The volume stays 'creating' with no host; the scheduler's retry filter skips this backend
 * and gives up after scheduler_max_attempts. Whatever the failed try left is deleted after.
 */
async function rescheduled(d: LifecycleDeps, ctx: RequestContext, volume: Volume, req: CreateRequest, cause: unknown): Promise<boolean> {
  const retry = req.filterProperties?.retry as Record<string, unknown> | undefined;
  if (!d.reschedule || !req.allowReschedule || !req.requestSpec || !retry || cause instanceof DriverNotInitialized) return false;
  const log = d.logger.child({ request_id: ctx.request_id, volume_id: volume.id });
  try {
    await dbapi.volumeUpdate(d.db, volume.id, { scheduled_at: dbNow(), host: null });
    log.debug(`Volume ${volume.id}: re-scheduling create_volume attempt ${String(retry.num_attempts ?? 0)} due to ${errText(cause)}`);
    retry.exc = [errText(cause)];
    await d.reschedule(ctx, { ...volume, host: null }, { ...req.requestSpec, volume_id: volume.id }, req.filterProperties!);
  } catch (e) {
    log.error({ err: errText(e) }, `Volume ${volume.id}: rescheduling failed`);
    return false;
  }
  log.debug(`Volume ${volume.id}: re-scheduled`);
  await d.driver.deleteVolume(volume).catch(() => undefined);
  return true;
}

export async function deleteVolume(d: LifecycleDeps, ctx: RequestContext, volume: Volume, unmanageOnly = false): Promise<void> {
  await withWorker(d, volume, () =>
    d.locks.withLock(`${volume.id}-delete_volume`, () => deleteVolumeLocked(d, ctx, volume, unmanageOnly)),
  );
  await d.locks.removeVolumeLocks?.(volume.id);
}

async function deleteVolumeLocked(d: LifecycleDeps, ctx: RequestContext, volume: Volume, unmanageOnly: boolean): Promise<void> {
  const log = d.logger.child({ request_id: ctx.request_id, volume_id: volume.id });
  const current = await dbapi.volumeGet(d.db, volume.id);
  if (!current) {
    log.debug('Tried to delete volume, but it no longer exists, moving on.');
    return;
  }
  if (current.attach_status === 'attached') {
    // Async after a cast: the client never sees this, the status is left as is.
    const e = new VolumeAttached({ volume_id: volume.id });
    log.error({ err: e.message }, 'Unable to delete volume.');
    return;
  }
  // Temporary and migrating volumes touch no quota and send no usage notifications.
  const isMigrating = ![null, 'error', 'success'].includes(current.migration_status ?? null);
  const doQuota = !(current.use_quota === false || isMigrating || current.admin_metadata.temporary === 'True');
  const event = unmanageOnly ? 'unmanage' : 'delete';
  if (doQuota) d.notifier.info(ctx, current, `${event}.start`);
  try {
    requireDriverInitialized(d.driver);
    await d.driver.removeExport(current);
    if (!unmanageOnly) await d.driver.deleteVolume(current);
  } catch (e) {
    if (e instanceof VolumeIsBusy) {
      log.error({ err: e.message }, 'Unable to delete busy volume.');
      await dbapi.volumeUpdate(d.db, volume.id, { status: 'available' });
      return;
    }
    log.error({ err: errText(e) }, 'Unable to delete volume.');
    await dbapi.volumeUpdate(d.db, volume.id, { status: unmanageOnly ? 'error_unmanaging' : 'error_deleting' });
    return;
  }
  // volume/manager.py delete_volume: reserve the negative deltas, destroy, then commit them.
  let reservations: string[] | null = null;
  if (doQuota && current.status !== 'error_managing_deleting') {
    const projectId = current.project_id;
    reservations = await releaseDeltas(d.quotas, current)
      .then((deltas) => d.quotas.reserve(ctx, deltas, { projectId }))
      .catch((e: unknown) => (log.error({ err: errText(e) }, 'Failed to update usages deleting volume.'), null));
  }
  await dbapi.volumeDestroy(d.db, volume.id);
  if (reservations) await d.quotas.commit(ctx, reservations, { projectId: current.project_id });
  // The object as volume.destroy() leaves it: status 'deleted', its attachments gone with it.
  if (doQuota) {
    d.notifier.info(ctx, { ...current, status: 'deleted', migration_status: null, volume_attachment: [] }, `${event}.end`);
    // The freed space goes to the schedulers at once, not at the next periodic report.
    d.capacity?.add(current.host, -(current.size ?? 0));
    await d.capacity?.publishServiceCapabilities(ctx);
  }
  log.info('Deleted volume successfully.');
}
