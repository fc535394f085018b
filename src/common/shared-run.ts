// One run of an idempotent command that several callers ask for at about the same time, the way a
// database's group commit shares one log flush among the transactions that wait for it.
//
// The LIO helper uses it for `cinder-rtstool save` and `get-targets` (src/targets/lio.ts): every
// rtstool call of the host waits its turn on the `lioadm` lock, so under load a queue forms, and a
// save (or a target listing) still waiting in that queue serves everyone who asks before it starts.
// A caller is only ever answered by a run that starts after it asked (a listing), or — with
// `joinStarted` — by a run that is already under way when it asks: for `save` that is enough, because
// the caller's own change ran under the same exclusive lock and finished before it asked, so any save
// that holds the lock now started after that change.

/** `run(started)` performs the command; it calls `started()` once it holds the lock, just before it runs. */
export type LockedRun<T> = (started: () => void) => Promise<T>;

export class SharedRun<T> {
  /** Asked for, not yet started: new callers join it. */
  private waiting: Promise<T> | null = null;
  /** Under way (only tracked with joinStarted). */
  private running: Promise<T> | null = null;

  constructor(
    private readonly run: LockedRun<T>,
    private readonly opts: { joinStarted: boolean },
  ) {}

  request(): Promise<T> {
    if (this.waiting) return this.waiting;
    if (this.opts.joinStarted && this.running) return this.running;
    let started = false;
    let p: Promise<T> | undefined;
    p = this.run(() => {
      started = true;
      if (p === undefined) return; // started at once; recorded below
      if (this.waiting === p) this.waiting = null;
      if (this.opts.joinStarted) this.running = p;
    });
    if (!started) this.waiting = p;
    else if (this.opts.joinStarted) this.running = p;
    const done = p;
    const clear = () => {
      if (this.waiting === done) this.waiting = null;
      if (this.running === done) this.running = null;
    };
    done.then(clear, clear);
    return done;
  }
}
