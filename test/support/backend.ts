// A backend section as cinder.conf parsing yields it (every Cinder default filled in), for the
// driver tests: thick LVs on cinder-volumes, LIO on 192.168.0.10:3260, no lvm.conf.
import { parseConfig, type BackendConfig } from '../../src/common/config.js';

export function testBackend(over: Partial<BackendConfig> = {}): BackendConfig {
  const [lvm] = parseConfig(
    [
      '[DEFAULT]',
      'enabled_backends = lvm',
      '[lvm]',
      'volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver',
      'target_helper = lioadm',
      'target_ip_address = 192.168.0.10',
      'lvm_type = default',
      'lvm_conf_file = /nonexistent/cinder/lvm.conf',
      '',
    ].join('\n'),
  ).backends;
  return { ...lvm, ...over };
}
