// cinder/volume/manager.py VolumeManager for the attach/detach path: the decision trees, the
// per-volume locks held across the driver calls, and Cinder's DB writes on success and on error.
// The volume lifecycle (init_host, do_cleanup, create_volume, delete_volume) is in lifecycle.ts,
// the export-and-connect steps with _parse_connection_options in connection.ts, retype in retype.ts.
import type { RequestContext } from '../common/context.js';
import type { Db } from '../db/client.js';
import * as dbapi from '../db/api.js';
import type { VolumeDriver } from '../drivers/driver.js';
import {
  CinderException,
  DriverNotInitialized,
  InvalidUUID,
  InvalidVolume,
  InvalidVolumeAttachMode,
  RemoveExportException,
  VolumeAttachmentNotFound,
  VolumeBackendAPIException,
} from '../common/exceptions.js';
import type { Connector, Volume, VolumeAttachment } from '../objects/volume.js';
import type { Logger } from '../common/log.js';
import type { Notifier } from './notifier.js';
import { errText, requireDriverInitialized, sanitizeHostname } from './utils.js';
import { isUuidLike } from '../common/uuid.js';
import { retypeVolume, type RetypeHost, type RetypeReservations } from './retype.js';
import { QuotaEngine } from '../quota/index.js';
import { createVolume, deleteVolume, initHost, type CreateRequest, type LifecycleDeps } from './lifecycle.js';
import { exportAndConnect } from './connection.js';
import type { MessageApi } from '../message/api.js';
import { Action } from '../message/message-field.js';
import { extendVolume, type ExtendDeps } from './extend.js';

export type { CreateRequest } from './lifecycle.js';

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
  /** User messages (cinder/message/api.py); without it none are written. */
  messages?: MessageApi;
  /** cinder/quota.py QUOTAS (default: the quota options' defaults on `db`). */
  quotas?: QuotaEngine;
  /** compute.API (cinder/compute/nova.py): extend_volume's volume-extended event; without it none is sent. */
  nova?: ExtendDeps['nova'];
}

/** dict.get(key, default) on a connector, as text for a text column (None stays NULL). */
function connectorGet(connector: Connector, key: string, dflt: string): string | null {
  if (!(key in connector)) return dflt;
  const v = (connector as Record<string, unknown>)[key];
  return v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v);
}

export class VolumeManager {
  readonly host: string;
  private readonly db: Db;
  private readonly driver: VolumeDriver;
  private readonly locks: VolumeLocks;
  private readonly notifier: Notifier;
  private readonly log: Logger;
  /** This service's row in `services` (Cinder's self.service_uuid); set once the service reports. */
  serviceUuid: string | null = null;
  /** services.id of this service (Cinder's self.service_id): whose `workers` rows are ours. */
  serviceId: number | null = null;
  /** volume id → attachments whose connection attachment_delete terminated, until their row goes. */
  private readonly terminated = new Map<string, Set<string>>();
  private readonly capacity: VolumeManagerDeps['capacity'];
  private readonly messages: MessageApi | undefined;
  private readonly nova: ExtendDeps['nova'];
  /** What lifecycle.ts works with: this manager's parts, service_id/service_uuid read when used. */
  private readonly lifecycle: LifecycleDeps;
  /** QUOTAS (cinder/quota.py): what delete_volume, retype and extend_volume commit or roll back. */
  readonly quotas: QuotaEngine;

  constructor(d: VolumeManagerDeps) {
    this.capacity = d.capacity;
    this.messages = d.messages;
    this.nova = d.nova;
    this.db = d.db;
    this.driver = d.driver;
    this.locks = d.locks;
    this.notifier = d.notifier;
    this.log = d.logger;
    this.host = d.host;
    this.quotas = d.quotas ?? new QuotaEngine(d.db);
    const self = this;
    this.lifecycle = {
      db: d.db,
      driver: d.driver,
      locks: d.locks,
      notifier: d.notifier,
      logger: d.logger,
      host: d.host,
      pool: d.pool,
      reinitDriverCount: d.reinitDriverCount ?? 3,
      sleep: d.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      capacity: d.capacity,
      reschedule: d.reschedule,
      quotas: this.quotas,
      messages: d.messages,
      get serviceId() {
        return self.serviceId;
      },
      get serviceUuid() {
        return self.serviceUuid;
      },
    };
  }

  /** volume_utils.require_driver_initialized. */
  private requireDriverInitialized(): void {
    requireDriverInitialized(this.driver);
  }

  /** init_host (and do_cleanup): see src/manager/lifecycle.ts. */
  initHost(): Promise<void> {
    return initHost(this.lifecycle);
  }

  // ---------------------------------------------------------------------------------------------
  // create / delete (casts): see src/manager/lifecycle.ts

  /** create_volume, with the flow's reschedule. */
  createVolume(ctx: RequestContext, volume: Volume, req: CreateRequest = {}): Promise<void> {
    return createVolume(this.lifecycle, ctx, volume, req);
  }

  /** delete_volume (unmanage with unmanageOnly). */
  deleteVolume(ctx: RequestContext, volume: Volume, unmanageOnly = false): Promise<void> {
    return deleteVolume(this.lifecycle, ctx, volume, unmanageOnly);
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
        await this.messages?.create(ctx, Action.ATTACH_VOLUME, { resourceUuid: volumeId, exception: e });
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
      exportAndConnect({ db: this.db, driver: this.driver }, volume, connector, log, {
        exportFailed: (m) => `Create export of volume failed (${m})`,
        removeExportIfSaveFails: true,
      }),
    );
    log.info('Initialize volume connection completed successfully.');
    return info;
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
    const parsed = await exportAndConnect({ db: this.db, driver: this.driver }, volume, connector, log, {
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
        await this.messages?.create(ctx, Action.UPDATE_ATTACHMENT, { resourceUuid: vref.id, exception: e });
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

  /** extend_volume (cast 3.0): see src/manager/extend.ts. */
  extendVolume(ctx: RequestContext, volume: Volume, newSize: number, reservations: string[] | null = null): Promise<void> {
    const { db, driver, notifier, log: logger, capacity, messages, nova } = this;
    return extendVolume({ db, driver, notifier, logger, capacity, quota: this.quotas, messages, nova }, ctx, volume, newSize, reservations);
  }

  /** retype (cast 3.5): see src/manager/retype.ts. */
  retype(
    ctx: RequestContext,
    volume: Volume,
    newTypeId: string,
    host: RetypeHost,
    migrationPolicy: string | null = 'never',
    res: RetypeReservations = {},
  ): Promise<void> {
    const { db, driver, locks, notifier, log: logger, host: self, capacity } = this;
    const quotas = this.lifecycle.quotas;
    return retypeVolume({ db, driver, locks, notifier, logger, host: self, capacity, quotas }, ctx, volume, newTypeId, host, migrationPolicy, res);
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
