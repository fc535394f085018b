// After cinder/tests/unit/scheduler/test_host_filters.py: CapacityFilterTestCase, the
// availability-zone and ignore-attempted-hosts cases, and base_filter's handler behaviour.
import { describe, expect, it, vi } from 'vitest';
import {
  AvailabilityZoneFilter, CapacityFilter, calculateCapacityFactors, calculateMaxOverSubscriptionRatio, chooseBackendFilters,
  getFilteredObjects, IgnoreAttemptedHostsFilter, pyRound2,
} from '../../../src/scheduler/filters.js';
import type { Logger } from '../../../src/common/log.js';
import { fakeBackend } from './fakes.js';

const spec = { volume_id: 'fake-volume' };
const capacity = (attrs: Record<string, unknown>, props: Record<string, unknown>, host = 'host1') =>
  new CapacityFilter().backendPasses(fakeBackend(host, { service: { disabled: false }, ...attrs }), { request_spec: spec, ...props });
const thin = (t: number, f: number, p: number, ratio: number, reserved: number, thick = false) => ({
  total_capacity_gb: t, free_capacity_gb: f, provisioned_capacity_gb: p, max_over_subscription_ratio: ratio,
  reserved_percentage: reserved, thin_provisioning_support: true, thick_provisioning_support: thick,
});

