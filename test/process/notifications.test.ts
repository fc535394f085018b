// Notifications on the bus as oslo.messaging's Notifier sends them, received by a real Python
// oslo.messaging notification listener (test/python/notification_listener.py) on the cluster's
// vhost: with `[oslo_messaging_notifications] driver = messagingv2` the legacy attach/detach
// lifecycle gives volume.attach.* and volume.detach.* with Cinder's usage payload
// (volume_utils._usage_from_volume) and publisher volume.<host@backend>; with the default (no
// driver, i.e. noop) nothing reaches the listener and no process writes a notification log line.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';
import { transportUrl } from '../support/rabbit.js';
import { PyHelper, requirePythonModules } from '../python/py-helper.js';

const PROJECT = 'facade0000000000000000000000cafe';
const INSTANCE = '0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';
const CONNECTOR = { platform: 'x86_64', os_type: 'linux', ip: '192.0.2.30', host: 'compute-1', multipath: false, initiator: 'iqn.2004-10.com.ubuntu:01:abcdef012345' };

// volume_utils._usage_from_volume's keys (no glance_metadata: the volume has none).
const USAGE_KEYS = [
  'tenant_id', 'host', 'user_id', 'availability_zone', 'volume_id', 'volume_type', 'display_name', 'launched_at',
  'created_at', 'status', 'snapshot_id', 'size', 'replication_status', 'replication_extended_status',
  'replication_driver_data', 'metadata', 'volume_attachment',
].sort();

interface Received {
  priority: string;
  publisher_id: string;
  event_type: string;
  payload: any;
  metadata: { message_id: string; timestamp: string };
  ctxt: Record<string, unknown>;
}

/** Drains what the listener printed into `into` (in the background). */
function collect(listener: PyHelper, into: Received[]): void {
  void (async () => {
    for (;;) {
      let msg: any;
      try {
        msg = await listener.next(3_600_000);
      } catch {
        return;
      }
      if (msg.stopped) return;
      into.push(msg as Received);
    }
  })();
}

async function waitForStatus(api: CinderClient, id: string, status: string) {
  for (let i = 0; i < 300; i++) {
    const r = await api.get(id);
    if (r.json?.volume?.status === status) return;
    await sleep(50);
  }
  throw new Error(`volume ${id} never reached ${status}`);
}

