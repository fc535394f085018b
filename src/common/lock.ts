// Named locks shared between processes on one host, like oslo's
// `lockutils.synchronized(name, external=True, lock_file_prefix='cinder-')` (the `lioadm` lock around
// every cinder-rtstool run) and tooz's file-backend locks that the manager takes per volume
// (`cinder-<volume_id>-detach_volume`, ...).
//
// Each name is a file `<dir>/cinder-<name>` held with flock(LOCK_EX). In front of the file lock sits an
// in-process FIFO mutex per name, so waiters of this process queue in memory and at most one of them
// touches the file. The uncontended path is synchronous syscalls only (open, flock LOCK_NB); only when
// another process holds the file does a blocking flock run on libuv's threadpool, so the event loop
// never blocks.
//
// Note: oslo and tooz use fcntl/lockf locks (via fasteners), which do not exclude flock holders on
// Linux. These locks therefore serialize cinder-ts processes (and flock(1) users) among themselves.
import { lockKind, lockWait, since } from './metrics.js';
import fs from 'node:fs';
import path from 'node:path';
import fsExt from 'fs-ext';

export const LOCK_FILE_PREFIX = 'cinder-';

/** FIFO mutex per key; ownership passes directly from the releaser to the next waiter. */
class KeyedMutex {
  private readonly slots = new Map<string, Array<() => void>>();

  /** Resolves when the caller owns `key`; synchronous fast path when it is free. */
  acquire(key: string): Promise<void> | undefined {
    const waiters = this.slots.get(key);
    if (waiters === undefined) {
      this.slots.set(key, []);
      return undefined;
    }
    return new Promise<void>((resolve) => waiters.push(resolve));
  }

  release(key: string): void {
    const waiters = this.slots.get(key);
    if (waiters === undefined) return;
    const next = waiters.shift();
    if (next) next();
    else this.slots.delete(key);
  }

  isHeld(key: string): boolean {
    return this.slots.has(key);
  }
}

/** flock(LOCK_EX): at once when free, else waited for on libuv's threadpool (never on the event loop). */
export async function flockExclusive(fd: number): Promise<void> {
  try {
    fsExt.flockSync(fd, 'exnb');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') throw e;
    await new Promise<void>((resolve, reject) => fsExt.flock(fd, 'ex', (err) => (err ? reject(err) : resolve())));
  }
}

function sameFile(fd: number, file: string): boolean {
  let onDisk: fs.Stats;
  try {
    onDisk = fs.statSync(file);
  } catch {
    return false;
  }
  const held = fs.fstatSync(fd);
  return held.ino === onDisk.ino && held.dev === onDisk.dev;
}

export interface FileLockOptions {
  /** File name prefix (oslo's lock_file_prefix); default `cinder-`. */
  prefix?: string;
  /**
   * Keep each lock file open between acquisitions (saves an open/close per use). Right for a few
   * hot names such as `lioadm`; wrong for thousands of per-volume names.
   */
  keepOpen?: boolean;
}

/** flock-based named locks in one directory, with an in-process queue in front. */
export class InterProcessLock {
  private readonly prefix: string;
  private readonly keepOpen: boolean;
  private readonly mutex = new KeyedMutex();
  private readonly openFds = new Map<string, number>();
  private dirReady = false;

  constructor(
    readonly lockDir: string,
    opts: FileLockOptions = {},
  ) {
    this.prefix = opts.prefix ?? LOCK_FILE_PREFIX;
    this.keepOpen = opts.keepOpen ?? true;
  }

  /** The lock file of `name`: `<dir>/<prefix><name>`. */
  lockFile(name: string): string {
    return path.join(this.lockDir, this.prefix + name);
  }

