// After cinder/tests/unit/scheduler/test_filter_scheduler.py: no backends, happy day, retries and
// max attempts, reverting a failed attempt, resource_backend, backend_passes_filters, retype, and
// spreading successive creates by free capacity once the winner has been charged.
import { describe, expect, it, vi } from 'vitest';
import { Invalid, NoValidBackend } from '../../../src/common/exceptions.js';
import type { Logger } from '../../../src/common/log.js';
import { FilterScheduler } from '../../../src/scheduler/filter-scheduler.js';
import { HostManager, extractHost } from '../../../src/scheduler/host-manager.js';
import type { FilterProperties, RequestSpec, SchedulerOptions } from '../../../src/scheduler/types.js';
import { TS, fakeHostManager } from './fakes.js';

const VOL = 'c3b4b1a0-0000-4000-8000-000000000001';
const spec = (size = 1, extra: Partial<RequestSpec> = {}): RequestSpec => ({
  volume_id: VOL, volume_type: { name: 'LVM_iSCSI', extra_specs: {} }, volume_properties: { project_id: '1', size }, ...extra,
});
const sched = (options: SchedulerOptions = {}, withPools = false, log?: Logger) => {
  const { hm, services } = fakeHostManager(withPools, options);
  return { s: new FilterScheduler(hm, options, log), services, hm };
};

describe('FilterScheduler.scheduleCreateVolume', () => {
  it('raises NoValidBackend when there is no backend at all', () => {
    const s = new FilterScheduler(new HostManager());
    expect(() => s.scheduleCreateVolume(spec(), {}, [])).toThrow(NoValidBackend);
    expect(() => s.scheduleCreateVolume(spec(), {}, [])).toThrow('No valid backend was found. No weighed backends available');
    expect(() => s.scheduleCreateVolume({ volume_properties: { size: 1 } }, {}, [])).toThrow(NoValidBackend);
  });

  it('happy day: picks the pool with most free space, charges it, records the retry', () => {
    const { s, services, hm } = sched();
    const props: FilterProperties = {};
    const res = s.scheduleCreateVolume(spec(10), props, services);
    // host1 thick 922, host2 thin 1018 (thin type) -> host2
    expect(res.backend.host).toBe('host2#lvm2');
    expect(res.backend.cluster_name).toBeNull();
    expect(res.backend.service.availability_zone).toBe('zone1');
    expect(res.backend.free_capacity_gb).toBe(290);
    expect(res.filterProperties).toBe(props);
    expect(props.retry).toEqual({ num_attempts: 1, backends: ['host2#lvm2'], hosts: ['host2#lvm2'] });
    expect(props).toMatchObject({ size: 10, config_options: {}, volume_type: { name: 'LVM_iSCSI' }, resource_type: { name: 'LVM_iSCSI' } });
    expect(props.request_spec).toMatchObject({ volume_id: VOL, resource_properties: { size: 10 } });
    expect(hm.getAllBackendStates(services).find((p) => p.host === 'host2#lvm2')!.allocated_capacity_gb).toBe(1758);
  });

  it('spreads successive creates as the winner is charged', () => {
    const { s, services } = sched({ scheduler_max_attempts: 1 });
    const picks = [...Array(6)].map(() => extractHost(s.scheduleCreateVolume(spec(50), {}, services).backend.host));
    // virtual free: host2 1018 → 968 → 918 (< host1 922); host1 922 → 872; host2 918 → 868; host1 872 → 822; host2
    expect(picks).toEqual(['host2', 'host2', 'host1', 'host2', 'host1', 'host2']);
  });

  it('honours the requested availability zone and the type extra specs', () => {
    const { s, services } = sched();
    const z2 = spec(1, { volume_properties: { size: 1, availability_zone: 'zone2' } });
    expect(s.scheduleCreateVolume(z2, {}, services).backend.host).toBe('host3#lvm3');
    const typed = spec(1, { volume_type: { extra_specs: { volume_backend_name: 'lvm4' } } });
    expect(() => s.scheduleCreateVolume(typed, {}, services)).toThrow(NoValidBackend);
    // Only host4 (zone3) has the capability; size 0 (manage) so its over-subscribed space does not matter.
    const zones = spec(0, { availability_zones: ['zone2', 'zone3'], volume_type: { extra_specs: { 'capabilities:consistent_group_snapshot_enabled': '<is> True' } } });
    expect(s.scheduleCreateVolume(zones, {}, services).backend.host).toBe('host4#lvm4');
    expect(() => s.scheduleCreateVolume({ ...zones, volume_properties: { size: 1 } }, {}, services)).toThrow(NoValidBackend);
  });

  it('resource_backend keeps only that backend (with or without pool)', () => {
    const { s, services } = sched({}, true);
    expect(s.scheduleCreateVolume(spec(1, { resource_backend: 'host1@BackendB#openstack_nfs_1' }), {}, services).backend.host).toBe('host1@BackendB#openstack_nfs_1');
    expect(extractHost(s.scheduleCreateVolume(spec(1, { resource_backend: 'host1@BackendA' }), {}, services).backend.host)).toBe('host1@BackendA');
    expect(() => s.scheduleCreateVolume(spec(1, { resource_backend: 'host10@BackendA' }), {}, services)).toThrow(NoValidBackend);
  });
});

