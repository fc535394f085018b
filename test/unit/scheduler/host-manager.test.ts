// After cinder/tests/unit/scheduler/test_host_manager.py: capability updates, readiness, backend
// states (pools, clusters, down services), get_pools and its filters, consume / revert, notifications.
import { describe, expect, it } from 'vitest';
import { BackendState, HostManager, PoolState, getUpdatedPools, toTimestamp } from '../../../src/scheduler/host-manager.js';
import type { ServiceInfo } from '../../../src/scheduler/types.js';
import { TS, fakeHostManager } from './fakes.js';

const svc = (host: string, extra: Partial<ServiceInfo> = {}): ServiceInfo => ({ host, availability_zone: 'zone1', disabled: false, is_up: true, ...extra });

describe('HostManager.updateServiceCapabilities', () => {
  it('keeps the newest report per backend, stamps unstamped ones, ignores other services', () => {
    const hm = new HostManager();
    const caps = { free_capacity_gb: 4321 };
    hm.updateServiceCapabilities('volume', 'host1', caps, null, '2024-05-01T10:00:00.5');
    hm.updateServiceCapabilities('volume', 'host1', { free_capacity_gb: 1 }, null, '2024-05-01T09:00:00.000000');
    hm.updateServiceCapabilities('volume', 'host2', { free_capacity_gb: 5432 }, null, null);
    hm.updateServiceCapabilities('backup', 'host3', { free_capacity_gb: 6543 }, null, null);
    hm.updateServiceCapabilities('volume', 'host4', { free_capacity_gb: 7 }, 'cluster@b', new Date(Date.UTC(2024, 4, 1, 10)));
    expect(hm.serviceStates.get('host1')).toEqual({ free_capacity_gb: 4321, timestamp: '2024-05-01T10:00:00.500000' });
    expect(hm.serviceStates.get('host2')!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(hm.serviceStates.has('host3')).toBe(false);
    expect(hm.serviceStates.get('cluster@b')).toEqual({ free_capacity_gb: 7, timestamp: '2024-05-01T10:00:00.000000' });
    expect(caps).toEqual({ free_capacity_gb: 4321 });
  });

  it('has_all_capabilities / first_receive_capabilities follow the reports of the up services', () => {
    const hm = new HostManager();
    const services = [svc('host1'), svc('host2'), svc('host3')];
    expect(hm.hasAllCapabilities(services)).toBe(false);
    expect(hm.firstReceiveCapabilities(services)).toBe(false);
    for (const [i, h] of ['host1', 'host2', 'host3'].entries()) {
      hm.updateServiceCapabilities('volume', h, { free_capacity_gb: 4321 + i }, null, TS);
      expect(hm.hasAllCapabilities(services)).toBe(i === 2);
      expect(hm.firstReceiveCapabilities(services)).toBe(i === 2);
    }
    // A down service is not waited for.
    expect(hm.hasAllCapabilities([...services, svc('host9', { is_up: false })])).toBe(true);
  });
});

describe('BackendState / PoolState', () => {
  it('a report without pools becomes one pool named after the backend (or _pool0)', () => {
    const b = new BackendState('be1', null);
    const cap: Record<string, unknown> = { total_capacity_gb: 1024, free_capacity_gb: 512, provisioned_capacity_gb: 512, reserved_percentage: 0, timestamp: null };
    b.updateFromVolumeCapability(cap);
    expect(b.total_capacity_gb).toBe(0);
    expect(b.free_capacity_gb).toBeNull();
    expect(b.pools.get('_pool0')).toMatchObject({ host: 'be1#_pool0', total_capacity_gb: 1024, free_capacity_gb: 512, provisioned_capacity_gb: 512 });
    b.updateFromVolumeCapability({ ...cap, total_capacity_gb: 1000 });
    expect(b.pools.get('_pool0')!.total_capacity_gb).toBe(1000);
    b.updateFromVolumeCapability({ ...cap, total_capacity_gb: 1000, volume_backend_name: 'magic' });
    expect(b.pools.get('magic')).toMatchObject({ total_capacity_gb: 1000, free_capacity_gb: 512 });
    expect([...b.pools.keys()]).toEqual(['magic']);
  });

  it('reported pools replace the previous set; the protocol widens to its variants', () => {
    const b = new BackendState('host1', null);
    const pool = (name: string, total: number, free: number, extra = {}) => ({ pool_name: name, total_capacity_gb: total, free_capacity_gb: free, allocated_capacity_gb: total - free, provisioned_capacity_gb: total - free, QoS_support: 'False', reserved_percentage: 0, ...extra });
    b.updateFromVolumeCapability({
      volume_backend_name: 'Local iSCSI', vendor_name: 'OpenStack', driver_version: '1.0.1', storage_protocol: 'iSCSI', timestamp: null,
      pools: [pool('1st pool', 500, 230, { super_hero_1: 'spider-man' }), pool('2nd pool', 1024, 1024)],
    });
    expect(b.storage_protocol).toEqual(['iSCSI', 'iscsi']);
    expect([...b.pools.keys()]).toEqual(['1st pool', '2nd pool']);
    expect(b.pools.get('1st pool')).toMatchObject({ host: 'host1#1st pool', total_capacity_gb: 500, free_capacity_gb: 230, provisioned_capacity_gb: 270 });
    expect(b.pools.get('1st pool')!.capabilities).toMatchObject({ super_hero_1: 'spider-man', volume_backend_name: 'Local iSCSI', vendor_name: 'OpenStack', storage_protocol: ['iSCSI', 'iscsi'] });
    b.updateFromVolumeCapability({ volume_backend_name: 'Local iSCSI', driver_version: '1.0.2', storage_protocol: 'iSCSI', timestamp: null, pools: [pool('3rd pool', 10000, 10000)] });
    expect(b.driver_version).toBe('1.0.2');
    expect([...b.pools.keys()]).toEqual(['3rd pool']);
  });

  it('infinite / unknown / empty reports, and filter/goodness functions inherited by pools', () => {
    const inf = new BackendState('host1', null);
    inf.updateFromVolumeCapability({ total_capacity_gb: 'infinite', free_capacity_gb: 'unknown', reserved_percentage: 0, timestamp: null });
    expect(inf.pools.get('_pool0')).toMatchObject({ total_capacity_gb: 'infinite', free_capacity_gb: 'unknown' });
    const empty = new BackendState('host1', null);
    empty.updateFromVolumeCapability({ timestamp: null });
    expect(empty.pools.get('_pool0')).toMatchObject({ total_capacity_gb: 0, free_capacity_gb: 0, provisioned_capacity_gb: 0 });
    const fg = new BackendState('host1', null);
    fg.updateFromVolumeCapability({ filter_function: '2', goodness_function: '4', timestamp: null, pools: [{ pool_name: 'fake_pool' }] });
    expect(fg.pools.get('fake_pool')).toMatchObject({ filter_function: '2', goodness_function: '4' });
  });

  it('PoolState keeps the report as its capabilities', () => {
    const p = new PoolState('host1', null, null, 'pool0');
    const cap = { total_capacity_gb: 1024, free_capacity_gb: 512, reserved_percentage: 0, provisioned_capacity_gb: 512, timestamp: null, cap1: 'val1' };
    p.updateFromVolumeCapability(cap);
    expect(p).toMatchObject({ host: 'host1#pool0', pool_name: 'pool0', total_capacity_gb: 1024, free_capacity_gb: 512, provisioned_capacity_gb: 512 });
    expect(p.capabilities).toEqual(cap);
  });

  it('consume_from_volume charges allocated / provisioned / free (not infinite or unknown)', () => {
    const p = new PoolState('h@b', null, null, 'p');
    p.updateFromVolumeCapability({ total_capacity_gb: 100, free_capacity_gb: 50, allocated_capacity_gb: 10, timestamp: TS });
    p.consumeFromVolume({ size: 5 });
    expect(p).toMatchObject({ free_capacity_gb: 45, allocated_capacity_gb: 15, provisioned_capacity_gb: 15 });
    expect(p.updated! > TS).toBe(true);
    p.free_capacity_gb = 'infinite';
    p.consumeFromVolume({ size: 5 }, false);
    expect(p).toMatchObject({ free_capacity_gb: 'infinite', allocated_capacity_gb: 20 });
  });
});

describe('HostManager backend states', () => {
  it('drops down / disabled services and those without a report, groups clusters', () => {
    const hm = new HostManager();
    for (const h of ['host1', 'host2', 'host3']) hm.updateServiceCapabilities('volume', h, { free_capacity_gb: 10, total_capacity_gb: 20 }, null, TS);
    hm.updateServiceCapabilities('volume', 'c1host', { free_capacity_gb: 30, total_capacity_gb: 40, volume_backend_name: 'lvm' }, 'cluster1@lvm', TS);
    const states = hm.getAllBackendStates([
      svc('host1'), svc('host2', { is_up: false }), svc('host3', { disabled: true }), svc('host4'),
      svc('c1host', { cluster_name: 'cluster1@lvm' }), svc('c2host', { cluster_name: 'cluster1@lvm' }),
    ]);
    expect(states.map((s) => [s.host, s.cluster_name])).toEqual([['host1#_pool0', null], ['c1host#lvm', 'cluster1@lvm#lvm']]);
    expect(states[1].backendId).toBe('cluster1@lvm#lvm');
    expect(states[0].service).toMatchObject({ host: 'host1', availability_zone: 'zone1' });
    expect(hm.hasAllCapabilities()).toBe(false); // host4 never reported
  });

  it('keeps consumed figures until a newer report arrives; revert gives them back', () => {
    const { hm, services } = fakeHostManager();
    const pool = () => hm.getAllBackendStates(services).find((p) => p.host === 'host1#lvm1')!;
    pool().consumeFromVolume({ size: 100 });
    expect(pool().free_capacity_gb).toBe(924);
    hm.revertVolumeConsumedCapacity('host1#lvm1', 40);
    expect(pool()).toMatchObject({ free_capacity_gb: 964, allocated_capacity_gb: 60 });
    hm.updateServiceCapabilities('volume', 'host1', { total_capacity_gb: 1024, free_capacity_gb: 1000, volume_backend_name: 'lvm1' }, null, '2099-01-01T00:00:00');
    expect(pool().free_capacity_gb).toBe(1000);
  });
});

describe('HostManager.getPools', () => {
  const setup = (states: Record<string, Record<string, unknown>>, ts: string | null = TS) => {
    const hm = new HostManager();
    for (const [h, c] of Object.entries(states)) hm.updateServiceCapabilities('volume', h, c, null, ts);
    return { hm, services: Object.keys(states).map((h) => svc(h)) };
  };
  const base = {
    host1: { volume_backend_name: 'AAA', total_capacity_gb: 512, free_capacity_gb: 200, reserved_percentage: 0, provisioned_capacity_gb: 312, multiattach: true },
    'host2@back1': { volume_backend_name: 'BBB', total_capacity_gb: 256, free_capacity_gb: 100, reserved_percentage: 0, provisioned_capacity_gb: 156, multiattach: false },
  };
  const expected = (name: string) => {
    const [host, pool] = name.split('#');
    const src = base[host as keyof typeof base];
    return { name, capabilities: { ...src, volume_backend_name: pool, timestamp: TS, driver_version: null, vendor_name: null, storage_protocol: null } };
  };

  it('returns every pool with its capabilities (backend facts filled in, ISO timestamp)', () => {
    const { hm, services } = setup(base);
    expect(hm.getPools(services)).toEqual([expected('host1#AAA'), expected('host2@back1#BBB')]);
  });

  it('filters on name and on capabilities as _equal_after_convert', () => {
    const { hm, services } = setup(base);
    expect(hm.getPools(services, { name: 'host1#AAA' })).toEqual([expected('host1#AAA')]);
    expect(hm.getPools(services, { multiattach: 'true' })).toEqual([expected('host1#AAA')]);
    expect(hm.getPools(services, { multiattach: false })).toEqual([expected('host2@back1#BBB')]);
    expect(hm.getPools(services, { total_capacity_gb: '256' })).toEqual([expected('host2@back1#BBB')]);
  });

  it('filters by a (caller-resolved) volume type through the enabled filters', () => {
    const { hm, services } = setup(base);
    const vt = { name: 'gold', extra_specs: { volume_backend_name: 'AAA' } };
    expect(hm.getPools(services, { volume_type: 'gold' }, vt).map((p) => p.name)).toEqual(['host1#AAA']);
  });
});

describe('notify_service_capabilities', () => {
  const capab = { pools: [{ pool_name: 'pool1', thick_provisioning_support: true, thin_provisioning_support: false, total_capacity_gb: 10, free_capacity_gb: 10, max_over_subscription_ratio: '1', provisioned_capacity_gb: 0, allocated_capacity_gb: 0, reserved_percentage: 0 }] };

  it('notifies a changed report once and records it as last notified', () => {
    const hm = new HostManager();
    hm.updateServiceCapabilities('volume', 'host1', capab, null, '2024-05-01T10:00:00');
    const usage = hm.notifyServiceCapabilities('volume', 'host1', capab, '2024-05-01T10:00:01');
    expect(usage).toEqual([
      { type: 'pool', name_to_id: 'host1#pool1', total: 10, free: 10, allocated: 0, provisioned: 0, virtual_free: 10, reported_at: '2024-05-01T10:00:01.000000' },
      { type: 'backend', name_to_id: 'host1', total: 10, free: 10, allocated: 0, provisioned: 0, virtual_free: 10, reported_at: '2024-05-01T10:00:01.000000' },
    ]);
    expect(hm.serviceStatesLastUpdate.get('host1')).toEqual({ ...capab, timestamp: '2024-05-01T10:00:01.000000' });
    // Same figures again: nothing new to tell.
    hm.updateServiceCapabilities('volume', 'host1', capab, null, '2024-05-01T10:00:02');
    expect(hm.notifyServiceCapabilities('volume', 'host1', capab, '2024-05-01T10:00:03')).toEqual([]);
    expect(hm.notifyServiceCapabilities('backup', 'host1', capab, null)).toEqual([]);
  });

  it('_get_updated_pools needs every required key and compares them', () => {
    const p = capab.pools[0];
    expect(getUpdatedPools({}, capab)).toEqual([p]);
    expect(getUpdatedPools(capab, capab)).toEqual([]);
    expect(getUpdatedPools(capab, { pools: [{ ...p, free_capacity_gb: 9 }] })).toEqual([{ ...p, free_capacity_gb: 9 }]);
    expect(getUpdatedPools({}, { pools: [{ pool_name: 'x' }] })).toEqual([]);
  });

  it('timestamps normalise to oslo PERFECT_TIME_FORMAT', () => {
    expect(toTimestamp('2024-05-01T10:00:00')).toBe('2024-05-01T10:00:00.000000');
    expect(toTimestamp('2024-05-01T10:00:00.123456')).toBe('2024-05-01T10:00:00.123456');
    expect(toTimestamp(new Date('2024-05-01T10:00:00.123Z'))).toBe('2024-05-01T10:00:00.123000');
    expect(toTimestamp(null)).toBeNull();
  });
});
