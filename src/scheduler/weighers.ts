// cinder/scheduler/base_weight.py (normalize, BaseWeigher, get_weighed_objects) and
// cinder/scheduler/weights/capacity.py (CapacityWeigher, AllocatedCapacityWeigher).
import type { Logger } from '../common/log.js';
import { calculateVirtualFreeCapacity, requestIsThin } from './filters.js';
import type { BackendState } from './host-manager.js';
import { DEFAULT_SCHEDULER_OPTIONS, type FilterProperties, type SchedulerOptions } from './types.js';

/**
 * base_weight.normalize: scale to [0, 1] between minval and maxval (the list's own extremes unless
 * given). When every value is the same, all become 0 rather than dividing by zero.
 */
export function normalize(weights: number[], minval?: number | null, maxval?: number | null): number[] {
  if (!weights.length) return [];
  const max = maxval ?? Math.max(...weights);
  const min = minval ?? Math.min(...weights);
  if (min === max) return weights.map(() => 0);
  const range = max - min;
  return weights.map((w) => (w - min) / range);
}

/** weights.WeighedHost: a backend and its accumulated weight. */
export interface WeighedBackend {
  obj: BackendState;
  weight: number;
}

/** base_weight.BaseWeigher. A fresh instance per weighing, as Cinder builds one per call. */
export abstract class BaseWeigher {
  abstract readonly name: string;
  minval: number | null = null;
  maxval: number | null = null;

  weightMultiplier(): number {
    return 1.0;
  }

  protected abstract weighObject(obj: BackendState, props: FilterProperties): number;

  /** Weigh every object and track the extremes the normalization will use. */
  weighObjects(objs: WeighedBackend[], props: FilterProperties): number[] {
    const weights: number[] = [];
    for (const o of objs) {
      const w = this.weighObject(o.obj, props);
      if (this.minval === null) this.minval = w;
      if (this.maxval === null) this.maxval = w;
      if (w < this.minval) this.minval = w;
      else if (w > this.maxval) this.maxval = w;
      weights.push(w);
    }
    return weights;
  }
}

// weights/capacity.py: how far above the largest finite weight an infinite one is placed.
const OFFSET_MIN = 10000;
const OFFSET_MULT = 100;

/**
 * Spread by virtual free capacity (thin: over-subscribed free space; thick: real free space less the
 * reserve). 'infinite'/'unknown' backends are made least attractive whichever way the multiplier points.
 */
export class CapacityWeigher extends BaseWeigher {
  readonly name = 'CapacityWeigher';
  constructor(private readonly multiplier: number) {
    super();
  }

  override weightMultiplier(): number {
    return this.multiplier;
  }

  override weighObjects(objs: WeighedBackend[], props: FilterProperties): number[] {
    let weights = super.weighObjects(objs, props);
    // An infinite weight only arises with a negative multiplier (stacking); put it just past the
    // largest finite weight so it normalizes to 1 and, multiplied, ends last. When every weight is
    // infinite they are left alone and normalize to 0 (Cinder's max() of nothing would raise).
    const finite = weights.filter((w) => Number.isFinite(w));
    if (this.maxval !== null && this.maxval === Infinity && finite.length) {
      this.maxval = Math.max(...finite);
      const offset = (this.maxval - (this.minval as number)) * OFFSET_MULT;
      this.maxval += offset === 0 ? OFFSET_MIN : offset;
      const top = this.maxval;
      weights = weights.map((w) => (Number.isFinite(w) ? w : top));
    }
    return weights;
  }

  protected weighObject(b: BackendState, props: FilterProperties): number {
    const free = b.free_capacity_gb;
    const total = b.total_capacity_gb;
    if (free === 'infinite' || free === 'unknown' || total === 'infinite' || total === 'unknown') {
      return this.multiplier > 0 ? -1 : Infinity;
    }
    return calculateVirtualFreeCapacity(
      total as number, free as number, b.provisioned_capacity_gb, b.thin_provisioning_support,
      b.max_over_subscription_ratio, b.reserved_percentage, requestIsThin(props),
    );
  }
}

/** Prefer the backend with the least allocated space (multiplier -1 by default). */
export class AllocatedCapacityWeigher extends BaseWeigher {
  readonly name = 'AllocatedCapacityWeigher';
  constructor(private readonly multiplier: number) {
    super();
  }

  override weightMultiplier(): number {
    return this.multiplier;
  }

  protected weighObject(b: BackendState): number {
    return b.allocated_capacity_gb;
  }
}

export type WeigherFactory = () => BaseWeigher;

/**
 * host_manager._choose_backend_weighers: weigher names to factories. An unknown name is Cinder's
 * SchedulerHostWeigherNotFound; it is a plain Error here.
 */
export function chooseBackendWeighers(names: string[], options: SchedulerOptions = {}): WeigherFactory[] {
  const capMult = options.capacity_weight_multiplier ?? DEFAULT_SCHEDULER_OPTIONS.capacity_weight_multiplier;
  const allocMult = options.allocated_capacity_weight_multiplier ?? DEFAULT_SCHEDULER_OPTIONS.allocated_capacity_weight_multiplier;
  const known: Record<string, WeigherFactory> = {
    CapacityWeigher: () => new CapacityWeigher(capMult),
    AllocatedCapacityWeigher: () => new AllocatedCapacityWeigher(allocMult),
  };
  const bad = names.filter((n) => !(n in known));
  if (bad.length) throw new Error(`Scheduler Host Weigher ${bad.join(', ')} could not be found.`);
  return names.map((n) => known[n]);
}

/**
 * base_weight.BaseWeightHandler.get_weighed_objects: each weigher's normalized weights, times its
 * multiplier, are summed; the result is sorted by weight, highest first (stable, as Python's sort).
 */
export function getWeighedObjects(
  weighers: WeigherFactory[], objs: BackendState[], props: FilterProperties, log?: Logger,
): WeighedBackend[] {
  if (!objs.length) return [];
  const weighed: WeighedBackend[] = objs.map((obj) => ({ obj, weight: 0.0 }));
  for (const make of weighers) {
    const weigher = make();
    const weights = normalize(weigher.weighObjects(weighed, props), weigher.minval, weigher.maxval);
    weights.forEach((w, i) => {
      weighed[i].weight += weigher.weightMultiplier() * w;
    });
    log?.debug(`Weigher ${weigher.name} returned, weigher value is {max: ${weigher.maxval}, min: ${weigher.minval}}`);
  }
  return [...weighed].sort((a, b) => b.weight - a.weight);
}
