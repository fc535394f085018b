// Small helpers from cinder/volume/volume_utils.py.

/**
 * sanitize_hostname: latin-1 only, spaces and underscores become '-', anything outside
 * [\w.-] is dropped, lower-cased, leading/trailing '.' and '-' stripped.
 */
export function sanitizeHostname(hostname: string): string {
  let h = Array.from(hostname)
    .filter((c) => c.charCodeAt(0) <= 0xff)
    .join('');
  h = h.replace(/[ _]/g, '-');
  // Python's \w is Unicode-aware: letters and digits of latin-1 stay.
  h = h.replace(/[^\p{L}\p{N}_.-]+/gu, '');
  h = h.toLowerCase();
  return h.replace(/^[.-]+|[.-]+$/g, '');
}
