// cinder/volume/manager.py VolumeManager for the attach/detach path: the decision trees, the
// per-volume locks held across the driver calls, and Cinder's DB writes on success and on error.
import { frontEndQos, typeExtraSpecs } from './qos.js';
import { adminContext, type RequestContext } from '../common/context.js';
import type { Db } from '../db/client.js';
import { dbNow } from '../db/client.js';
import * as dbapi from '../db/api.js';
import type { VolumeDriver } from '../drivers/driver.js';
import {
  CinderException,
  DriverNotInitialized,
  ExportFailure,
  InvalidConnectorException,
  InvalidInput,
  InvalidUUID,
  InvalidVolume,
  InvalidVolumeAttachMode,
  RemoveExportException,
  VolumeAttached,
  VolumeAttachmentNotFound,
  VolumeBackendAPIException,
  VolumeIsBusy,
} from '../common/exceptions.js';
import type { Connector, Volume, VolumeAttachment } from '../objects/volume.js';
import type { Logger } from '../common/log.js';
import type { Notifier } from './notifier.js';
import { sanitizeHostname } from './utils.js';
import { isUuidLike } from '../common/uuid.js';
import { retypeVolume, type RetypeHost } from './retype.js';

/** Runs fn while holding the named inter-process lock (tooz file lock `cinder-<name>`). */
export interface VolumeLocks {
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  removeVolumeLocks?(volumeId: string): Promise<void> | void;
}

/**
 * Beyond Cinder (whose manager takes no lock here): every change of a volume's ACLs on this host
 * and every decision that reads its attachments to choose one (initialize_connection,
 * terminate_connection, attachment_update, attachment_delete) run one at a time per volume.
 * Without it, two attachment_deletes of a multiattach volume on one compute host each count the
 * other as still attached and neither removes the ACL or the target (VolumeManager.terminated
 * covers the time until the API's finish_detach).
 */
export const connectionLock = (volumeId: string) => `${volumeId}-attachment_connection`;

export interface VolumeManagerDeps {
  db: Db;
  driver: VolumeDriver;
  locks: VolumeLocks;
  notifier: Notifier;
  logger: Logger;
  /** hostname@backend, as the service registers. */
  host: string;
  /** The pool part of volume.host (volume_backend_name or 'LVM'). */
  pool: string;
  /** [DEFAULT] reinit_driver_count (3). */
  reinitDriverCount?: number;
  /** Waits between driver re-initializations (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
  /** The allocated capacity reported to the schedulers (CapabilityReporter). */
  capacity?: {
    countAllocated(volumes: Volume[]): void;
    add(host: string | null, sizeGb: number | null): void;
    publishServiceCapabilities(ctx: RequestContext): Promise<void>;
  };
  /** scheduler_rpcapi.create_volume, for a create that failed here and may go to another backend. */
  reschedule?: (ctx: RequestContext, volume: Volume, requestSpec: Record<string, unknown>, filterProperties: Record<string, unknown>) => Promise<void>;
}

/** What the scheduler passed along with a create (create_volume's request_spec, filter_properties, allow_reschedule). */
export interface CreateRequest {
  requestSpec?: Record<string, unknown> | null;
  filterProperties?: Record<string, unknown> | null;
  allowReschedule?: boolean;
}