  /** Whether some caller in this process holds or waits for `name`. */
  isBusy(name: string): boolean {
    return this.mutex.isHeld(name);
  }

  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const wait = this.mutex.acquire(name);
    if (wait) await wait;
    let fd: number;
    try {
      fd = await this.lockFileOf(name);
    } catch (e) {
      this.mutex.release(name);
      throw e;
    }
    lockWait.observe({ lock: lockKind(this.prefix + name) }, since(t0));
    try {
      return await fn();
    } finally {
      this.unlockFile(name, fd);
      this.mutex.release(name);
    }
  }

  private openLockFile(file: string): number {
    if (!this.dirReady) {
      fs.mkdirSync(this.lockDir, { recursive: true });
      this.dirReady = true;
    }
    try {
      return fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // The directory was removed under us: recreate it once.
      fs.mkdirSync(this.lockDir, { recursive: true });
      return fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    }
  }

  private async lockFileOf(name: string): Promise<number> {
    const file = this.lockFile(name);
    for (;;) {
      let fd = this.openFds.get(name);
      if (fd === undefined) fd = this.openLockFile(file);
      try {
        await flockExclusive(fd);
      } catch (e) {
        this.closeFd(name, fd);
        throw e;
      }
      // The file may have been unlinked (lock cleanup after a volume delete) while we waited: a lock
      // on an unlinked inode excludes nobody, so start over on the current file.
      if (sameFile(fd, file)) {
        if (this.keepOpen) this.openFds.set(name, fd);
        return fd;
      }
      this.closeFd(name, fd);
    }
  }

  private unlockFile(name: string, fd: number): void {
    if (this.keepOpen) {
      try {
        fsExt.flockSync(fd, 'un');
      } catch {
        this.closeFd(name, fd);
      }
    } else {
      fs.closeSync(fd); // closing drops the flock
    }
  }

  private closeFd(name: string, fd: number): void {
    if (this.openFds.get(name) === fd) this.openFds.delete(name);
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
  }

  /**
   * Delete the lock files of `names` that nobody in this process holds or waits for (files of other
   * processes' held locks are deleted too, as Cinder does; acquirers re-check the inode after locking).
   */
  /** Whether this process holds or waits for `name`. */
  isHeldHere(name: string): boolean {
    return this.mutex.isHeld(name);
  }

  removeLockFiles(names: readonly string[]): void {
    for (const name of names) {
      if (this.mutex.isHeld(name)) continue;
      const fd = this.openFds.get(name);
      if (fd !== undefined) this.closeFd(name, fd);
      try {
        fs.unlinkSync(this.lockFile(name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  }
}

const sharedLocks = new Map<string, InterProcessLock>();

/**
 * The process-wide InterProcessLock for a lock directory (oslo `[oslo_concurrency] lock_path`), so
 * every backend of the process shares one in-process queue per name.
 */
export function externalLock(lockPath: string): InterProcessLock {
  const key = path.resolve(lockPath);
  let lock = sharedLocks.get(key);
  if (!lock) {
    lock = new InterProcessLock(key, { keepOpen: true });
    sharedLocks.set(key, lock);
  }
  return lock;
}

/**
 * The manager's coordination locks (`@coordination.synchronized`): tooz's file backend under
 * `$state_path`, one file `cinder-<name>` per lock, e.g. `cinder-<volume_id>-detach_volume`.
 * Names are given as in Cinder's decorators (`<volume_id>-detach_volume`); a name that already
 * carries the `cinder-` prefix is taken as the full lock name.
 */
export class LockManager {
  private readonly locks: InterProcessLock;

  constructor(readonly lockDir: string) {
    // Per-volume names are many and short-lived: open the file per acquisition.
    this.locks = new InterProcessLock(lockDir, { prefix: '', keepOpen: false });
  }

  private fileName(lockName: string): string {
    return lockName.startsWith(LOCK_FILE_PREFIX) ? lockName : LOCK_FILE_PREFIX + lockName;
  }

  lockFile(lockName: string): string {
    return this.locks.lockFile(this.fileName(lockName));
  }

  withLock<T>(lockName: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.withLock(this.fileName(lockName), fn);
  }

  /**
   * After a volume is deleted, drop its lock files like Cinder's `clean_volume_file_locks`:
   * `cinder-<id>` (attach), `cinder-<id>-delete_volume` and `cinder-<id>-detach_volume`.
   */
  removeVolumeLocks(volumeId: string): void {
    this.locks.removeLockFiles([
      `${LOCK_FILE_PREFIX}${volumeId}-delete_volume`,
      `${LOCK_FILE_PREFIX}${volumeId}`,
      `${LOCK_FILE_PREFIX}${volumeId}-detach_volume`,
      `${LOCK_FILE_PREFIX}${volumeId}-attachment_connection`,
    ]);
  }

  /**
   * utils.api_clean_volume_file_locks (the API, when it deletes a volume): every
   * `cinder-attachment_update-<id>-*` file of the lock directory (coordination.synchronized_remove's
   * glob), ENOENT ignored; other failures are only warned about, as Cinder's remove_lock.
   */
  removeApiVolumeLocks(volumeId: string, warn: (msg: string) => void = () => undefined): void {
    const prefix = `${LOCK_FILE_PREFIX}attachment_update-${volumeId}-`;
    let names: string[];
    try {
      names = fs.readdirSync(this.lockDir).filter((n) => n.startsWith(prefix));
    } catch {
      return;
    }
    for (const name of names) {
      if (this.locks.isHeldHere(name)) continue;
      try {
        fs.unlinkSync(path.join(this.lockDir, name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') warn(`Failed to cleanup lock ${path.join(this.lockDir, name)}: ${(e as Error).message}`);
      }
    }
  }
}
