// Where the locks live: [oslo_concurrency] lock_path (oslo_concurrency/lockutils.py; oslo has no
// default, cinder-ts uses $state_path/lock) for the external locks such as the host's `lioadm`, and
// [coordination] backend_url (cinder/coordination.py) for the coordinator's per-volume locks.
import { ConfigError, interpolate } from './oslo-config.js';

/** [oslo_concurrency] lock_path, `$var`s interpolated (src/common/lock.ts InterProcessLock). */
export interface LockPathSettings {
  lock_path: string;
}

/** [coordination] backend_url (default file://$state_path) and the directory of its file driver. */
export interface CoordinationSettings {
  backend_url: string;
  lock_dir: string;
}

export function lockPathSection(raw: unknown, vars: Record<string, string>): LockPathSettings {
  return { lock_path: interpolate(typeof raw === 'string' && raw ? raw : '$state_path/lock', vars) };
}

/**
 * cinder/coordination.py: the tooz coordinator at [coordination] backend_url. Only tooz's file
 * driver is ported; its lock files live in the URL's path (tooz FileDriver: parsed_url.path).
 */
export function coordinationSection(raw: unknown, vars: Record<string, string>): CoordinationSettings {
  // Unset: Cinder's default file://$state_path, i.e. the state_path directory (relative or not).
  if (typeof raw !== 'string' || !raw) return { backend_url: `file://${vars.state_path}`, lock_dir: vars.state_path };
  const backend_url = interpolate(raw, vars);
  if (!backend_url.startsWith('file://')) {
    throw new ConfigError(`config error: [coordination] backend_url: only the file:// driver is supported, got '${backend_url}'`);
  }
  const lock_dir = decodeURIComponent(new URL(backend_url).pathname);
  if (!lock_dir || lock_dir === '/') throw new ConfigError(`config error: [coordination] backend_url: no directory in '${backend_url}'`);
  return { backend_url, lock_dir };
}
