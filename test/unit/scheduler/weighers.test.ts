// After cinder/tests/unit/scheduler/test_capacity_weigher.py, test_allocated_capacity_weigher.py
// and test_weights.py (base_weight.normalize).
import { describe, expect, it } from 'vitest';
import { extractHost } from '../../../src/scheduler/host-manager.js';
import { chooseBackendWeighers, getWeighedObjects, normalize } from '../../../src/scheduler/weighers.js';
import type { Capabilities, FilterProperties, SchedulerOptions } from '../../../src/scheduler/types.js';
import { fakeHostManager } from './fakes.js';

function weigh(options: SchedulerOptions, props: FilterProperties = { size: 1 }, edit?: (s: Record<string, Capabilities>) => void) {
  const { hm, services, states } = fakeHostManager(false, options);
  if (edit) {
    edit(states);
    hm.serviceStates.clear();
    for (const [h, c] of Object.entries(states)) hm.updateServiceCapabilities('volume', h, c, null, '2024-05-01T10:00:01');
  }
  const backends = hm.getAllBackendStates(services);
  const weighers = chooseBackendWeighers(options.scheduler_default_weighers ?? ['CapacityWeigher'], options);
  return getWeighedObjects(weighers, backends, props).map((w) => ({ host: extractHost(w.obj.host), weight: w.weight }));
}

describe('normalize', () => {
  it('scales between the extremes; all-equal values become 0', () => {
    expect(normalize([])).toEqual([]);
    expect(normalize([1, 2, 3])).toEqual([0, 0.5, 1]);
    expect(normalize([2, 2, 2])).toEqual([0, 0, 0]);
    expect(normalize([1, 2, 3], 0, 4)).toEqual([0.25, 0.5, 0.75]);
    expect(normalize([5], 5, 5)).toEqual([0]);
  });
});

const types = [{ extra_specs: { 'provisioning:type': 'thin' } }, { extra_specs: { 'provisioning:type': 'thick' } }, { extra_specs: {} }, {}, null];

describe('CapacityWeigher', () => {
  it.each(types.map((t, i) => [t, i === 1 ? 'host1' : 'host2']))('spreads by default (type %j wins %s)', (volume_type, winner) => {
    // host1 thick 1024-102=922, host2 thin (2048-204)*1.5-1748=1018 (thick: 300), host3 256, host4 -101, host5 unknown -1
    const [top] = weigh({}, { size: 1, volume_type: volume_type as never });
    expect(top).toEqual({ host: winner, weight: 1.0 });
  });

  it.each(types)('multiplier -1 stacks: host4 wins with 0.0 (type %j)', (volume_type) => {
    const res = weigh({ capacity_weight_multiplier: -1.0 }, { size: 1, volume_type: volume_type as never });
    expect(res[0]).toEqual({ host: 'host4', weight: 0.0 });
    // the unknown-capacity backend is placed past the largest weight: last with -1.0
    expect(res[res.length - 1]).toEqual({ host: 'host5', weight: -1.0 });
  });

  it.each(types.map((t, i) => [t, i === 1 ? 'host1' : 'host2']))('multiplier 2 doubles the weights (type %j wins %s)', (volume_type, winner) => {
    const [top] = weigh({ capacity_weight_multiplier: 2.0 }, { size: 1, volume_type: volume_type as never });
    expect(top).toEqual({ host: winner, weight: 2.0 });
  });

  it('without unknown/infinite backends, -1 puts host2 last', () => {
    const res = weigh({ capacity_weight_multiplier: -1.0 }, { size: 1 }, (s) => delete s.host5);
    expect(res[0]).toEqual({ host: 'host4', weight: 0.0 });
    expect(res[res.length - 1]).toEqual({ host: 'host2', weight: -1.0 });
    expect(res.find((r) => r.host === 'host1')!.weight).toBeCloseTo(-(922 + 101) / (1018 + 101), 12);
  });

  it.each([
    ['free unknown', 3000, 'unknown'],
    ['total unknown', 'unknown', 3000],
    ['free infinite', 3000, 'infinite'],
    ['total infinite', 'infinite', 3000],
  ])('%s is the worst backend when stacking', (_n, total, free) => {
    const res = weigh({ capacity_weight_multiplier: -1.0 }, { size: 1 }, (s) => {
      s.host5 = {
        total_capacity_gb: total, free_capacity_gb: free, allocated_capacity_gb: 1548, provisioned_capacity_gb: 1548,
        max_over_subscription_ratio: 1.0, thin_provisioning_support: true, thick_provisioning_support: false, reserved_percentage: 5,
      };
    });
    expect(res[0]).toEqual({ host: 'host4', weight: 0.0 });
    expect(res[res.length - 1]).toEqual({ host: 'host5', weight: -1.0 });
  });

  it('all backends infinite: every weight normalizes to 0', () => {
    const res = weigh({ capacity_weight_multiplier: -1.0 }, { size: 1 }, (s) => {
      for (const k of Object.keys(s)) s[k] = { ...s[k], free_capacity_gb: 'infinite' };
    });
    expect(res.every((r) => r.weight === 0)).toBe(true);
  });
});

describe('AllocatedCapacityWeigher', () => {
  const opts = (m?: number): SchedulerOptions => ({
    scheduler_default_weighers: ['AllocatedCapacityWeigher'],
    ...(m === undefined ? {} : { allocated_capacity_weight_multiplier: m }),
  });
  it('prefers the least allocated backend by default', () => {
    // allocated: host1 0, host2 1748, host3 256, host4 1848, host5 1548
    const res = weigh(opts());
    expect(res[0]).toEqual({ host: 'host1', weight: 0.0 });
    expect(res[res.length - 1]).toEqual({ host: 'host4', weight: -1.0 });
  });
  it('a positive multiplier stacks on the most allocated', () => {
    expect(weigh(opts(1.0))[0]).toEqual({ host: 'host4', weight: 1.0 });
    expect(weigh(opts(2.0))[0]).toEqual({ host: 'host4', weight: 2.0 });
  });
  it('weighers add up, and unknown names are refused', () => {
    const res = weigh({ scheduler_default_weighers: ['CapacityWeigher', 'AllocatedCapacityWeigher'] });
    expect(res[0].host).toBe('host1');
    // capacity (922 + 101) / (1018 + 101), allocated 0 → 0
    expect(res[0].weight).toBeCloseTo(1023 / 1119, 12);
    expect(() => chooseBackendWeighers(['NoSuchWeigher'])).toThrow('Scheduler Host Weigher NoSuchWeigher could not be found.');
  });
});
