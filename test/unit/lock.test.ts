import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InterProcessLock, LockManager, externalLock } from '../../src/common/lock.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const lockModule = path.resolve(here, '../../src/common/lock.ts');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-lock-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** True when someone holds an flock on `file` (flock(1) cannot take it without waiting). */
function heldByFlock(file: string): boolean {
  return spawnSync('flock', ['-n', file, 'true']).status !== 0;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InterProcessLock in one process', () => {
  it('creates <dir>/cinder-<name> (and the directory) and holds an flock on it during fn', async () => {
    const lockDir = path.join(dir, 'nested', 'locks');
    const lock = new InterProcessLock(lockDir);
    const file = path.join(lockDir, 'cinder-lioadm');
    const inside = await lock.withLock('lioadm', async () => heldByFlock(file));
    expect(inside).toBe(true);
    expect(fs.existsSync(file)).toBe(true);
    expect(heldByFlock(file)).toBe(false);
  });

  it('never lets two holders of the same name overlap, and serves them in order', async () => {
    const lock = new InterProcessLock(dir);
    let active = 0;
    let maxActive = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        lock.withLock('lioadm', async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          order.push(i);
          await tick(i % 3);
          active--;
        }),
      ),
    );
    expect(maxActive).toBe(1);
    expect(order).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('lets different names proceed at the same time', async () => {
    const lock = new InterProcessLock(dir);
    let releaseA!: () => void;
    const aHeld = new Promise<void>((r) => (releaseA = r));
    const a = lock.withLock('a', () => aHeld);
    const b = lock.withLock('b', async () => {
      releaseA(); // only reachable while 'a' is still held
      return 'b-done';
    });
    await expect(b).resolves.toBe('b-done');
    await a;
  });

  it('releases the lock when fn throws', async () => {
    const lock = new InterProcessLock(dir);
    await expect(lock.withLock('x', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.withLock('x', async () => 'next')).resolves.toBe('next');
    expect(lock.isBusy('x')).toBe(false);
    expect(heldByFlock(path.join(dir, 'cinder-x'))).toBe(false);
  });

  it('two lock objects on the same directory exclude each other through the file', async () => {
    const l1 = new InterProcessLock(dir, { keepOpen: false });
    const l2 = new InterProcessLock(dir, { keepOpen: true });
    const events: string[] = [];
    await Promise.all(
      [l1, l2, l1, l2].map((l, i) =>
        l.withLock('lioadm', async () => {
          events.push(`start${i}`);
          await tick(5);
          events.push(`end${i}`);
        }),
      ),
    );
    for (let k = 0; k < events.length; k += 2) {
      expect(events[k].replace('start', '')).toBe(events[k + 1].replace('end', ''));
    }
  });

  it('re-locks the current file when the one it waited on was unlinked meanwhile', async () => {
    const holder = new InterProcessLock(dir, { keepOpen: false });
    const waiter = new InterProcessLock(dir, { keepOpen: false });
    const file = path.join(dir, 'cinder-vol');
    let waiterInside: boolean | undefined;
    const h = holder.withLock('vol', async () => {
      const w = waiter.withLock('vol', async () => {
        waiterInside = heldByFlock(file);
        return fs.statSync(file).ino;
      });
      await tick(50); // let the waiter block on the old file
      fs.unlinkSync(file);
      return { w }; // do not wait for the waiter while holding the lock
    });
    const inode = await (await h).w;
    expect(waiterInside).toBe(true);
    expect(fs.statSync(file).ino).toBe(inode);
  });

  it('externalLock shares one instance per lock directory', () => {
    expect(externalLock(dir)).toBe(externalLock(path.join(dir, '.')));
  });
});

