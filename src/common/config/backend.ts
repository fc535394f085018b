// One section per name in [DEFAULT] enabled_backends: the backend's options as Cinder registers
// them — cinder/volume/driver.py volume_opts (target_*, volume_clear*, volume_backend_name,
// reserved_percentage, max_over_subscription_ratio, backend_availability_zone),
// cinder/volume/drivers/lvm.py volume_opts (volume_group, lvm_*), cinder/volume/manager.py
// (volume_driver); ssh_* and command_timeout are cinder-ts's own (storage commands on another host).
// Also the names a backend is known by: its service host and its pool.
import { z } from 'zod';
import type { CinderConfig } from '../config.js';
import type { DefaultSection } from './default-section.js';
import { ConfigError, bool, int, interpolate, list, sectionOf } from './oslo-config.js';

const backendSectionSchema = z.object({
  volume_driver: z
    .enum(['cinder.volume.drivers.lvm.LVMVolumeDriver'])
    .default('cinder.volume.drivers.lvm.LVMVolumeDriver'),
  volume_group: z.string().min(1).default('cinder-volumes'),
  volume_backend_name: z.string().min(1).optional(),
  target_helper: z.enum(['lioadm']).default('lioadm'),
  target_ip_address: z.string().min(1).optional(),
  target_port: int(1, 65535).default(3260),
  target_prefix: z.string().min(1).default('iqn.2010-10.org.openstack:'),
  target_protocol: z.enum(['iscsi', 'iser']).optional(),
  /** Deprecated name of target_protocol, still read by Cinder. */
  iscsi_protocol: z.enum(['iscsi', 'iser']).optional(),
  iscsi_secondary_ip_addresses: list.default([]),
  /** Cinder's default: thin when the VG has a thin pool or no LVs yet, else thick. */
  lvm_type: z.enum(['default', 'thin', 'auto']).default('auto'),
  lvm_mirrors: int(0).default(0),
  /** Its directory becomes LVM_SYSTEM_DIR of every lvm command when the file exists; 'None': never. */
  lvm_conf_file: z.string().default('/etc/cinder/lvm.conf'),
  lvm_suppress_fd_warnings: bool.default(false),
  volume_clear: z.enum(['zero', 'none']).default('zero'),
  volume_clear_size: int(0).default(0),
  volume_dd_blocksize: z.string().default('1M'),
  /** Run the storage commands on another host over ssh (ControlMaster); empty means locally. */
  ssh_host: z.string().optional(),
  ssh_user: z.string().default('root'),
  ssh_port: int(1, 65535).default(22),
  ssh_private_key: z.string().optional(),
  /**
   * Seconds before a storage command is killed. Unset (the default) means none, as Cinder's
   * processutils.execute: a volume_clear dd of a large LV may run for many minutes.
   */
  command_timeout: int(1).optional(),
  /** cinder/volume/driver.py volume_opts: thin over-subscription, a float or 'auto'. */
  max_over_subscription_ratio: z.string().default('20.0'),
  /** Percentage of backend capacity reserved (0–100). */
  reserved_percentage: int(0, 100).default(0),
  /** Availability zone of this backend's service; unset: [DEFAULT] storage_availability_zone. */
  backend_availability_zone: z.string().min(1).optional(),
});

export type BackendConfig = z.infer<typeof backendSectionSchema> & {
  name: string;
  target_protocol: 'iscsi' | 'iser';
  target_ip_address: string;
};

/**
 * Every enabled backend's section, in enabled_backends order. target_protocol falls back to
 * iscsi_protocol, then to Cinder's default 'iscsi'; target_ip_address to '$my_ip' as in
 * cinder/volume/driver.py volume_opts.
 */
export function backendSections(
  raw: Record<string, Record<string, unknown>>,
  DEFAULT: DefaultSection,
  vars: Record<string, string>,
): BackendConfig[] {
  return DEFAULT.enabled_backends.map((name): BackendConfig => {
    if (!raw[name]) throw new ConfigError(`config error: [DEFAULT] enabled_backends: section [${name}] is missing`);
    const b = sectionOf(backendSectionSchema, raw[name], name);
    return {
      ...b,
      name,
      target_protocol: b.target_protocol ?? b.iscsi_protocol ?? 'iscsi',
      target_ip_address: interpolate(b.target_ip_address ?? DEFAULT.my_ip, vars),
    };
  });
}

/** `hostname@backend` as the volume service registers (cinder/cmd/volume.py). */
export function serviceHost(cfg: CinderConfig, backend: BackendConfig): string {
  return `${cfg.DEFAULT.host}@${backend.name}`;
}

/** The pool part of volume.host: volume_backend_name, or 'LVM' when unset (lvm.py). */
export function poolName(backend: BackendConfig): string {
  return backend.volume_backend_name ?? 'LVM';
}