describe('retries', () => {
  it('max attempts: configured, and refused below 1', () => {
    expect(new FilterScheduler(new HostManager(), { scheduler_max_attempts: 4 }).maxAttempts).toBe(4);
    expect(() => new FilterScheduler(new HostManager(), { scheduler_max_attempts: 0 })).toThrow(Invalid);
  });

  it('retry disabled with one attempt; counted otherwise; exceeded raises', () => {
    const off = sched({ scheduler_max_attempts: 1 });
    const p1: FilterProperties = {};
    off.s.scheduleCreateVolume(spec(), p1, off.services);
    expect(p1).not.toHaveProperty('retry');
    const on = sched({ scheduler_max_attempts: 2 });
    const p2: FilterProperties = {};
    on.s.scheduleCreateVolume(spec(), p2, on.services);
    expect(p2.retry!.num_attempts).toBe(1);
    const p3: FilterProperties = { retry: { num_attempts: 1 } };
    on.s.scheduleCreateVolume(spec(), p3, on.services);
    expect(p3.retry!.num_attempts).toBe(2);
    const p4: FilterProperties = { retry: { num_attempts: 2 } };
    expect(() => on.s.scheduleCreateVolume(spec(), p4, on.services)).toThrow(
      `No valid backend was found. Exceeded max scheduling attempts 2 for resource ${VOL}`,
    );
  });

  it('a reschedule logs the previous failure, gives back its charge and moves on', () => {
    const error = vi.fn();
    const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error } as unknown as Logger;
    const { s, services, hm } = sched({ scheduler_default_filters: ['AvailabilityZoneFilter', 'CapacityFilter', 'CapabilitiesFilter', 'IgnoreAttemptedHostsFilter'] }, false, log);
    const props: FilterProperties = {};
    expect(s.scheduleCreateVolume(spec(100), props, services).backend.host).toBe('host2#lvm2');
    expect(hm.getAllBackendStates(services).find((p) => p.host === 'host2#lvm2')!.free_capacity_gb).toBe(200);
    props.retry!.exc = 'VolumeBackendAPIException: boom';
    expect(s.scheduleCreateVolume(spec(100), props, services).backend.host).toBe('host1#lvm1');
    expect(error).toHaveBeenCalledWith(`Error scheduling ${VOL} from last vol-service: host2#lvm2 : VolumeBackendAPIException: boom`);
    expect(props.retry).toEqual({ num_attempts: 2, backends: ['host2#lvm2', 'host1#lvm1'], hosts: ['host2#lvm2', 'host1#lvm1'] });
    expect(hm.getAllBackendStates(services).find((p) => p.host === 'host2#lvm2')!.free_capacity_gb).toBe(300);
  });

  it('addRetryBackend appends to both lists, only when retrying', () => {
    const s = new FilterScheduler(new HostManager());
    const props: FilterProperties = { retry: { num_attempts: 1, backends: [] } };
    s.addRetryBackend(props, 'fakehost');
    expect(props.retry!.backends).toEqual(['fakehost']);
    const none: FilterProperties = {};
    s.addRetryBackend(none, 'fakehost');
    expect(none).toEqual({});
  });
});

describe('backendPassesFilters / findRetypeBackend', () => {
  it('finds the backend, with or without pool, or says where it cannot place', () => {
    const { s, services } = sched();
    expect(extractHost(s.backendPassesFilters('host1#lvm1', spec(1, { volume_properties: { size: 1, multiattach: true } }), {}, services).host)).toBe('host1');
    expect(extractHost(s.backendPassesFilters('host1', spec(), {}, services).host)).toBe('host1');
    expect(extractHost(s.backendPassesFilters('host5#_pool0', spec(), {}, services).host)).toBe('host5');
    expect(() => s.backendPassesFilters('host1#lvm1', spec(1024), {}, services)).toThrow(`Cannot place volume ${VOL} on host1#lvm1.`);
  });

  it('online extend support is checked for attached volumes', () => {
    const { s, services } = sched();
    const ext = spec(1, { operation: 'extend_volume', volume_properties: { size: 1, attach_status: 'attached' } });
    expect(() => s.backendPassesFilters('host1#lvm1', ext, {}, services)).not.toThrow();
    expect(() => s.backendPassesFilters('host2#lvm2', ext, {}, services)).toThrow(NoValidBackend);
  });

  it('retype keeps a volume on its full backend when migration is not allowed', () => {
    const { s, services } = sched();
    const r = spec(200, { volume_type: { name: 'LVM_iSCSI', extra_specs: { volume_backend_name: 'lvm4' } }, volume_properties: { size: 200, host: 'host4#lvm4' } });
    expect(extractHost(s.findRetypeBackend(r, {}, 'never', services).host)).toBe('host4');
    const moved = spec(200, { volume_type: { extra_specs: {} }, volume_properties: { size: 200, host: 'host4#lvm4' } });
    expect(extractHost(s.findRetypeBackend(moved, {}, 'never', services).host)).toBe('host4');
    const full = spec(2000, { volume_type: { extra_specs: { volume_backend_name: 'lvm1' } }, volume_properties: { size: 2000, host: 'host4#lvm4' } });
    expect(() => s.findRetypeBackend(full, {}, 'on-demand', services)).toThrow(NoValidBackend);
  });

  it('get_pools passes through', () => {
    const { s, services } = sched();
    expect(s.getPools(services, { name: 'host3#lvm3' })).toEqual([
      { name: 'host3#lvm3', capabilities: expect.objectContaining({ volume_backend_name: 'lvm3', timestamp: TS }) },
    ]);
  });
});
