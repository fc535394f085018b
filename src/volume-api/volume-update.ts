// What cinder/volume/api.py does for PUT /volumes/{id} (update), the metadata API
// (get/create/update/delete_volume_metadata), os-update_readonly_flag (update_readonly_flag),
// GET /volumes/summary (get_volume_summary) and with_count (calculate_resource_count).
import type { RequestContext } from '../common/context.js';
import { InvalidVolume, InvalidVolumeMetadataSize } from '../common/exceptions.js';
import type { Logger } from '../common/log.js';
import { authorize } from '../common/policy.js';
import type { Db } from '../db/client.js';
import * as dbapi from '../db/api.js';
import type { Notifier } from '../manager/notifier.js';
import type { Volume } from '../objects/volume.js';
import { getBoolParam } from './volume-filters.js';

/** The volume fields PUT /volumes/{id} and os-set_bootable may change (DB names). */
export interface VolumeUpdateFields {
  display_name?: string | null;
  display_description?: string | null;
  metadata?: Record<string, string>;
  bootable?: boolean;
}

export interface VolumeCountSurface {
  /** calculate_resource_count(context, 'volume', filters) */
  countVolumes(ctx: RequestContext, filters: Record<string, unknown>): Promise<number>;
}

export interface VolumeEditSurface extends VolumeCountSurface {
  volumeSummary(ctx: RequestContext, filters: Record<string, unknown>): Promise<{ count: number; size: number; metadata: Record<string, string[]> }>;
  /** The controller's update: update.start, volume_api.update, update.end; returns the volume as the view shows it. */
  updateVolume(ctx: RequestContext, volume: Volume, fields: VolumeUpdateFields, notify: boolean): Promise<Volume>;
  getVolumeMetadata(ctx: RequestContext, volume: Volume): Promise<Record<string, string>>;
  createVolumeMetadata(ctx: RequestContext, volume: Volume, metadata: Record<string, string>): Promise<Record<string, string>>;
  updateVolumeMetadata(ctx: RequestContext, volume: Volume, metadata: Record<string, string>, del: boolean): Promise<Record<string, string>>;
  deleteVolumeMetadata(ctx: RequestContext, volume: Volume, key: string): Promise<void>;
  updateReadonlyFlag(ctx: RequestContext, volume: Volume, flag: boolean): Promise<void>;
}

/**
 * utils.check_metadata_properties: the API schemas already bound keys (1..255) and values (255),
 * so only the size checks of its backward-compatibility branch are restated.
 */
export function checkMetadataProperties(metadata: Record<string, string> | null | undefined): void {
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if ([...k].length > 255) throw new InvalidVolumeMetadataSize({ reason: `Metadata property key ${k} greater than 255 characters.` });
    if ([...String(v)].length > 255) {
      throw new InvalidVolumeMetadataSize({ reason: `Metadata property key ${k} value greater than 255 characters.` });
    }
  }
}

export class VolumeEdits implements VolumeEditSurface {
  constructor(private readonly deps: { db: Db; notifier: Notifier; logger: Logger }) {}

  /**
   * volume_api.calculate_resource_count: an admin's all_tenants widens it, otherwise the caller's
   * project_id is added to the filters (no migration-target filter here, unlike get_all).
   */
  countVolumes(ctx: RequestContext, given: Record<string, unknown>): Promise<number> {
    const filters = { ...given };
    if (ctx.is_admin && getBoolParam(filters, 'all_tenants')) delete filters.all_tenants;
    else filters.project_id = ctx.project_id;
    return dbapi.volumeCount(this.deps.db, filters);
  }

  /** get_volume_summary: all_tenants (admins) widens it to every project. */
  async volumeSummary(ctx: RequestContext, filters: Record<string, unknown>) {
    authorize(ctx, 'volume:get_all');
    const allTenants = getBoolParam(filters, 'all_tenants');
    const projectOnly = !(allTenants && ctx.is_admin);
    const out = await dbapi.volumeSummary(this.deps.db, projectOnly ? (ctx.project_id ?? null) : null);
    this.deps.logger.info('Get summary completed successfully.');
    return out;
  }