/** The legacy Nova attach then detach of a new volume; returns its id. */
async function attachDetach(api: CinderClient, cluster: Cluster): Promise<string> {
  const r = await api.create({ volume: { size: 1, name: 'notified', metadata: { purpose: 'notified' } } });
  expect(r.status, r.text).toBe(202);
  const id = r.json.volume.id as string;
  await waitForStatus(api, id, 'available');
  expect((await api.action(id, { 'os-reserve': null })).status).toBe(202);
  expect((await api.action(id, { 'os-initialize_connection': { connector: CONNECTOR } })).status).toBe(200);
  expect((await api.action(id, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb', mode: 'rw' } })).status).toBe(202);
  await waitForStatus(api, id, 'in-use');
  expect((await api.action(id, { 'os-begin_detaching': null })).status).toBe(202);
  expect((await api.action(id, { 'os-terminate_connection': { connector: CONNECTOR } })).status).toBe(202);
  const att = cluster.sql<any>('SELECT id FROM volume_attachment WHERE volume_id = ?', id)[0];
  expect((await api.action(id, { 'os-detach': { attachment_id: att.id } })).status).toBe(202);
  await waitForStatus(api, id, 'available');
  return id;
}

const notificationLines = (cluster: Cluster) =>
  [...cluster.logs.api, ...cluster.logs.volume, ...cluster.logs.scheduler].filter((l) => l.includes('oslo.messaging.notification') || l.includes('"notification":true'));

describe('[oslo_messaging_notifications] driver = messagingv2', () => {
  let cluster: Cluster;
  let api: CinderClient;
  let listener: PyHelper;
  const received: Received[] = [];

  beforeAll(async () => {
    requirePythonModules('oslo_messaging');
    cluster = new Cluster({ extraConfig: '[oslo_messaging_notifications]\ndriver = messagingv2\n' });
    // The listener first, on the cluster's vhost: it declares notifications.<priority> itself.
    listener = new PyHelper('notification_listener.py', ['--transport-url', transportUrl(cluster.vhost)]);
    expect(await listener.next(60_000)).toEqual({ ready: true });
    collect(listener, received);
    await cluster.start();
    api = new CinderClient(cluster.baseUrl, PROJECT);
  }, 120_000);
  afterAll(async () => {
    await listener?.close();
    await cluster?.stop();
  });

  it('the Python listener receives volume.attach.* and volume.detach.* with Cinder’s payload', async () => {
    const id = await attachDetach(api, cluster);
    const mine = () => received.filter((n) => n.payload?.volume_id === id);
    for (let i = 0; i < 200 && !mine().some((n) => n.event_type === 'volume.detach.end'); i++) await sleep(50);
    const events = mine().map((n) => n.event_type);
    expect(events).toEqual([
      'volume.create.start', 'volume.create.end',
      'volume.attach.start', 'volume.attach.end',
      'volume.detach.start', 'volume.detach.end',
    ]);
    for (const n of mine()) {
      expect(n.priority).toBe('info');
      expect(n.publisher_id).toBe(`volume.${cluster.host}@${cluster.backend}`);
      expect(Object.keys(n.payload).sort()).toEqual(USAGE_KEYS);
      expect(n.metadata.message_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(n.metadata.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/);
      expect(n.ctxt).toMatchObject({ project_id: PROJECT, read_deleted: 'no', auth_token: null });
      expect(n.payload).toMatchObject({ volume_id: id, tenant_id: PROJECT, size: 1, display_name: 'notified', metadata: [{ key: 'purpose', value: 'notified' }], snapshot_id: null });
    }
    const byType = Object.fromEntries(mine().map((n) => [n.event_type, n.payload]));
    expect(byType['volume.detach.start']).toMatchObject({ status: 'detaching', host: `${cluster.host}@${cluster.backend}#lvm` });
    expect(byType['volume.detach.start'].volume_attachment).toHaveLength(1);
    expect(byType['volume.detach.start'].volume_attachment[0]).toMatchObject({ volume_id: id, instance_uuid: INSTANCE, mountpoint: '/dev/vdb' });
    expect(byType['volume.detach.end']).toMatchObject({ status: 'available', volume_attachment: [] });
    expect(byType['volume.attach.end']).toMatchObject({ status: 'in-use' });
    expect(byType['volume.create.end'].launched_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    // The bus is the only place they go: no notification log lines.
    expect(notificationLines(cluster)).toEqual([]);
  }, 60_000);

  it('after the broker closes every connection of the vhost, the next detach is still notified', async () => {
    execFileSync('rabbitmqctl', ['-q', 'close_all_connections', '--vhost', cluster.vhost, 'notification reconnect test'], { stdio: 'ignore' });
    await sleep(1000);
    // The services reconnect as the RPC client does (and oslo's listener as oslo does).
    const id = await attachDetach(api, cluster);
    const mine = () => received.filter((n) => n.payload?.volume_id === id).map((n) => n.event_type);
    for (let i = 0; i < 300 && !mine().includes('volume.detach.end'); i++) await sleep(50);
    expect(mine()).toEqual(['volume.create.start', 'volume.create.end', 'volume.attach.start', 'volume.attach.end', 'volume.detach.start', 'volume.detach.end']);
  }, 90_000);
});

describe('default notifications (no driver: noop)', () => {
  let cluster: Cluster;
  let api: CinderClient;
  let listener: PyHelper;
  const received: Received[] = [];

  beforeAll(async () => {
    requirePythonModules('oslo_messaging');
    cluster = new Cluster();
    listener = new PyHelper('notification_listener.py', ['--transport-url', transportUrl(cluster.vhost)]);
    expect(await listener.next(60_000)).toEqual({ ready: true });
    collect(listener, received);
    await cluster.start();
    api = new CinderClient(cluster.baseUrl, PROJECT);
  }, 120_000);
  afterAll(async () => {
    await listener?.close();
    await cluster?.stop();
  });

  it('nothing reaches the listener and no notification is logged', async () => {
    await attachDetach(api, cluster);
    await sleep(1500);
    expect(received).toEqual([]);
    expect(notificationLines(cluster)).toEqual([]);
  }, 60_000);
});
