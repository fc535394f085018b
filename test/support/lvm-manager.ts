// The volume-manager as the unit tests run it: the real LVM driver, LIO target and locks (under a
// test's temp dir) on its database, node1@lvm, where only the command executor is a recording fake.
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { parseConfig } from '../../src/common/config.js';
import { InterProcessLock, LockManager } from '../../src/common/lock.js';
import { createLvmDriver, type LVMVolumeDriver } from '../../src/drivers/lvm.js';
import { VolumeManager, type VolumeManagerDeps } from '../../src/manager/manager.js';
import { VolumeUsageNotifier } from '../../src/manager/notifier.js';
import { OsloNotifier } from '../../src/notifier/notifier.js';
import type { FakeExecutor } from './fake-executor.js';

export const LVM_HOST = 'node1@lvm';
export const LVM_CONFIG = parseConfig(`[DEFAULT]
host = node1
enabled_backends = lvm
[lvm]
volume_group = cinder-volumes
volume_backend_name = lvm
target_ip_address = 192.168.0.10
lvm_type = default
`);

/** A debug-level logger whose JSON lines are pushed to `lines`. */
export function capturingLogger(lines: Record<string, unknown>[]): pino.Logger {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return pino({ level: 'debug' }, sink);
}

/** The LVM driver of LVM_CONFIG on `executor`, its lock under `dir`. */
export function lvmDriver(dir: string, executor: FakeExecutor, logger: pino.Logger = pino({ level: 'silent' })): Promise<LVMVolumeDriver> {
  return createLvmDriver({
    backend: LVM_CONFIG.backends[0],
    defaults: { rtstool_path: 'cinder-rtstool' },
    lockPath: path.join(dir, 'lock'),
    executor,
    logger,
    sleep: async () => {},
    lock: new InterProcessLock(path.join(dir, 'lock')),
  });
}

/** A volume-manager of LVM_HOST (pool lvm) on `driver`, its locks under `dir` (host not yet initialised). */
export function lvmManager(
  dir: string,
  deps: Pick<VolumeManagerDeps, 'db' | 'driver'> & Partial<VolumeManagerDeps>,
  logger: pino.Logger = pino({ level: 'silent' }),
): VolumeManager {
  return new VolumeManager({
    locks: new LockManager(path.join(dir, 'state')),
    // The log driver: the unit tests read the notifications from the captured log lines.
    notifier: new VolumeUsageNotifier(new OsloNotifier({ driver: ['log'], transport_url: undefined, topics: ['notifications'], retry: -1 }, logger), LVM_HOST),
    logger,
    host: LVM_HOST,
    pool: 'lvm',
    ...deps,
  });
}