describe('CapacityFilter', () => {
  it('passes / fails on plain free space with the reserve taken off', () => {
    expect(capacity({ total_capacity_gb: 500, free_capacity_gb: 200 }, { size: 100 })).toBe(true);
    expect(new CapacityFilter().backendPasses(fakeBackend('h', { total_capacity_gb: 500, free_capacity_gb: 200 }), { size: 100 })).toBe(true);
    expect(capacity({ total_capacity_gb: 200, free_capacity_gb: 120, reserved_percentage: 20 }, { size: 121 })).toBe(false);
  });

  it('lets the backend a volume already lives on through (retype)', () => {
    expect(capacity({ total_capacity_gb: 100, free_capacity_gb: 10 }, { size: 100, vol_exists_on: 'host1' })).toBe(true);
  });

  it('fails safe when free capacity was never reported, and passes manage (size 0)', () => {
    expect(capacity({ free_capacity_gb: null }, { size: 100 })).toBe(false);
    expect(capacity(thin(500, 200, 1500, 2.0, 5), { size: 0 })).toBe(true);
  });

  it('counts only the growth of an extend', () => {
    expect(capacity({ free_capacity_gb: 200, total_capacity_gb: 500 }, { new_size: 100, size: 50 })).toBe(true);
    expect(capacity({ free_capacity_gb: 49, total_capacity_gb: 500 }, { size: 50 })).toBe(false);
  });

  it('trusts infinite / unknown free space; an infinite total only without a reserve', () => {
    expect(capacity({ free_capacity_gb: 'infinite' }, { size: 100 })).toBe(true);
    expect(capacity({ free_capacity_gb: 'unknown' }, { size: 100 })).toBe(true);
    expect(capacity({ free_capacity_gb: 'infinite', total_capacity_gb: 'infinite', reserved_percentage: 0 }, { size: 100 })).toBe(true);
    expect(capacity({ free_capacity_gb: 'unknown', total_capacity_gb: 'unknown', reserved_percentage: 0 }, { size: 100 })).toBe(true);
    expect(capacity({ free_capacity_gb: 100, total_capacity_gb: 'infinite', reserved_percentage: 5 }, { size: 100 })).toBe(false);
    expect(capacity({ free_capacity_gb: 100, total_capacity_gb: 'unknown', reserved_percentage: 5 }, { size: 100 })).toBe(false);
    expect(capacity({ free_capacity_gb: 100, total_capacity_gb: 0, reserved_percentage: 5 }, { size: 100 })).toBe(false);
  });

  it.each([
    ['thin_true_passes', thin(500, 200, 500, 2.0, 5), 100, true],
    ['thin_true_passes2', thin(500, 200, 7000, 20, 5), 2400, true],
    ['over_subscription_less_than_1', thin(500, 200, 400, 0.8, 0), 100, false],
    ['over_subscription_equal_to_1', thin(500, 200, 400, 1.0, 0), 150, false],
    ['over_subscription_fails', thin(500, 200, 700, 1.5, 5), 100, false],
    ['over_subscription_fails2', thin(500, 30, 9000, 20, 0), 2000, false],
    ['reserved_thin_true_fails', thin(500, 100, 1000, 2.0, 5), 100, false],
    ['reserved_thin_thick_true_fails', thin(500, 0, 800, 2.0, 5, true), 151, false],
    ['reserved_thin_thick_true_passes', thin(500, 125, 400, 2.0, 5, true), 100, true],
    ['reserved_thin_true_passes', thin(500, 80, 600, 2.0, 5), 100, true],
    ['reserved_thin_thick_true_fails2', thin(500, 99, 1000, 2.0, 5, true), 100, false],
    ['reserved_thin_thick_true_passes2', thin(500, 100, 400, 2.0, 0, true), 100, true],
  ] as Array<[string, Record<string, unknown>, number, boolean]>)('%s', (_n, attrs, size, expected) => {
    expect(capacity(attrs, { size })).toBe(expected);
  });

  it('ignores the ratio of a pool without thin support', () => {
    const attrs = { total_capacity_gb: 500, free_capacity_gb: 200, provisioned_capacity_gb: 300, max_over_subscription_ratio: 1.0, reserved_percentage: 5, thin_provisioning_support: false, thick_provisioning_support: true };
    expect(capacity(attrs, { size: 100 })).toBe(true);
    expect(capacity({ ...attrs, free_capacity_gb: 100, provisioned_capacity_gb: 400 }, { size: 100 })).toBe(false);
  });

  it.each([{ 'provisioning:type': 'thick' }, { 'provisioning:type': 'thin' }, {}, undefined, null])(
    'provisioning type %j on a thin+thick pool passes',
    (extra) => {
      const volume_type = extra === null ? null : extra === undefined ? {} : { extra_specs: extra };
      expect(capacity(thin(500, 100, 400, 2.0, 0, true), { size: 100, volume_type })).toBe(true);
    },
  );

  it('a thick request on a thin pool is held to the real free space', () => {
    // thin: 500*2 - 400 = 600 free; thick: min(100, 500 - 400) = 100
    expect(capacity(thin(500, 100, 400, 2.0, 0, true), { size: 150 })).toBe(true);
    expect(capacity(thin(500, 100, 400, 2.0, 0, true), { size: 150, volume_type: { extra_specs: { 'provisioning:type': 'thick' } } })).toBe(false);
  });

  it('logs Cinder-worded warnings', () => {
    const warn = vi.fn();
    const log = { debug: vi.fn(), info: vi.fn(), warn, error: vi.fn() } as unknown as Logger;
    new CapacityFilter(log).backendPasses(fakeBackend('host1', thin(500, 200, 700, 1.5, 5)), { size: 100 });
    expect(warn.mock.calls[0][0]).toBe('Insufficient free virtual space (12.5GB) to accommodate thin provisioned 100GB volume on host host1.');
    // (1000 + 100) / ((500 - 25) * 1.5)
    new CapacityFilter(log).backendPasses(fakeBackend('host1', thin(500, 200, 1000, 1.5, 5)), { size: 100 });
    expect(warn.mock.calls[1][0]).toMatch(/^Insufficient free space for thin provisioning\. The ratio of provisioned capacity over total capacity 1\.54 has exceeded the maximum over subscription ratio 1\.50 on host host1\.$/);
  });
});

