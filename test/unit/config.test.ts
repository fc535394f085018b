// cinder.conf parsing: Cinder's option names, defaults, interpolation, and one clear line naming
// a bad option — also from the real entry points, which must stop at start.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, loadConfig, serviceHost, poolName, amqpUrl, transportOptions } from '../../src/common/config.js';

const REPO = path.resolve(__dirname, '../..');

describe('parseConfig', () => {
  it('reads the shipped docker config with Cinder option names', () => {
    const cfg = loadConfig(path.join(REPO, 'etc/cinder.conf'));
    expect(cfg.DEFAULT.enabled_backends).toEqual(['lvm']);
    expect(cfg.DEFAULT.rpc_response_timeout).toBe(60);
    expect(cfg.database.connection).toBe('sqlite:////var/lib/cinder/cinder.sqlite');
    const b = cfg.backends[0];
    expect(b).toMatchObject({ name: 'lvm', volume_group: 'cinder-volumes', target_helper: 'lioadm', target_ip_address: '192.0.2.10', target_port: 3260 });
    expect(serviceHost(cfg, b)).toBe(`${cfg.DEFAULT.host}@lvm`);
    expect(poolName(b)).toBe('lvm');
  });

  it('applies Cinder defaults and $state_path interpolation', () => {
    const cfg = parseConfig('[DEFAULT]\nstate_path = /srv/c\nenabled_backends = a\n[a]\n');
    expect(cfg.database.connection).toBe('sqlite:////srv/c/cinder.sqlite');
    expect(cfg.oslo_concurrency.lock_path).toBe('/srv/c/lock');
    expect(cfg.DEFAULT.rpc_response_timeout).toBe(60);
    expect(cfg.backends[0]).toMatchObject({ target_prefix: 'iqn.2010-10.org.openstack:', target_protocol: 'iscsi', volume_group: 'cinder-volumes' });
    // cinder/volume/drivers/lvm.py: lvm_type defaults to auto; no command timeout (processutils)
    expect(cfg.backends[0]).toMatchObject({ lvm_type: 'auto', lvm_mirrors: 0, volume_clear: 'zero', volume_clear_size: 0 });
    expect(cfg.backends[0].command_timeout).toBeUndefined();
    expect(poolName(cfg.backends[0])).toBe('LVM');
    expect(amqpUrl('rabbit://u:p@h:5672/v')).toBe('amqp://u:p@h:5672/v');
  });

  it('[oslo_messaging_rabbit] queue flags, with the [DEFAULT] spellings oslo.messaging still reads', () => {
    const base = '[DEFAULT]\nenabled_backends = a\n[a]\n';
    expect(transportOptions(parseConfig(base))).toMatchObject({
      url: 'rabbit://guest:guest@127.0.0.1:5672/',
      controlExchange: 'openstack',
      durableQueues: false,
      autoDelete: false,
      haQueues: false,
      quorumQueues: false,
      transientQueuesTtl: 1800,
    });
    const set = parseConfig(`${base}[oslo_messaging_rabbit]\namqp_durable_queues = true\nrabbit_quorum_queue = True\nrabbit_transient_queues_ttl = 60\n`);
    expect(transportOptions(set)).toMatchObject({ durableQueues: true, quorumQueues: true, transientQueuesTtl: 60 });
    // amqp_durable_queues has no deprecated group: in [DEFAULT] it is not an oslo.messaging option
    const old = parseConfig('[DEFAULT]\nenabled_backends = a\namqp_auto_delete = true\nrabbit_ha_queues = true\n[a]\n');
    expect(transportOptions(old)).toMatchObject({ autoDelete: true, haQueues: true, durableQueues: false });
    const both = parseConfig('[DEFAULT]\nenabled_backends = a\nrabbit_ha_queues = true\n[a]\n[oslo_messaging_rabbit]\nrabbit_ha_queues = false\n');
    expect(transportOptions(both).haQueues).toBe(false);
  });

  it('[DEFAULT] report_interval, service_down_time, message_ttl and [coordination] backend_url', () => {
    const dflt = parseConfig('[DEFAULT]\nstate_path = /srv/c\nenabled_backends = a\n[a]\n');
    expect(dflt.DEFAULT).toMatchObject({ report_interval: 10, service_down_time: 60, message_ttl: 2592000, message_reap_interval: 86400 });
    expect(dflt.coordination).toEqual({ backend_url: 'file:///srv/c', lock_dir: '/srv/c' });
    const set = parseConfig(
      '[DEFAULT]\nstate_path = /srv/c\nreport_interval = 5\nservice_down_time = 25\nenabled_backends = a\n[a]\n[coordination]\nbackend_url = file://$state_path/coord\n',
    );
    expect(set.DEFAULT).toMatchObject({ report_interval: 5, service_down_time: 25 });
    expect(set.coordination.lock_dir).toBe('/srv/c/coord');
    expect(() => parseConfig('[DEFAULT]\nenabled_backends = a\n[a]\n[coordination]\nbackend_url = redis://h:6379\n')).toThrow(
      /\[coordination\] backend_url: only the file:\/\/ driver is supported/,
    );
  });

  it('accepts the deprecated iscsi_protocol name', () => {
    const cfg = parseConfig('[DEFAULT]\nenabled_backends = a\n[a]\niscsi_protocol = iser\n');
    expect(cfg.backends[0].target_protocol).toBe('iser');
  });

  it.each([
    ['[DEFAULT]\nrpc_response_timeout = soon\n', /^config error: \[DEFAULT\] rpc_response_timeout: expected an integer/],
    ['[DEFAULT]\nauth_strategy = magic\n', /^config error: \[DEFAULT\] auth_strategy:/],
    ['[DEFAULT]\nenabled_backends = lvm\n', /^config error: \[DEFAULT\] enabled_backends: section \[lvm\] is missing$/],
    ['[DEFAULT]\nenabled_backends = lvm\n[lvm]\ntarget_helper = tgtadm\n', /^config error: \[lvm\] target_helper:/],
    ['[DEFAULT]\nenabled_backends = lvm\n[lvm]\ntarget_port = 99999\n', /^config error: \[lvm\] target_port: expected an integer >= 1 <= 65535/],
    ['[DEFAULT]\ntransport_url = amqp://x\n', /^config error: \[DEFAULT\] transport_url: must be a rabbit:\/\/ URL/],
  ])('rejects %j with one line naming the option', (text, re) => {
    expect(() => parseConfig(text)).toThrow(re);
  });
});

describe('entry points stop at start on a bad config', () => {
  it.each(['api', 'volume'])('%s names the bad option in one line and exits 2', (entry) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-cfg-'));
    const file = path.join(dir, 'cinder.conf');
    fs.writeFileSync(file, '[DEFAULT]\nenabled_backends = lvm\n[lvm]\ntarget_port = nope\n');
    const r = spawnSync(path.join(REPO, 'bin/cinder-ts'), [entry, '--config-file', file], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 30000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(["config error: [lvm] target_port: expected an integer >= 1 <= 65535, got 'nope'"]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a missing --config-file is one line too', () => {
    const r = spawnSync(path.join(REPO, 'bin/cinder-ts'), ['api'], { cwd: REPO, encoding: 'utf8', timeout: 30000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('config error: --config-file <cinder.conf> is required');
  });
});
