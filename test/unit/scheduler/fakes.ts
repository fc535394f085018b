// Fixtures after cinder/tests/unit/scheduler/fakes.py: the five legacy (pool-less) hosts, the
// multi-backend-with-pools layout, and the services rows that go with them.
import { BackendState, HostManager } from '../../../src/scheduler/host-manager.js';
import type { Capabilities, SchedulerOptions, ServiceInfo } from '../../../src/scheduler/types.js';

export const TS = '2024-05-01T10:00:00.000000';

export function serviceStates(): Record<string, Capabilities> {
  return {
    host1: {
      total_capacity_gb: 1024, free_capacity_gb: 1024, allocated_capacity_gb: 0, provisioned_capacity_gb: 0,
      max_over_subscription_ratio: '1.0', thin_provisioning_support: false, thick_provisioning_support: true,
      reserved_percentage: 10, volume_backend_name: 'lvm1', multiattach: true, online_extend_support: true,
    },
    host2: {
      total_capacity_gb: 2048, free_capacity_gb: 300, allocated_capacity_gb: 1748, provisioned_capacity_gb: 1748,
      max_over_subscription_ratio: '1.5', thin_provisioning_support: true, thick_provisioning_support: false,
      reserved_percentage: 10, volume_backend_name: 'lvm2', online_extend_support: false,
    },
    host3: {
      total_capacity_gb: 512, free_capacity_gb: 256, allocated_capacity_gb: 256, provisioned_capacity_gb: 256,
      max_over_subscription_ratio: '2.0', thin_provisioning_support: false, thick_provisioning_support: true,
      reserved_percentage: 0, volume_backend_name: 'lvm3',
    },
    host4: {
      total_capacity_gb: 2048, free_capacity_gb: 200, allocated_capacity_gb: 1848, provisioned_capacity_gb: 2047,
      max_over_subscription_ratio: '1.0', thin_provisioning_support: true, thick_provisioning_support: false,
      reserved_percentage: 5, volume_backend_name: 'lvm4', consistent_group_snapshot_enabled: true,
    },
    host5: {
      total_capacity_gb: 'infinite', free_capacity_gb: 'unknown', allocated_capacity_gb: 1548, provisioned_capacity_gb: 1548,
      max_over_subscription_ratio: '1.0', thin_provisioning_support: true, thick_provisioning_support: false,
      reserved_percentage: 5,
    },
  };
}

export function serviceStatesWithPools(): Record<string, Capabilities> {
  const pool = (name: string, total: unknown, free: unknown, alloc: number, ratio: string, thin: boolean, reserved: number) => ({
    total_capacity_gb: total, free_capacity_gb: free, allocated_capacity_gb: alloc, provisioned_capacity_gb: alloc,
    max_over_subscription_ratio: ratio, thin_provisioning_support: thin, thick_provisioning_support: !thin,
    reserved_percentage: reserved, pool_name: name,
  });
  return {
    'host1@BackendA': {
      driver_version: '1.0.0', volume_backend_name: 'BackendA', storage_protocol: 'iSCSI',
      pools: [pool('openstack_iscsi_1', 1024, 1024, 0, '1.0', false, 15), pool('openstack_iscsi_2', 2048, 1008, 0, '1.0', true, 15)],
    },
    'host1@BackendB': {
      driver_version: '1.5.0', volume_backend_name: 'BackendB', storage_protocol: 'nfs',
      pools: [pool('openstack_nfs_1', 2048, 300, 1748, '1.5', true, 10), pool('openstack_nfs_2', 512, 256, 256, '2.0', true, 10)],
    },
    'host2@BackendX': {
      driver_version: '3.5.1', total_capacity_gb: 512, free_capacity_gb: 256, allocated_capacity_gb: 256,
      provisioned_capacity_gb: 256, max_over_subscription_ratio: '2.0', thin_provisioning_support: false,
      thick_provisioning_support: true, reserved_percentage: 0, volume_backend_name: 'BackendX', storage_protocol: 'iSCSI',
    },
    'host3@BackendY': {
      driver_version: '1.5.0', volume_backend_name: 'BackendY', storage_protocol: 'fc',
      pools: [pool('openstack_fcp_1', 'infinite', 'unknown', 170, '1.0', false, 0), pool('openstack_fcp_2', 'infinite', 'unknown', 1548, '1.0', true, 0)],
    },
  };
}

const AZ: Record<string, string> = { host1: 'zone1', host2: 'zone1', host3: 'zone2', host4: 'zone3', host5: 'zone3' };

/** fakes.mock_host_manager_db_calls: one up, enabled service per reporting backend. */
export function servicesFor(states: Record<string, Capabilities>): ServiceInfo[] {
  return Object.keys(states).map((host, i) => ({
    id: i + 1, host, topic: 'volume', disabled: false, availability_zone: AZ[host.split('@')[0]], is_up: true,
  }));
}

/** A HostManager that has received every report of `states` (fakes.FakeHostManager). */
export function fakeHostManager(withPools = false, options: SchedulerOptions = {}, ts = TS) {
  const states = withPools ? serviceStatesWithPools() : serviceStates();
  const hm = new HostManager(options);
  for (const [host, caps] of Object.entries(states)) hm.updateServiceCapabilities('volume', host, caps, null, ts);
  return { hm, services: servicesFor(states), states };
}

/** fakes.FakeBackendState: a bare backend with the given attributes set. */
export function fakeBackend(host: string, attrs: Record<string, unknown>): BackendState {
  const b = new BackendState(host, null);
  Object.assign(b, attrs);
  return b;
}
