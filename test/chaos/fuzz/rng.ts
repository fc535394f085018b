// The fuzzer's seeded randomness: every choice of a run comes from one Rng, so a seed replays it.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    // mulberry32
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  /** [weight, value] pairs. */
  weighted<T>(a: readonly (readonly [number, T])[]): T {
    const total = a.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of a) {
      if ((r -= w) < 0) return v;
    }
    return a[a.length - 1][1];
  }
  uuid(): string {
    const h = () => this.int(16).toString(16);
    const s = (n: number) => Array.from({ length: n }, h).join('');
    return `${s(8)}-${s(4)}-4${s(3)}-${this.pick(['8', '9', 'a', 'b'])}${s(3)}-${s(12)}`;
  }
}