describe('InterProcessLock across processes', () => {
  const childScript = (lockDir: string, record: string, holdMs: number) => `
    import fs from 'node:fs';
    import { InterProcessLock } from ${JSON.stringify(lockModule)};
    const lock = new InterProcessLock(${JSON.stringify(lockDir)});
    process.stdout.write('WAITING\\n');
    await lock.withLock('lioadm', async () => {
      fs.appendFileSync(${JSON.stringify(record)}, 'child-start\\n');
      process.stdout.write('LOCKED\\n');
      await new Promise((r) => setTimeout(r, ${holdMs}));
      fs.appendFileSync(${JSON.stringify(record)}, 'child-end\\n');
    });
  `;

  function runChild(script: string) {
    const file = path.join(dir, `child-${Math.random().toString(36).slice(2)}.mts`);
    fs.writeFileSync(file, script);
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const seen = (word: string) =>
      new Promise<void>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes(word)) resolve();
        });
        child.once('exit', () => (buf.includes(word) ? resolve() : reject(new Error(`child exited before ${word}`))));
      });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { seen, exited };
  }

  it('a holder in another process keeps this process out until it releases', async () => {
    const record = path.join(dir, 'record');
    const child = runChild(childScript(dir, record, 300));
    await child.seen('LOCKED');
    const lock = new InterProcessLock(dir);
    await lock.withLock('lioadm', async () => {
      fs.appendFileSync(record, 'parent-start\n');
      fs.appendFileSync(record, 'parent-end\n');
    });
    expect(await child.exited).toBe(0);
    expect(fs.readFileSync(record, 'utf8').trim().split('\n')).toEqual(['child-start', 'child-end', 'parent-start', 'parent-end']);
  }, 30_000);

  it('a holder in this process keeps another process out until it releases', async () => {
    const record = path.join(dir, 'record');
    const lock = new InterProcessLock(dir);
    let child!: ReturnType<typeof runChild>;
    await lock.withLock('lioadm', async () => {
      fs.appendFileSync(record, 'parent-start\n');
      child = runChild(childScript(dir, record, 0));
      await child.seen('WAITING');
      await tick(300); // give the child every chance to (wrongly) get in
      fs.appendFileSync(record, 'parent-end\n');
    });
    expect(await child.exited).toBe(0);
    expect(fs.readFileSync(record, 'utf8').trim().split('\n')).toEqual(['parent-start', 'parent-end', 'child-start', 'child-end']);
  }, 30_000);
});

describe('LockManager (coordination locks under $state_path)', () => {
  it('names lock files cinder-<name> and accepts full names', async () => {
    const lm = new LockManager(dir);
    expect(lm.lockFile('V1-detach_volume')).toBe(path.join(dir, 'cinder-V1-detach_volume'));
    expect(lm.lockFile('cinder-V1-detach_volume')).toBe(path.join(dir, 'cinder-V1-detach_volume'));
    const inside = await lm.withLock('V1-detach_volume', async () => heldByFlock(path.join(dir, 'cinder-V1-detach_volume')));
    expect(inside).toBe(true);
  });

  it('serializes holders of one volume lock', async () => {
    const lm = new LockManager(dir);
    let active = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        lm.withLock('V2-detach_volume', async () => {
          max = Math.max(max, ++active);
          await tick(1);
          active--;
        }),
      ),
    );
    expect(max).toBe(1);
  });

  it('removeVolumeLocks deletes the volume lock files only', async () => {
    const lm = new LockManager(dir);
    for (const n of ['V3', 'V3-detach_volume', 'V3-delete_volume', 'V4-detach_volume']) {
      await lm.withLock(n, async () => undefined);
    }
    lm.removeVolumeLocks('V3');
    expect(fs.readdirSync(dir).sort()).toEqual(['cinder-V4-detach_volume']);
    lm.removeVolumeLocks('V3'); // nothing left: no error
  });

  it('removeVolumeLocks keeps a lock that is held in this process', async () => {
    const lm = new LockManager(dir);
    await lm.withLock('V5-detach_volume', async () => {
      lm.removeVolumeLocks('V5');
      expect(fs.existsSync(path.join(dir, 'cinder-V5-detach_volume'))).toBe(true);
    });
  });
});
