// Small helpers from cinder/volume/volume_utils.py, and the error text the manager logs.
import { DriverNotInitialized } from '../common/exceptions.js';

/** volume_utils.require_driver_initialized. */
export function requireDriverInitialized(driver: { initialized: boolean }): void {
  if (!driver.initialized) throw new DriverNotInitialized();
}

/** An exception's message, as the manager's log lines and fault texts quote it. */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

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
