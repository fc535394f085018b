// A real Cinder 21.3.1 service (Debian's python3-cinder, test/python/real_cinder.py) for the interop
// process tests: started in its own process group on a cluster's vhost, stopped with SIGKILL of the
// group. Shared by test/process/interop-scheduler.test.ts and retype-interop.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { REPO, type Cluster } from './cluster.js';
import { transportUrl } from './rabbit.js';

/** A freshly migrated Cinder database per test worker, copied instead of migrating each time. */
export const REAL_CINDER_DB_TEMPLATE = path.join(os.tmpdir(), `cinder-ts-real-cinder-${process.pid}.sqlite`);

export class RealCinder {
  proc?: ChildProcess;
  out = '';
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-real-'));
  constructor(private readonly args: string[]) {}

  /** Resolves on its READY line (a loaded 2-core machine needs up to ~60 s). */
  start(): Promise<void> {
    this.proc = spawn(
      '/usr/bin/python3',
      [path.join(REPO, 'test/python/real_cinder.py'), ...this.args, '--dir', this.dir, '--db-template', REAL_CINDER_DB_TEMPLATE, '--no-debug'],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`real cinder not READY in 120 s:\n${this.out.slice(-3000)}\n${this.logTail()}`)), 120_000);
      this.proc!.stdout!.on('data', (b: Buffer) => {
        this.out += b.toString();
        if (/^READY /m.test(this.out)) {
          clearTimeout(t);
          resolve();
        } else if (/^FAILED /m.test(this.out)) {
          clearTimeout(t);
          reject(new Error(`real cinder failed: ${this.out}\n${this.logTail()}`));
        }
      });
      this.proc!.stderr!.on('data', (b: Buffer) => (this.out += b.toString()));
      this.proc!.on('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`real cinder exited ${code}: ${this.out.slice(-3000)}\n${this.logTail()}`));
      });
    });
  }

  /** The whole log files' text (its service log under the workdir). */
  log(): string {
    if (!fs.existsSync(this.dir)) return '';
    const logs = fs.readdirSync(this.dir).filter((f) => f.endsWith('.log'));
    return logs.map((f) => fs.readFileSync(path.join(this.dir, f), 'utf8')).join('\n');
  }

  logTail(): string {
    return this.log().slice(-3000);
  }

  async stop(): Promise<void> {
    if (this.proc?.pid && this.proc.exitCode === null) {
      const done = new Promise((r) => this.proc!.once('exit', r));
      try {
        process.kill(-this.proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await done;
    }
    if (!process.env.CINDER_TS_KEEP_TMP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The processes of an interop test file: each test sets `cluster` and `real`, which are stopped
 * after it (the real service first); the database template goes after the file.
 */
export function interopProcesses(): { cluster?: Cluster; real?: RealCinder } {
  const p: { cluster?: Cluster; real?: RealCinder } = {};
  afterEach(async () => {
    await p.real?.stop();
    await p.cluster?.stop();
    p.real = p.cluster = undefined;
  });
  afterAll(() => fs.rmSync(REAL_CINDER_DB_TEMPLATE, { force: true }));
  return p;
}

/** A real cinder-scheduler (host realsched) on `vhost`, which knows our volume service `ours` (host@backend, zone nova). */
export function realScheduler(vhost: string, ours: string): RealCinder {
  return new RealCinder([
    'scheduler', '--transport-url', transportUrl(vhost), '--host', 'realsched',
    '--fake-service', `${ours},nova`, '--option', 'scheduler_driver_init_wait_time=1',
  ]);
}
