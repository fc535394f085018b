// Rows to objects: the JSON text columns of volume_attachment as Cinder's JsonField reads them.
import type { AttachmentRow } from './schema.js';
import type { VolumeAttachment } from '../objects/volume.js';
import { parseJsonColumn } from '../objects/volume.js';

export function toAttachment(r: AttachmentRow): VolumeAttachment {
  return {
    ...r,
    connector: parseJsonColumn(r.connector),
    connection_info: parseJsonColumn(r.connection_info),
  };
}
