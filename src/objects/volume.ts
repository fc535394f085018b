// The in-memory Volume and VolumeAttachment (cinder/objects/volume.py, volume_attachment.py): the DB
// row plus what Cinder loads with it. Timestamps keep the DB text form ('YYYY-MM-DD HH:MM:SS.ffffff');
// the RPC codec converts them to the OVO form ('YYYY-MM-DDTHH:MM:SSZ').
import type { AttachmentRow, VolumeRow } from '../db/schema.js';
import { boolFromString } from '../common/python.js';

export type Connector = Record<string, unknown>;

/** A volume_attachment row; `connector`/`connection_info` are decoded from their JSON text. */
export type VolumeAttachment = Omit<AttachmentRow, 'connector' | 'connection_info'> & {
  connector: Connector | null;
  connection_info: Record<string, unknown> | null;
};

export type Volume = VolumeRow & {
  /** Non-deleted attachment rows of any attach_status (Cinder's lazy-loaded volume_attachment). */
  volume_attachment: VolumeAttachment[];
  /** Live volume_admin_metadata as key → value. */
  admin_metadata: Record<string, string>;
  /** Live volume_metadata (user metadata) as key → value. */
  metadata: Record<string, string>;
  /**
   * The volume's type with its extra specs, loaded with the volume as Cinder's Volume object does
   * (_get_expected_attrs: 'volume_type', 'volume_type.extra_specs'); null if the row is gone.
   */
  volume_type?: VolumeTypeData | null;
};

/**
 * cinder.objects.VolumeType as a volume carries it (loaded with it, or as it travels over RPC):
 * the volume_types row's fields, with the live extra specs as key → value.
 */
export interface VolumeTypeData {
  id: string;
  name?: string | null;
  description?: string | null;
  is_public?: boolean | null;
  extra_specs?: Record<string, string | null>;
  qos_specs_id?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
  deleted_at?: string | null;
  deleted?: boolean;
  [k: string]: unknown;
}

/** volume_utils.is_boolean_str: an extra spec of the form '<is> True' (any bool_from_string truth). */
export function isBooleanSpec(spec: string | null | undefined): boolean {
  const parts = (spec ?? '').split(/\s+/).filter(Boolean);
  return parts.length === 2 && parts[0] === '<is>' && boolFromString(parts[1]);
}

export const VOLUME_NAME_TEMPLATE = 'volume-%s';

/** volume.name_id: `_name_id` if set, else `id` (used after migrations). */
export function nameId(v: Pick<VolumeRow, 'id' | '_name_id'>): string {
  return v._name_id ?? v.id;
}

/** volume.name: the LV name and the last part of the target IQN. */
export function volumeName(v: Pick<VolumeRow, 'id' | '_name_id'>): string {
  return VOLUME_NAME_TEMPLATE.replace('%s', nameId(v));
}

/** volume_utils.extract_host(host, 'backend'): 'h@b#pool' → 'h@b'. */
export function extractBackend(host: string): string {
  return host.split('#')[0];
}

export function parseJsonColumn<T>(text: string | null): T | null {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** fields.VolumeStatus.ALL, in Cinder's order (the os-reset_status 400 text prints the tuple). */
export const VolumeStatus = [
  'creating', 'available', 'deleting', 'error', 'error_deleting', 'error_managing', 'managing',
  'attaching', 'in-use', 'detaching', 'maintenance', 'restoring-backup', 'error_restoring', 'reserved',
  'awaiting-transfer', 'backing-up', 'error_backing-up', 'error_extending', 'downloading', 'uploading',
  'retyping', 'extending',
] as const;

/** fields.VolumeMigrationStatus.ALL, in Cinder's order. */
export const VolumeMigrationStatus = ['migrating', 'error', 'success', 'completing', 'none', 'starting'] as const;

export const AttachStatus = [
  'attached', 'attaching', 'detached', 'reserved', 'error_attaching', 'error_detaching', 'deleted',
] as const;

/** "Not migrating" in Cinder's volume API: migration_status IN (None, 'deleting', 'error', 'success'). */
export const AVAILABLE_MIGRATION_STATUS = [null, 'deleting', 'error', 'success'] as const;
