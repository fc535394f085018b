// oslo_utils.uuidutils.is_uuid_like, used by the API's "uuid" format checker and by the DB layer's
// InvalidUUID check on attach: both sides of Cinder call the same function, so both call this one.

/**
 * What Python's uuid.UUID() parses once every `urn:` and `uuid:` (case-sensitive, anywhere) is
 * removed, the braces at both ends are stripped and the dashes are dropped: 32 hex digits, any case.
 */
export function isUuidLike(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const hex = v.replaceAll('urn:', '').replaceAll('uuid:', '').replace(/^[{}]+|[{}]+$/g, '').replaceAll('-', '');
  return /^[0-9a-fA-F]{32}$/.test(hex);
}
