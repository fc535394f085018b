// The key of a volume whose type is encrypted (cinder/volume/volume_utils.py create_encryption_key).
// This port has one key manager: castellan's fixed-key ConfKeyManager (cinder/keymgr/conf_key_mgr.py),
// whose every key has the same id; there is no Barbican. Nova reads the key itself from
// `[key_manager] fixed_key` when it attaches such a volume.
import { InvalidVolumeType } from '../common/exceptions.js';
import type { Db } from '../db/client.js';
import { volumeTypeEncryptionGet } from '../db/encryption.js';

/** constants.FIXED_KEY_ID: ConfKeyManager's key id (never shown in volume views). */
export const FIXED_KEY_ID = '00000000-0000-0000-0000-000000000000';

/** A new key for a volume of this type, or null when the type is not encrypted. */
export async function createEncryptionKey(db: Db, volumeTypeId: string): Promise<string | null> {
  const encryption = await volumeTypeEncryptionGet(db, volumeTypeId);
  if (!encryption) return null;
  // The algorithm is the cipher's first part ('aes-xts-plain64' → 'aes'); none is an invalid spec.
  const algorithm = encryption.cipher ? encryption.cipher.split('-')[0] : null;
  if (!algorithm) throw new InvalidVolumeType({}, 'Invalid encryption spec');
  return FIXED_KEY_ID;
}
