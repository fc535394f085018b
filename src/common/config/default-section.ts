// [DEFAULT] of cinder.conf: the options of the three services, from where Cinder registers them —
// cinder/common/config.py global_opts (host, my_ip, state_path, enabled_backends, auth_strategy,
// the availability zones, default_volume_type, service_down_time), cinder/service.py (the API's
// listen address and workers, report_interval, periodic_interval), cinder/volume/manager.py
// (reinit_driver_count, backend_stats_polling_interval), the scheduler's modules, cinder/quota.py,
// cinder/message/api.py and oslo.messaging (transport_url, control_exchange, rpc_response_timeout);
// root_helper, rtstool_path and log_level are cinder-ts's own.
// The one schema keeps the options' order: the first bad one is the one reported.
import os from 'node:os';
import { z } from 'zod';
import { bool, int, list, sectionOf } from './oslo-config.js';

const defaultSectionSchema = z.object({
  transport_url: z
    .string()
    .regex(/^rabbit:\/\//, "must be a rabbit:// URL, e.g. rabbit://guest:guest@127.0.0.1:5672/")
    .default('rabbit://guest:guest@127.0.0.1:5672/'),
  host: z.string().min(1).default(os.hostname()),
  enabled_backends: list.default([]),
  auth_strategy: z.enum(['noauth', 'keystone']).default('keystone'),
  rpc_response_timeout: int(1).default(60),
  /** Retries of a failed driver initialization at start-up, after 1, 2, 4 … s. */
  reinit_driver_count: int(0).default(3),
  control_exchange: z.string().min(1).default('openstack'),
  state_path: z.string().min(1).default('/var/lib/cinder'),
  my_ip: z.string().min(1).default('127.0.0.1'),
  osapi_volume_listen: z.string().min(1).default('0.0.0.0'),
  osapi_volume_listen_port: int(1, 65535).default(8776),
  /** cinder-api worker processes on the one port (Cinder's default: the number of CPUs). */
  osapi_volume_workers: int(1).default(Math.max(1, os.availableParallelism?.() ?? os.cpus().length)),
  /** Prefix for every command run as root (Cinder builds it from rootwrap_config). */
  root_helper: z.string().default('sudo cinder-rootwrap /etc/cinder/rootwrap.conf'),
  /** Where cinder-rtstool is found; Cinder runs it by name through rootwrap. */
  rtstool_path: z.string().min(1).default('cinder-rtstool'),
  /** Deprecated location of [oslo_messaging_rabbit] amqp_auto_delete / rabbit_ha_queues (still read). */
  amqp_auto_delete: bool.optional(),
  rabbit_ha_queues: bool.optional(),
  storage_availability_zone: z.string().default('nova'),
  /** Where a volume goes when the request names no zone; unset: storage_availability_zone. */
  default_availability_zone: z.string().min(1).optional(),
  /** cinder/common/config.py: the type a volume gets when the request names none (and no project default is set). */
  default_volume_type: z.string().default('__DEFAULT__'),
  /** An unknown requested zone falls back to the default instead of a 400. */
  allow_availability_zone_fallback: bool.default(false),
  log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  /** Seconds between a service's heartbeats in the services table (cinder/service.py). */
  report_interval: int(1).default(10),
  /** A service whose heartbeat is older than this many seconds is down (cinder/utils.py service_is_up). */
  service_down_time: int(1).default(60),
  /** cinder/message/api.py: seconds a user message is kept, and between the scheduler's cleanups of expired ones. */
  message_ttl: int(0).default(2592000),
  message_reap_interval: int(1).default(86400),
  /** cinder/volume/api.py: seconds the create path keeps the availability zone list. */
  az_cache_duration: int(0).default(3600),
  /** Seconds between a manager's periodic tasks, e.g. publishing capabilities to the schedulers. */
  periodic_interval: int(1).default(60),
  /** Seconds between get_volume_stats polls of each backend (volume/manager.py). */
  backend_stats_polling_interval: int(1).default(60),
  /** cinder/scheduler/host_manager.py: filters and weighers by class name, applied in this order. */
  scheduler_default_filters: list.default(['AvailabilityZoneFilter', 'CapacityFilter', 'CapabilitiesFilter']),
  scheduler_default_weighers: list.default(['CapacityWeigher']),
  /** cinder/scheduler/driver.py: attempts to schedule a volume (1 disables rescheduling). */
  scheduler_max_attempts: int(1).default(3),
  /** cinder/scheduler/weights/capacity.py. */
  capacity_weight_multiplier: z.union([z.number(), z.string()]).transform(Number).default(1.0),
  allocated_capacity_weight_multiplier: z.union([z.number(), z.string()]).transform(Number).default(-1.0),
  /** cinder/scheduler/manager.py: seconds the scheduler waits at start for every volume service's capabilities. */
  scheduler_driver_init_wait_time: int(0).default(60),
  /** cinder/quota.py quota_opts: the defaults when neither the project nor the 'default' class sets a limit (-1: unlimited). */
  quota_volumes: int(-1).default(10),
  quota_snapshots: int(-1).default(10),
  quota_consistencygroups: int(-1).default(10),
  quota_groups: int(-1).default(10),
  quota_gigabytes: int(-1).default(1000),
  quota_backups: int(-1).default(10),
  quota_backup_gigabytes: int(-1).default(1000),
  per_volume_size_limit: int(-1).default(-1),
  /** Seconds until a reservation expires; reservations a usage refresh counts down; seconds between usage refreshes (0: never). */
  reservation_expire: int(0).default(86400),
  /** cinder/quota.py: seconds between the scheduler's cleanups of expired reservations (unset: reservation_expire). */
  reservation_clean_interval: int().optional(),
  until_refresh: int(0).default(0),
  max_age: int(0).default(0),
  /** Use the 'default' quota class's limits as the defaults (else the quota_* options). */
  use_default_quota_class: bool.default(true),
});

export type DefaultSection = z.infer<typeof defaultSectionSchema>;

export function defaultSection(raw: unknown): DefaultSection {
  return sectionOf(defaultSectionSchema, raw, 'DEFAULT');
}