describe('capacity arithmetic (cinder/utils.py)', () => {
  it('calculate_capacity_factors thin and thick', () => {
    const t = calculateCapacityFactors(2048, 300, 1748, true, 1.5, 10, true);
    expect(t).toMatchObject({ reserved_capacity: 204, total_available_capacity: 2766, virtual_free_capacity: 1018, provisioned_type: 'thin' });
    const k = calculateCapacityFactors(1024, 1024, 0, false, 1, 10, true);
    expect(k).toMatchObject({ reserved_capacity: 102, virtual_free_capacity: 922, max_over_subscription_ratio: null, provisioned_type: 'thick' });
  });

  it("round(x, 2) as Python's (ties to even)", () => {
    expect(pyRound2(0.125)).toBe(0.12);
    expect(pyRound2(0.375)).toBe(0.38);
    expect(pyRound2(1.005)).toBe(1.0);
    expect(pyRound2(2.675)).toBe(2.67);
    expect(pyRound2(-0.125)).toBe(-0.12);
    expect(pyRound2(-101)).toBe(-101);
  });

  it('calculate_max_over_subscription_ratio incl. auto', () => {
    const base = { total_capacity_gb: 100, free_capacity_gb: 60, thin_provisioning_support: true };
    expect(calculateMaxOverSubscriptionRatio({ ...base, max_over_subscription_ratio: '1.5' }, '20.0')).toBe(1.5);
    expect(calculateMaxOverSubscriptionRatio(base, '20.0')).toBe(20);
    expect(calculateMaxOverSubscriptionRatio({ ...base, max_over_subscription_ratio: '3' }, '20.0')).toBe(3);
    expect(calculateMaxOverSubscriptionRatio({ ...base, thin_provisioning_support: false, max_over_subscription_ratio: '3' }, '20')).toBe(1);
    expect(calculateMaxOverSubscriptionRatio({ ...base, free_capacity_gb: 'unknown', max_over_subscription_ratio: '3' }, '20')).toBe(1);
    // auto: 1 + provisioned / (used + 1)
    expect(calculateMaxOverSubscriptionRatio({ ...base, provisioned_capacity_gb: 82, max_over_subscription_ratio: 'auto' }, '20')).toBe(3);
    expect(calculateMaxOverSubscriptionRatio({ ...base, provisioned_capacity_gb: 0, max_over_subscription_ratio: 'auto' }, '20')).toBe(20);
    expect(calculateMaxOverSubscriptionRatio({ ...base, allocated_capacity_gb: 41 }, 'auto')).toBe(2);
  });
});

describe('AvailabilityZoneFilter', () => {
  const b = fakeBackend('host1', { service: { availability_zone: 'nova' } });
  const f = new AvailabilityZoneFilter();
  it('same / different / empty zone, and the availability_zones list', () => {
    expect(f.backendPasses(b, { request_spec: { resource_properties: { availability_zone: 'nova' } } })).toBe(true);
    expect(f.backendPasses(b, { request_spec: { resource_properties: { availability_zone: 'nova2' } } })).toBe(false);
    expect(f.backendPasses(b, { request_spec: { resource_properties: {} } })).toBe(true);
    expect(f.backendPasses(b, { request_spec: { availability_zones: ['nova1', 'nova'] } })).toBe(true);
    expect(f.backendPasses(b, { request_spec: { availability_zones: ['nova1', 'nova2'], resource_properties: { availability_zone: 'nova' } } })).toBe(false);
  });
});

describe('IgnoreAttemptedHostsFilter and the handler', () => {
  it('skips backends already tried in this request', () => {
    const f = new IgnoreAttemptedHostsFilter();
    const b = fakeBackend('host1', {});
    expect(f.backendPasses(b, {})).toBe(true);
    expect(f.backendPasses(b, { retry: { num_attempts: 2, backends: ['host2'] } })).toBe(true);
    expect(f.backendPasses(b, { retry: { num_attempts: 2, backends: ['host1', 'host2'] } })).toBe(false);
  });

  it('chooses filters by class name and rejects unknown ones with Cinder text', () => {
    expect(chooseBackendFilters(['CapacityFilter', 'AvailabilityZoneFilter']).map((f) => f.name)).toEqual(['CapacityFilter', 'AvailabilityZoneFilter']);
    expect(() => chooseBackendFilters(['FakeFilter1', 'CapacityFilter', 'FakeFilter2'])).toThrow('Scheduler Host Filter FakeFilter1, FakeFilter2 could not be found.');
  });

  it('runs once-per-request filters only for the first index and reports an empty result', () => {
    const info = vi.fn();
    const log = { debug: vi.fn(), info, warn: vi.fn(), error: vi.fn() } as unknown as Logger;
    const backends = [fakeBackend('host1', { service: { availability_zone: 'a' } })];
    const filters = chooseBackendFilters(['AvailabilityZoneFilter']);
    const props = { request_spec: { volume_id: 'v1', resource_properties: { availability_zone: 'b' } } };
    expect(getFilteredObjects(filters, backends, props, log, 1)).toHaveLength(1);
    expect(getFilteredObjects(filters, backends, props, log, 0)).toHaveLength(0);
    expect(info).toHaveBeenCalledWith("Filtering removed all hosts for the request with volume ID 'v1'. Filter results: AvailabilityZoneFilter: (start: 1, end: 0)");
  });
});
