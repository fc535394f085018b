// SharedRun (src/common/shared-run.ts): the group commit of `cinder-rtstool save` and the shared
// `get-targets` of the LIO helper, on a modelled lock.
import { Mutex } from 'async-mutex';
import { describe, expect, it } from 'vitest';
import { SharedRun } from '../../src/common/shared-run.js';

/** A lock like `lioadm` and a command whose runs are counted; `gate` holds a run until released. */
function harness(joinStarted: boolean) {
  const lock = new Mutex();
  let runs = 0;
  let gate: Promise<void> = Promise.resolve();
  let fail: Error | null = null;
  const shared = new SharedRun<number>(
    (started) =>
      lock.runExclusive(async () => {
        started();
        const n = ++runs;
        await gate;
        if (fail) throw fail;
        return n;
      }),
    { joinStarted },
  );
  return {
    lock,
    shared,
    runs: () => runs,
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return release;
    },
    failWith(e: Error | null) {
      fail = e;
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SharedRun', () => {
  it('runs once per caller when callers come one at a time (Cinder argv unchanged)', async () => {
    const h = harness(true);
    expect(await h.shared.request()).toBe(1);
    expect(await h.shared.request()).toBe(2);
    expect(await h.shared.request()).toBe(3);
  });

  it('callers that ask while a run waits for the lock share that one run', async () => {
    const h = harness(false);
    const releaseLock = await h.lock.acquire(); // another rtstool call holds the lock
    const answers = Promise.all([h.shared.request(), h.shared.request(), h.shared.request()]);
    await tick();
    expect(h.runs()).toBe(0);
    releaseLock();
    expect(await answers).toEqual([1, 1, 1]);
    expect(h.runs()).toBe(1);
  });

  it('a listing that already started does not answer a later caller (it may predate its question)', async () => {
    const h = harness(false);
    const release = h.hold();
    const first = h.shared.request();
    await tick();
    expect(h.runs()).toBe(1);
    const second = h.shared.request(); // queued behind the running one: a new run
    release();
    expect(await first).toBe(1);
    expect(await second).toBe(2);
  });

  it('a save under way answers a later caller (its change ended before the save took the lock)', async () => {
    const h = harness(true);
    const release = h.hold();
    const first = h.shared.request();
    await tick();
    const second = h.shared.request();
    release();
    expect(await first).toBe(1);
    expect(await second).toBe(1);
    expect(h.runs()).toBe(1);
    expect(await h.shared.request()).toBe(2); // after it ended, a new one
  });

  it('a failed run fails every caller that shared it, and the next caller starts a new run', async () => {
    const h = harness(true);
    const releaseLock = await h.lock.acquire();
    h.failWith(new Error('save failed'));
    const a = h.shared.request();
    const b = h.shared.request();
    releaseLock();
    await expect(a).rejects.toThrow('save failed');
    await expect(b).rejects.toThrow('save failed');
    h.failWith(null);
    expect(await h.shared.request()).toBe(2);
  });
});