/** dict.get(key, default) on a connector, as text for a text column (None stays NULL). */
function connectorGet(connector: Connector, key: string, dflt: string): string | null {
  if (!(key in connector)) return dflt;
  const v = (connector as Record<string, unknown>)[key];
  return v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v);
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class VolumeManager {
  readonly host: string;
  private readonly db: Db;
  private readonly driver: VolumeDriver;
  private readonly locks: VolumeLocks;
  private readonly notifier: Notifier;
  private readonly log: Logger;
  private readonly pool: string;
  /** This service's row in `services` (Cinder's self.service_uuid); set once the service reports. */
  serviceUuid: string | null = null;
  /** services.id of this service (Cinder's self.service_id): whose `workers` rows are ours. */
  serviceId: number | null = null;
  private readonly reinitDriverCount: number;
  /** volume id → attachments whose connection attachment_delete terminated, until their row goes. */
  private readonly terminated = new Map<string, Set<string>>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly capacity: VolumeManagerDeps['capacity'];
  private readonly reschedule: VolumeManagerDeps['reschedule'];

  constructor(d: VolumeManagerDeps) {
    this.capacity = d.capacity;
    this.reschedule = d.reschedule;
    this.db = d.db;
    this.driver = d.driver;
    this.locks = d.locks;
    this.notifier = d.notifier;
    this.log = d.logger;
    this.host = d.host;
    this.pool = d.pool;
    this.reinitDriverCount = d.reinitDriverCount ?? 3;
    this.sleep = d.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** volume_utils.require_driver_initialized. */
  private requireDriverInitialized(): void {
    if (!this.driver.initialized) throw new DriverNotInitialized();
  }

  /**
   * init_host: set the driver up, re-export in-use volumes (an in-use volume whose export fails
   * goes to error), mark the driver initialized and clean up the work a crash left. A setup failure
   * is retried reinit_driver_count times (after 1, 2, 4 … s); if it still fails the driver stays
   * uninitialized: the service runs and every call answers DriverNotInitialized.
   */
  async initHost(): Promise<void> {
    await this.initHostOnce();
    // A storage host that is not ready yet (VG not activated, LIO not loaded) gets a few more tries.
    for (let n = 0; !this.driver.initialized && n < this.reinitDriverCount; n++) {
      await this.sleep(2 ** n * 1000);
      await this.initHostOnce();
    }
  }

  private async initHostOnce(): Promise<void> {
    try {
      await this.driver.doSetup();
      await this.driver.checkForSetupError();
    } catch (e) {
      this.log.error({ err: errText(e) }, 'Failed to initialize driver.');
      return;
    }
    // The backend's capabilities list (what GET /capabilities/{host} shows).
    await this.driver.initCapabilities();
    for (const volume of await this.myVolumes()) {
      if (volume.status !== 'in-use') continue;
      try {
        await this.driver.ensureExport(volume);
      } catch (e) {
        this.log.error({ volume_id: volume.id, err: errText(e) }, 'Failed to re-export volume, setting to ERROR.');
        await dbapi.volumeConditionalUpdate(this.db, volume.id, { status: 'error' }, { status: 'in-use' });
      }
    }
    this.capacity?.countAllocated(await this.myVolumes());
    this.driver.initialized = true;
    this.log.info({ host: this.host }, 'Driver initialization completed successfully.');
    await this.doCleanup();
  }

  /**
   * CleanableManager.do_cleanup at start-up: the work this service had in hand when it stopped
   * (its `workers` rows) is finished. A volume still 'deleting' is deleted again, one still
   * 'creating' goes to 'error'; a row whose volume is gone or moved on is just dropped.
   */
  private async doCleanup(): Promise<void> {
    if (this.serviceId === null) return;
    this.log.info(`Initiating service ${this.serviceId} cleanup`);
    const ctx = adminContext();
    for (const worker of await dbapi.workersOfService(this.db, this.serviceId)) {
      const volume = await dbapi.volumeGet(this.db, worker.resource_id);
      const log = this.log.child({ volume_id: worker.resource_id });
      if (!volume) {
        log.debug('Skipping cleanup for non existent Volume.');
      } else if (volume.status !== worker.status) {
        log.debug(`Skipping cleanup for mismatching work on Volume: ${worker.status} <> ${volume.status}.`);
      } else {
        log.info(`Cleaning Volume with status ${worker.status}`);
        try {
          if (worker.status === 'deleting') {
            // delete_volume's own worker handling removes the row when it is done.
            await this.deleteVolume(ctx, volume);
            continue;
          }
          if (worker.status === 'creating' || worker.status === 'downloading') {
            await dbapi.volumeUpdate(this.db, volume.id, { status: 'error' });
          }
        } catch (e) {
          log.error({ err: errText(e) }, 'Could not perform cleanup.');
          continue;
        }
      }
      await dbapi.workerDestroy(this.db, worker.id);
    }
    this.log.info(`Service ${this.serviceId} cleanup completed.`);
  }

  /**
   * Cinder's @set_workers on create_volume/delete_volume: while the volume is in a cleanable status
   * a `workers` row names this service; it is removed once the status has moved on (done, or failed
   * into error/error_deleting/available). A process that dies half-way leaves it for doCleanup.
   */
  private async withWorker<T>(volume: Volume, fn: () => Promise<T>): Promise<T> {
    const status = volume.status ?? '';
    const worker = dbapi.CLEANABLE_VOLUME_STATUSES.includes(status)
      ? await dbapi.workerSet(this.db, volume.id, status, this.serviceId)
      : null;
    try {
      return await fn();
    } finally {
      if (worker && (await dbapi.volumeGet(this.db, volume.id))?.status !== worker.status) await dbapi.workerDestroy(this.db, worker.id);
    }
  }

  private async myVolumes(): Promise<Volume[]> {
    return (await dbapi.volumeGetAll(this.db)).filter((v) => v.host !== null && (v.host === this.host || v.host.startsWith(`${this.host}#`)));
  }

  // ---------------------------------------------------------------------------------------------
  // create / delete (casts)

  async createVolume(ctx: RequestContext, volume: Volume, req: CreateRequest = {}): Promise<void> {
    try {
      await this.withWorker(volume, () => this.createVolumeWorked(ctx, volume, req));
    } catch (e) {
      // The flow could not even record its failure (the database was away or locked for longer
      // than the engine waits). Beyond Cinder, whose volume stays 'creating' then: keep trying to
      // set it to 'error' in the background, so no create is lost; the workers row the API wrote
      // covers a restart in the meantime (doCleanup).
      this.log.error({ request_id: ctx.request_id, volume_id: volume.id, err: errText(e) }, 'Volume create failed on a database error; setting it to error when the database answers.');
      void this.errorWhenPossible(volume.id, 'creating');
    }
  }

  /** A conditional `status → error` from `from`, retried until the database takes it, then the worker row goes. */
  private async errorWhenPossible(volumeId: string, from: string): Promise<void> {
    for (let wait = 1000; ; wait = Math.min(wait * 2, 30_000)) {
      try {
        await dbapi.volumeConditionalUpdate(this.db, volumeId, { status: 'error' }, { status: from });
        await dbapi.workerDestroyFor(this.db, volumeId, from);
        this.log.info({ volume_id: volumeId }, `Volume left '${from}' for 'error' after a database error.`);
        return;
      } catch (e) {
        this.log.warn({ volume_id: volumeId, err: errText(e) }, `Database still unavailable; volume stays '${from}' for now.`);
        await new Promise((r) => setTimeout(r, wait).unref());
      }
    }
  }

  private async createVolumeWorked(ctx: RequestContext, volume: Volume, req: CreateRequest): Promise<void> {
    const log = this.log.child({ request_id: ctx.request_id, volume_id: volume.id });
    // The scheduler sends host@backend#pool; a create cast straight here (a Python peer's API with
    // a backend named) gets this backend's pool, as the scheduler would have chosen.
    const host = volume.host && volume.host.includes('#') ? volume.host : `${this.host}#${this.pool}`;
    if (host !== volume.host) {
      await dbapi.volumeUpdate(this.db, volume.id, { host });
      volume.host = host;
    }
    this.notifier.info(ctx, volume, 'create.start');
    try {
      this.requireDriverInitialized();
      const update = await this.driver.createVolume(volume);
      await dbapi.volumeUpdate(this.db, volume.id, {
        ...(update ?? {}),
        status: 'available',
        launched_at: dbNow(),
        // Nova reads these (3.48+) to decide whether os-brick must lock around the iSCSI connect.
        shared_targets: this.driver.sharedTargets,
        service_uuid: this.serviceUuid,
      });
    } catch (e) {
      if (await this.rescheduled(ctx, volume, req, e)) return;
      log.error({ err: errText(e) }, 'Volume create failed.');
      await dbapi.volumeUpdate(this.db, volume.id, { status: 'error' });
      return;
    }
    this.capacity?.add(host, volume.size);
    this.notifier.info(ctx, await dbapi.volumeGetOrThrow(this.db, volume.id), 'create.end');
    log.info('Created volume successfully.');
  }

  /**
   * OnFailureRescheduleTask (volume/flows/manager/create_volume.py): a create that failed on the
   * driver goes back to the scheduler when the scheduler sent retry information and allowed it.
   * The volume stays 'creating' with no host; the scheduler's retry filter skips this backend
   * and gives up after scheduler_max_attempts. Whatever the failed try left is deleted after.
   */
  private async rescheduled(ctx: RequestContext, volume: Volume, req: CreateRequest, cause: unknown): Promise<boolean> {
    const retry = req.filterProperties?.retry as Record<string, unknown> | undefined;
    if (!this.reschedule || !req.allowReschedule || !req.requestSpec || !retry || cause instanceof DriverNotInitialized) return false;
    const log = this.log.child({ request_id: ctx.request_id, volume_id: volume.id });
    try {
      await dbapi.volumeUpdate(this.db, volume.id, { scheduled_at: dbNow(), host: null });
      log.debug(`Volume ${volume.id}: re-scheduling create_volume attempt ${String(retry.num_attempts ?? 0)} due to ${errText(cause)}`);
      retry.exc = [errText(cause)];
      await this.reschedule(ctx, { ...volume, host: null }, { ...req.requestSpec, volume_id: volume.id }, req.filterProperties!);
    } catch (e) {
      log.error({ err: errText(e) }, `Volume ${volume.id}: rescheduling failed`);
      return false;
    }
    log.debug(`Volume ${volume.id}: re-scheduled`);
    await this.driver.deleteVolume(volume).catch(() => undefined);
    return true;
  }

  async deleteVolume(ctx: RequestContext, volume: Volume, unmanageOnly = false): Promise<void> {
    await this.withWorker(volume, () =>
      this.locks.withLock(`${volume.id}-delete_volume`, () => this.deleteVolumeLocked(ctx, volume, unmanageOnly)),
    );
    await this.locks.removeVolumeLocks?.(volume.id);
  }

  private async deleteVolumeLocked(ctx: RequestContext, volume: Volume, unmanageOnly: boolean): Promise<void> {
    const log = this.log.child({ request_id: ctx.request_id, volume_id: volume.id });
    const current = await dbapi.volumeGet(this.db, volume.id);
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
    if (doQuota) this.notifier.info(ctx, current, `${event}.start`);
    try {
      this.requireDriverInitialized();
      await this.driver.removeExport(current);
      if (!unmanageOnly) await this.driver.deleteVolume(current);
    } catch (e) {
      if (e instanceof VolumeIsBusy) {
        log.error({ err: e.message }, 'Unable to delete busy volume.');
        await dbapi.volumeUpdate(this.db, volume.id, { status: 'available' });
        return;
      }
      log.error({ err: errText(e) }, 'Unable to delete volume.');
      await dbapi.volumeUpdate(this.db, volume.id, { status: unmanageOnly ? 'error_unmanaging' : 'error_deleting' });
      return;
    }
    await dbapi.volumeDestroy(this.db, volume.id);
    // The object as volume.destroy() leaves it: status 'deleted', its attachments gone with it.
    if (doQuota) {
      this.notifier.info(ctx, { ...current, status: 'deleted', migration_status: null, volume_attachment: [] }, `${event}.end`);
      // The freed space goes to the schedulers at once, not at the next periodic report.
      this.capacity?.add(current.host, -(current.size ?? 0));
      await this.capacity?.publishServiceCapabilities(ctx);
    }
    log.info('Deleted volume successfully.');
  }

  // ---------------------------------------------------------------------------------------------
  // attach

  async attachVolume(
    ctx: RequestContext,
    volumeId: string,
    instanceUuid: string | null,
    hostName: string | null,
    mountpoint: string,
    mode: string,
    volume?: Volume,
  ): Promise<VolumeAttachment> {
    return this.locks.withLock(volumeId, async () => {
      const vol = volume ?? await dbapi.volumeGetOrThrow(this.db, volumeId);
      const md = vol.admin_metadata;
      if (vol.status === 'attaching' && md.attached_mode && md.attached_mode !== mode) {
        throw new InvalidVolume({ reason: 'being attached by different mode' });
      }
      const hostSanitized = hostName ? sanitizeHostname(hostName) : null;
      // Idempotency: the same instance (or host) already tracked for this volume.
      const existing = await dbapi.attachmentGetLiveOf(this.db, volumeId, { instanceUuid, hostName: hostSanitized });
      if (existing) {
        await dbapi.volumeUpdate(this.db, volumeId, { status: 'in-use' });
        return (await dbapi.attachmentGet(this.db, existing.id))!;
      }
      if (vol.status === 'in-use' && !vol.multiattach && !vol.migration_status) {
        throw new InvalidVolume({ reason: 'volume is already attached and multiple attachments are not enabled' });
      }
      this.notifier.info(ctx, vol, 'attach.start');
      const attachment = await dbapi.beginAttach(this.db, volumeId, mode);
      if (instanceUuid && !isUuidLike(instanceUuid)) {
        await dbapi.attachmentUpdate(this.db, attachment.id, { attach_status: 'error_attaching' });
        throw new InvalidUUID({ uuid: instanceUuid });
      }
      try {
        if (md.readonly === 'True' && mode !== 'ro') {
          throw new InvalidVolumeAttachMode({ mode, volume_id: volumeId });
        }
        this.requireDriverInitialized();
      } catch (e) {
        await dbapi.attachmentUpdate(this.db, attachment.id, { attach_status: 'error_attaching' });
        throw e;
      }
      const res = await dbapi.volumeAttached(this.db, attachment.id, instanceUuid, hostSanitized, mountpoint, mode);
      this.notifier.info(ctx, res.volume, 'attach.end');
      this.log.info(
        { request_id: ctx.request_id, volume_id: volumeId, attachment_id: attachment.id },
        'Attach volume completed successfully.',
      );
      return res.attachment;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // detach (spec §2.3): lock cinder-<volume_id>-detach_volume across the driver call

  async detachVolume(
    ctx: RequestContext,
    volumeId: string,
    attachmentId: string | null,
    volume?: Volume,
  ): Promise<void> {
    return this.locks.withLock(`${volumeId}-detach_volume`, async () => {
      const log = this.log.child({ request_id: ctx.request_id, volume_id: volumeId, attachment_id: attachmentId });
      // The passed object may predate the lock holder before us; re-read what the decision needs.
      const vol = await dbapi.volumeGet(this.db, volumeId) ?? volume ?? await dbapi.volumeGetOrThrow(this.db, volumeId);
      let attachment: VolumeAttachment;
      if (attachmentId) {
        const found = await dbapi.attachmentGet(this.db, attachmentId);
        if (!found) {
          // Not attached (any more): only make the status right, e.g. roll 'detaching' back.
          log.info('Volume detach called, but volume not attached.');
          await dbapi.finishDetach(this.db, volumeId, attachmentId);
          return;
        }
        attachment = found;
      } else {
        const atts = vol.volume_attachment;
        if (atts.length > 1) {
          const msg = 'Detach volume failed: More than one attachment, but no attachment_id provided.';
          log.error(msg);
          throw new InvalidVolume({ reason: msg });
        }
        if (atts.length === 0) {
          log.info('Volume detach called, but volume not attached.');
          await dbapi.volumeUpdate(this.db, volumeId, { status: 'available', attach_status: 'detached' });
          return;
        }
        attachment = atts[0];
      }
      const alog = log.child({ attachment_id: attachment.id });
      this.notifier.info(ctx, vol, 'detach.start');
      try {
        this.requireDriverInitialized();
      } catch (e) {
        await dbapi.attachmentUpdate(this.db, attachment.id, { attach_status: 'error_detaching' });
        throw e;
      }
      alog.info({ instance: attachment.instance_uuid }, 'Detaching volume.');
      try {
        this.requireDriverInitialized();
        // Unconditional: with LIO this deletes the whole target even if other attachments remain.
        await this.driver.removeExport(vol);
      } catch (e) {
        if (e instanceof DriverNotInitialized) throw e;
        alog.error({ err: errText(e) }, 'Detach volume failed, due to remove-export failure.');
        // No DB change: the attachment stays attached and the volume stays detaching, so a
        // retried os-detach (or roll_detaching) recovers.
        throw new RemoveExportException({ volume: volumeId, reason: errText(e) });
      }
      const after = await dbapi.finishDetach(this.db, volumeId, attachment.id);
      this.notifier.info(ctx, after, 'detach.end');
      alog.info('Detach volume completed successfully.');
    });
  }

  // ---------------------------------------------------------------------------------------------
  // connections (no lock in Cinder's manager; the LIO helper serializes rtstool itself)

  async initializeConnection(ctx: RequestContext, volume: Volume, connector: Connector): Promise<Record<string, unknown>> {
    const log = this.log.child({ request_id: ctx.request_id, volume_id: volume.id });
    this.requireDriverInitialized();
    const info = await this.locks.withLock(connectionLock(volume.id), () =>
      this.exportAndConnect(volume, connector, log, {
        exportFailed: (m) => `Create export of volume failed (${m})`,
        removeExportIfSaveFails: true,
      }),
    );
    log.info('Initialize volume connection completed successfully.');
    return info;
  }

  /**
   * The steps initialize_connection and _connection_create share: validate the connector,
   * create the export, save provider_location/auth, add the initiator, add the manager's keys.
   * The two differ only in the create-export wording and in the clean-up when the save fails.
   */
  private async exportAndConnect(
    volume: Volume,
    connector: Connector,
    log: Logger,
    opts: { exportFailed: (msg: string) => string; removeExportIfSaveFails: boolean },
  ): Promise<{ driver_volume_type: string; data: Record<string, unknown> }> {
    try {
      this.driver.validateConnector(connector);
    } catch (e) {
      if (e instanceof InvalidConnectorException) throw new InvalidInput({ reason: e.message });
      const msg = `Validate volume connection failed (error: ${errText(e)}).`;
      log.error(msg);
      throw new VolumeBackendAPIException({ data: msg });
    }
    // Cinder's target reads provider_auth from the DB row, not from the volume the RPC carried: a
    // second host attaching a multiattach volume must reuse the CHAP pair the first one got.
    const stored = await dbapi.volumeGet(this.db, volume.id);
    if (stored) volume = { ...volume, provider_auth: stored.provider_auth };
    // Beyond Cinder: a volume-manager killed while `cinder-rtstool create` runs leaves a target the
    // command still finishes, and Cinder never saves its provider_location, so every later
    // remove_export skips it: the target outlives the volume. The location is known beforehand
    // with LIO; recorded first, the target is found and removed by the next detach or delete.
    const intent = stored && !stored.provider_location ? (this.driver.expectedProviderLocation?.(volume) ?? null) : null;
    if (intent) await dbapi.volumeSetExportIntent(this.db, volume.id, intent);
    let update;
    try {
      update = await this.driver.createExport(volume, connector);
    } catch (e) {
      if (intent) await dbapi.volumeSetExportIntent(this.db, volume.id, null);
      if (!(e instanceof CinderException)) throw e;
      const msg = opts.exportFailed(e.msg);
      log.error(msg);
      throw new VolumeBackendAPIException({ data: msg });
    }
    try {
      if (update && Object.keys(update).length > 0) {
        await dbapi.volumeUpdate(this.db, volume.id, update as Record<string, unknown>);
        Object.assign(volume, update);
      }
    } catch (e) {
      log.error({ err: errText(e) }, 'Model update failed.');
      if (opts.removeExportIfSaveFails) {
        try {
          await this.driver.removeExport(volume);
        } catch {
          log.error('Could not remove export after DB model failed.');
        }
      }
      throw new ExportFailure({ reason: errText(e) });
    }
    let conn;
    try {
      conn = await this.driver.initializeConnection(volume, connector);
    } catch (e) {
      const msg = `Driver initialize connection failed (error: ${errText(e)}).`;
      log.error(msg);
      await this.driver.removeExport(volume);
      throw new VolumeBackendAPIException({ data: msg });
    }
    return this.parseConnectionOptions(volume, conn, await frontEndQos(this.db, volume), await typeExtraSpecs(this.db, volume));
  }

  /** _parse_connection_options: qos_specs, access_mode, encrypted, cacheable. */
  private parseConnectionOptions(
    volume: Volume,
    conn: { driver_volume_type: string; data: Record<string, unknown> },
    qosSpecs: Record<string, string | number> | null,
    extraSpecs: Record<string, string> | null,
  ): { driver_volume_type: string; data: Record<string, unknown> } {
    const data = { ...conn.data };
    data.qos_specs = qosSpecs;
    const md = volume.admin_metadata;
    data.access_mode = md.attached_mode ?? (md.readonly === 'True' ? 'ro' : 'rw');
    if (data.encrypted === undefined || data.encrypted === null) data.encrypted = Boolean(volume.encryption_key_id);
    if (extraSpecs) {
      // The type's cacheable='<is> True' allows it; a driver's False is kept, its True needs the spec.
      const cacheable = extraSpecs.cacheable === '<is> True';
      data.cacheable = data.cacheable !== undefined && data.cacheable !== null ? Boolean(data.cacheable) && cacheable : cacheable;
    }
    return { driver_volume_type: conn.driver_volume_type, data };
  }

  async terminateConnection(ctx: RequestContext, volumeId: string, connector: unknown, force = false): Promise<void> {
    this.requireDriverInitialized();
    const log = this.log.child({ request_id: ctx.request_id, volume_id: volumeId });
    try {
      // Read under the lock: the driver's shared-connection count must see finished deletes.
      await this.locks.withLock(connectionLock(volumeId), async () =>
        this.driver.terminateConnection(await this.withoutTerminated(await dbapi.volumeGetOrThrow(this.db, volumeId), null, true), connector, {
          force,
        }),
      );
    } catch (e) {
      if (e instanceof CinderException && e.code === 404) throw e;
      const msg = `Terminate volume connection failed: ${errText(e)}`;
      log.error(msg);
      throw new VolumeBackendAPIException({ data: msg });
    }
    log.info('Terminate volume connection completed successfully.');
  }

  // ---------------------------------------------------------------------------------------------
  // new-style attachments (spec §4.4, §4.5): no lock in the manager (the API locks update)

  /** _connection_create: export + ACL, then the attachment row goes 'attaching' with its connector. */
  private async connectionCreate(
    ctx: RequestContext,
    volume: Volume,
    attachmentId: string,
    connector: Connector,
  ): Promise<Record<string, unknown>> {
    const log = this.log.child({ request_id: ctx.request_id, volume_id: volume.id, attachment_id: attachmentId });
    // (the create-export wording differs from initialize_connection's on purpose: it is Cinder's)
    const parsed = await this.exportAndConnect(volume, connector, log, {
      exportFailed: (m) => `Create export for volume failed (${m}).`,
      removeExportIfSaveFails: false,
    });
    // Flattened: the data keys plus driver_volume_type, then the attachment id.
    const info: Record<string, unknown> = { ...parsed.data, driver_volume_type: parsed.driver_volume_type };
    await dbapi.attachmentUpdate(this.db, attachmentId, { volume_id: volume.id, attach_status: 'attaching', connector });
    info.attachment_id = attachmentId;
    return info;
  }

  async attachmentUpdate(
    ctx: RequestContext,
    vref: Volume,
    connector: Connector,
    attachmentId: string,
  ): Promise<Record<string, unknown>> {
    // connector.get('mode', 'rw'): a present key wins, whatever its value.
    let mode = (Object.prototype.hasOwnProperty.call(connector, 'mode') ? connector.mode : 'rw') as string | null;
    this.notifier.info(ctx, vref, 'attach.start');
    const attachment = await dbapi.attachmentGet(this.db, attachmentId);
    if (!attachment) throw new VolumeAttachmentNotFound({ filter: `attachment_id = ${attachmentId}` });
    // A mode given at attachment-create wins over the connector's, and is written back into it.
    // Cinder compares with the string 'null' only: a row whose attach_mode is still NULL (the RPC
    // that POST /attachments with a connector makes before the API saves the mode) gives mode None,
    // stored as such in the connector and, until the API's save, in attach_mode.
    if (attachment.attach_mode !== 'null') {
      mode = attachment.attach_mode;
      connector.mode = mode;
    }
    // The ACL and the row that accounts for it appear together for a concurrent attachment_delete.
    const info = await this.locks.withLock(connectionLock(vref.id), async () => {
      const created = await this.connectionCreate(ctx, vref, attachmentId, connector);
      try {
        this.requireDriverInitialized();
      } catch (e) {
        await dbapi.attachmentUpdate(this.db, attachmentId, { attach_status: 'error_attaching' });
        throw e;
      }
      await dbapi.volumeAttached(
        this.db,
        attachmentId,
        attachment.instance_uuid,
        // connector.get('host', '') / .get('mountpoint', 'na'): a key that is there, even null, wins.
        connectorGet(connector, 'host', ''),
        connectorGet(connector, 'mountpoint', 'na'),
        mode,
        false,
      );
      return created;
    });
    this.log.info({ request_id: ctx.request_id, volume_id: vref.id, attachment_id: attachmentId }, 'attachment_update completed successfully.');
    return info;
  }

  /**
   * _connection_terminate: no connector (and not forced) means nothing was ever connected on the
   * backend: return null ("don't know, don't care"). Otherwise the driver's shared flag.
   */
  private async connectionTerminate(volume: Volume, attachment: VolumeAttachment, force = false): Promise<boolean | null> {
    this.requireDriverInitialized();
    const connector = attachment.connector;
    if ((!connector || Object.keys(connector).length === 0) && !force) return null;
    let shared: unknown;
    try {
      shared = await this.driver.terminateConnection(volume, connector ?? {}, { force });
    } catch (e) {
      const msg = `Terminate volume connection failed: ${errText(e)}`;
      this.log.error({ volume_id: volume.id }, msg);
      throw new VolumeBackendAPIException({ data: msg });
    }
    return typeof shared === 'boolean' ? shared : false;
  }

  /**
   * The volume as the driver must see it under connectionLock: its live attachments (not
   * 'detached', as Cinder lazy-loads them) less those whose connection an attachment_delete of
   * this manager already terminated and whose row the API has not finished yet (finish_detach
   * runs there after the RPC returns). An id is forgotten once its row is gone. `fresh`: the
   * volume was just read from the DB, so its attachments need no second read.
   */
  private async withoutTerminated(volume: Volume, keep: string | null = null, fresh = false): Promise<Volume> {
    const rows = fresh ? volume.volume_attachment : ((await dbapi.volumeGet(this.db, volume.id))?.volume_attachment ?? volume.volume_attachment);
    const live = rows.filter(
      (a) => a.attach_status !== 'detached',
    );
    const done = this.terminated.get(volume.id);
    if (done) {
      for (const id of done) if (!live.some((a) => a.id === id)) done.delete(id);
      if (done.size === 0) this.terminated.delete(volume.id);
    }
    return { ...volume, volume_attachment: live.filter((a) => a.id === keep || !done?.has(a.id)) };
  }

  /**
   * attachment_delete: terminate + remove_export unless shared; the DB is the API's job, as in
   * Cinder. Beyond Cinder, under connectionLock and counting only what withoutTerminated leaves,
   * so that of two concurrent deletes on one host the second sees the first as gone.
   */
  async attachmentDelete(ctx: RequestContext, attachmentId: string, vref: Volume): Promise<void> {
    this.requireDriverInitialized();
    await this.locks.withLock(connectionLock(vref.id), async () => {
      const attachment = await dbapi.attachmentGet(this.db, attachmentId);
      if (!attachment) throw new VolumeAttachmentNotFound({ filter: `attachment_id = ${attachmentId}` });
      const log = this.log.child({ request_id: ctx.request_id, volume_id: vref.id, attachment_id: attachmentId });
      this.notifier.info(ctx, vref, 'detach.start');
      const volume = await this.withoutTerminated(vref, attachmentId);
      const shared = await this.connectionTerminate(volume, attachment);
      try {
        if (shared === false) await this.driver.removeExport(volume);
      } catch (e) {
        // Not a detach failure in Cinder's eyes (bug 1935057): warn and carry on.
        log.warn({ err: errText(e) }, 'Failed to detach volume on the backend, ignoring failure');
      }
      const done = this.terminated.get(vref.id) ?? new Set<string>();
      this.terminated.set(vref.id, done.add(attachmentId));
    });
  }

  /** retype (cast 3.5): see src/manager/retype.ts. */
  retype(ctx: RequestContext, volume: Volume, newTypeId: string, host: RetypeHost, migrationPolicy: string | null = 'never'): Promise<void> {
    const { db, driver, locks, notifier, log: logger, host: self, capacity } = this;
    return retypeVolume({ db, driver, locks, notifier, logger, host: self, capacity }, ctx, volume, newTypeId, host, migrationPolicy);
  }

  async removeExport(ctx: RequestContext, volumeId: string): Promise<void> {
    this.requireDriverInitialized();
    const volume = await dbapi.volumeGetOrThrow(this.db, volumeId);
    try {
      await this.driver.removeExport(volume);
    } catch (e) {
      this.log.error({ volume_id: volumeId, err: errText(e) }, 'Remove volume export failed.');
      throw new VolumeBackendAPIException({ data: 'Remove volume export failed.' });
    }
    this.log.info({ volume_id: volumeId }, 'Remove volume export completed successfully.');
  }
}