  async updateVolume(ctx: RequestContext, volume: Volume, fields: VolumeUpdateFields, notify: boolean): Promise<Volume> {
    if (notify) this.deps.notifier.info(ctx, volume, 'update.start');
    // volume_api.update
    authorize(ctx, 'volume:update', volume);
    if (volume.status === 'maintenance') {
      this.deps.logger.info({ volume_id: volume.id }, 'Unable to update volume, because it is in maintenance.');
      throw new InvalidVolume({ reason: 'The volume cannot be updated during maintenance.' });
    }
    checkMetadataProperties(fields.metadata);
    // Volume.save: the metadata replaces the volume's (volume_metadata_update, delete=True), then
    // the columns (volume_update; updated_at moves even when only metadata changed).
    const { metadata, ...columns } = fields;
    let newMetadata = volume.metadata;
    if (metadata !== undefined) newMetadata = await dbapi.volumeMetadataUpdate(this.deps.db, volume.id, metadata, true);
    await dbapi.volumeUpdate(this.deps.db, volume.id, columns);
    this.deps.logger.info({ volume_id: volume.id }, 'Volume updated successfully.');
    // The controller shows the object it had, with the fields laid over it (updated_at as read).
    const updated: Volume = { ...volume, ...columns, metadata: newMetadata };
    if (notify) this.deps.notifier.info(ctx, updated, 'update.end');
    return updated;
  }

  async getVolumeMetadata(ctx: RequestContext, volume: Volume): Promise<Record<string, string>> {
    authorize(ctx, 'volume:get_volume_metadata', volume);
    const md = await dbapi.volumeMetadataGet(this.deps.db, volume.id);
    this.deps.logger.info({ volume_id: volume.id }, 'Get volume metadata completed successfully.');
    return md;
  }

  /**
   * _update_volume_metadata: refused in maintenance/uploading. Cinder 21.3.1 counts no
   * metadata_items quota here; a quota check (if ever) belongs right before the DB write.
   */
  private async writeMetadata(volume: Volume, metadata: Record<string, string>, del: boolean): Promise<Record<string, string>> {
    if (volume.status === 'maintenance' || volume.status === 'uploading') {
      const msg = `Updating volume metadata is not allowed for volumes in ${volume.status} status.`;
      this.deps.logger.info({ volume_id: volume.id }, msg);
      throw new InvalidVolume({ reason: msg });
    }
    return dbapi.volumeMetadataUpdate(this.deps.db, volume.id, metadata, del);
  }

  async createVolumeMetadata(ctx: RequestContext, volume: Volume, metadata: Record<string, string>): Promise<Record<string, string>> {
    authorize(ctx, 'volume:create_volume_metadata', volume);
    const md = await this.writeMetadata(volume, metadata, false);
    this.deps.logger.info({ volume_id: volume.id }, 'Create volume metadata completed successfully.');
    return md;
  }

  async updateVolumeMetadata(ctx: RequestContext, volume: Volume, metadata: Record<string, string>, del: boolean): Promise<Record<string, string>> {
    authorize(ctx, 'volume:update_volume_metadata', volume);
    const md = await this.writeMetadata(volume, metadata, del);
    this.deps.logger.info({ volume_id: volume.id }, 'Update volume metadata completed successfully.');
    return md;
  }

  async deleteVolumeMetadata(ctx: RequestContext, volume: Volume, key: string): Promise<void> {
    authorize(ctx, 'volume:delete_volume_metadata', volume);
    if (volume.status === 'maintenance' || volume.status === 'uploading') {
      const msg = `Deleting volume metadata is not allowed for volumes in ${volume.status} status.`;
      this.deps.logger.info({ volume_id: volume.id }, msg);
      throw new InvalidVolume({ reason: msg });
    }
    await dbapi.volumeMetadataDelete(this.deps.db, volume.id, key);
    this.deps.logger.info({ volume_id: volume.id }, 'Delete volume metadata completed successfully.');
  }

  /** update_readonly_flag: only an available volume; readonly = 'True'/'False' in its admin metadata. */
  async updateReadonlyFlag(ctx: RequestContext, volume: Volume, flag: boolean): Promise<void> {
    authorize(ctx, 'volume:update_readonly_flag', volume);
    if (volume.status !== 'available') {
      throw new InvalidVolume({
        reason: `Volume ${volume.id} status must be available to update readonly flag, but current status is: ${volume.status}.`,
      });
    }
    // update_volume_admin_metadata(context.elevated(), ...): its admin-only policy passes.
    const md = { readonly: flag ? 'True' : 'False' };
    checkMetadataProperties(md);
    await dbapi.adminMetadataSet(this.deps.db, volume.id, md);
    this.deps.logger.info({ volume_id: volume.id }, 'Update readonly setting on volume completed successfully.');
  }
}
