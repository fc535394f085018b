// The RPC layer against the real RabbitMQ at 127.0.0.1:5672 (guest/guest), in a vhost of its own
// that this file creates and deletes: a TS RpcServer (cinder-volume hostT@lvm) and a TS RpcClient
// (VolumeRpcApi) in one process, on separate connections.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/common/context.js';
import { CinderException, ISCSITargetDetachFailed, MessagingTimeout, RemoteError } from '../../src/common/exceptions.js';
import type { Volume, VolumeAttachment } from '../../src/objects/volume.js';
import { RpcClient } from '../../src/rpc/client.js';
import { hexId } from '../../src/rpc/ids.js';
import { ovoMeta } from '../../src/rpc/ovo.js';
import { RpcServer, type Endpoint } from '../../src/rpc/server.js';
import { Transport } from '../../src/rpc/transport.js';
import { VolumeRpcApi } from '../../src/rpc/volume-rpcapi.js';
import { freePort } from '../support/cluster.js';

const VHOST = `cinder-ts-rpc-test-${hexId().slice(0, 12)}`;
const URL = `rabbit://guest:guest@127.0.0.1:5672/${encodeURIComponent(VHOST)}`;
const HOST = 'hostT@lvm';

function ctl(...args: string[]): string {
  return execFileSync('rabbitmqctl', ['--quiet', ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** `rabbitmqctl list_* --no-table-headers` rows as arrays of tab-separated columns. */
function rows(...args: string[]): string[][] {
  return ctl(...args, '--no-table-headers')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t'));
}

const ctx: RequestContext = {
  user_id: 'b7e8f9a0b1c24d3e8f4a5b6c7d8e9f0a',
  project_id: '6c1b2e3f4a5d4e6f8a9b0c1d2e3f4a5b',
  project_name: 'demo',
  roles: ['member', 'reader'],
  is_admin: false,
  is_admin_project: true,
  service_roles: [],
  request_id: 'req-a1b8a945-0d2e-4f8e-9140-d961bf1d540d',
  global_request_id: null,
  auth_token: 'gAAAAAB-fake-token',
  read_deleted: 'no',
  remote_address: '192.0.2.1',
  timestamp: '2026-11-26T03:43:18.442372',
  user_domain: 'default',
  project_domain: 'default',
  service_catalog: [],
};

function volume(p: Partial<Volume> = {}): Volume {
  return {
    id: '5a4c9a3e-6b8f-4f0e-9d3c-2b1a0c9e8d70',
    _name_id: null, ec2_id: null, user_id: ctx.user_id, project_id: ctx.project_id, use_quota: true, snapshot_id: null,
    cluster_name: null, host: `${HOST}#lvm`, size: 1, availability_zone: 'nova', status: 'in-use', attach_status: 'attached',
    migration_status: null, scheduled_at: null, launched_at: null, terminated_at: null, display_name: 'vol1',
    display_description: null, provider_id: null, provider_location: null, provider_auth: null, provider_geometry: null,
    volume_type_id: '6d3a2b1c-0f9e-4d8c-b7a6-5e4d3c2b1a09', source_volid: null, encryption_key_id: null, consistencygroup_id: null, group_id: null,
    deleted: false, bootable: false, multiattach: false, replication_status: null, replication_extended_status: null,
    replication_driver_data: null, previous_status: null, service_uuid: null, shared_targets: true,
    created_at: '2024-05-06 07:08:09.000000', updated_at: '2024-05-06 07:08:09.000000', deleted_at: null,
    metadata: { a: 'b' }, admin_metadata: {}, volume_attachment: [], ...p,
  };
}

function attachment(volumeId: string, instance: string, mountpoint: string, mode: string): VolumeAttachment {
  return {
    id: '9f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f', volume_id: volumeId, instance_uuid: instance, attached_host: null,
    mountpoint, attach_time: '2024-05-06 07:09:00.000000', detach_time: null, attach_status: 'attached', attach_mode: mode,
    connection_info: null, connector: { host: 'compute-1' }, created_at: '2024-05-06 07:08:30.000000', updated_at: null,
    deleted_at: null, deleted: false,
  };
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let serverTransport: Transport;
let clientTransport: Transport;
let server: RpcServer;
let client: RpcClient;
let api: VolumeRpcApi;

const casts = { removeExport: deferred<string>(), capabilities: deferred<number>() };
let capabilityCalls = 0;
let slowDone = deferred();
let inflight = 0;
let maxInflight = 0;

const endpoint: Endpoint = {
  version: '3.18',
  methods: {
    initialize_connection: (c, { volume: v, connector }) => {
      const vol = v as Volume;
      return {
        driver_volume_type: 'iscsi',
        data: {
          volume_id: vol.id,
          target_lun: 0,
          host: (connector as { host: string }).host,
          hydrated: ovoMeta(vol)?.name ?? null,
          created_at: vol.created_at,
          metadata: vol.metadata,
          request_id: c.request_id,
          roles: c.roles,
        },
      };
    },
    attach_volume: (_c, a) => attachment(a.volume_id as string, a.instance_uuid as string, a.mountpoint as string, a.mode as string),
    terminate_connection: (_c, a) => {
      throw new ISCSITargetDetachFailed({ volume_id: a.volume_id });
    },
    remove_export: (_c, a) => casts.removeExport.resolve(a.volume_id as string),
    publish_service_capabilities: () => casts.capabilities.resolve(++capabilityCalls),
    slow: async (_c, a) => {
      await sleep(a.ms as number);
      slowDone.resolve();
      return 'slow';
    },
    echo: async (_c, a) => {
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      await sleep(50);
      inflight--;
      return { n: a.n };
    },
  },
};

const target = { topic: `cinder-volume.${HOST}`, server: 'hostT' };

beforeAll(async () => {
  ctl('add_vhost', VHOST);
  ctl('set_permissions', '-p', VHOST, 'guest', '.*', '.*', '.*');
  serverTransport = new Transport({ url: URL, retryInterval: 0.2, retryBackoff: 0.2, intervalMax: 1 });
  clientTransport = new Transport({ url: URL, retryInterval: 0.2, retryBackoff: 0.2, intervalMax: 1 });
  await serverTransport.connect();
  await clientTransport.connect();
  server = new RpcServer(serverTransport, { host: HOST }, endpoint);
  await server.start();
  client = new RpcClient(clientTransport, { timeoutMs: 5000 });
  api = new VolumeRpcApi(client, { timeoutMs: 5000 });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await server?.stop();
  await clientTransport?.close();
  await serverTransport?.close();
  try {
    ctl('delete_vhost', VHOST);
  } catch {
    // already gone
  }
}, 60_000);

describe('RPC over RabbitMQ', () => {
  it('call with a result: the Volume arrives hydrated, the context rebuilt', async () => {
    const info = await api.initializeConnection(ctx, volume(), { host: 'compute-1', initiator: 'iqn.x' });
    expect(info).toEqual({
      driver_volume_type: 'iscsi',
      data: {
        volume_id: volume().id,
        target_lun: 0,
        host: 'compute-1',
        hydrated: 'Volume',
        created_at: '2024-05-06 07:08:09.000000',
        metadata: { a: 'b' },
        request_id: ctx.request_id,
        roles: ['member', 'reader'],
      },
    });
  }, 5000);

  it('call returning a VolumeAttachment OVO', async () => {
    const att = await api.attachVolume(ctx, volume({ status: 'attaching' }), 'inst-1', null, '/dev/vdb', 'rw');
    expect(att).toEqual(attachment(volume().id, 'inst-1', '/dev/vdb', 'rw'));
    expect(ovoMeta(att)?.name).toBe('VolumeAttachment');
  }, 5000);

  it('a handler raising ISCSITargetDetachFailed is rebuilt as that class with kwargs', async () => {
    const err = await api.terminateConnection(ctx, volume(), { host: 'compute-fail' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ISCSITargetDetachFailed);
    expect(err).toBeInstanceOf(CinderException);
    expect((err as ISCSITargetDetachFailed).kwargs).toEqual({ volume_id: volume().id, code: 500 });
    expect((err as Error).message).toBe(`Failed to detach iSCSI target for volume ${volume().id}.`);
  }, 5000);

  it('NoSuchMethod comes back as RemoteError', async () => {
    const err = await client.call(target, ctx, 'no_such_method', { volume_id: 'x' }, { version: '3.0' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ excType: 'NoSuchMethod', value: 'Endpoint does not support RPC method no_such_method' });
    const priv = await client.call(target, ctx, '_private', {}, { version: '3.0' }).catch((e: unknown) => e);
    expect(priv).toMatchObject({ excType: 'NoSuchMethod' });
  }, 5000);

  it('UnsupportedVersion comes back as RemoteError', async () => {
    const err = await client.call(target, ctx, 'initialize_connection', {}, { version: '3.99' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({
      excType: 'UnsupportedVersion',
      value: 'Endpoint does not support RPC version 3.99. Attempted method: initialize_connection',
    });
  }, 5000);

  it('MessagingTimeout when nobody answers in time; the late reply is dropped', async () => {
    const nobody = await client
      .call({ topic: 'cinder-volume.nohost@lvm', server: 'nohost' }, ctx, 'echo', { n: 1 }, { version: '3.0', timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(nobody).toBeInstanceOf(MessagingTimeout);
    slowDone = deferred();
    const late = await client.call(target, ctx, 'slow', { ms: 600 }, { version: '3.0', timeoutMs: 150 }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(MessagingTimeout);
    await slowDone.promise;
    await sleep(100);
    await expect(client.call(target, ctx, 'echo', { n: 7 }, { version: '3.0' })).resolves.toEqual({ n: 7 });
  }, 5000);

  it('casts are delivered: remove_export (topic) and publish_service_capabilities (fanout)', async () => {
    await api.removeExport(ctx, volume());
    await expect(casts.removeExport.promise).resolves.toBe(volume().id);
    await api.publishServiceCapabilities(ctx);
    await expect(casts.capabilities.promise).resolves.toBe(1);
  }, 5000);

  it('20 concurrent calls are handled concurrently and each gets its own reply', async () => {
    maxInflight = 0;
    const results = await Promise.all(Array.from({ length: 20 }, (_, n) => client.call(target, ctx, 'echo', { n }, { version: '3.0' })));
    expect(results).toEqual(Array.from({ length: 20 }, (_, n) => ({ n })));
    expect(maxInflight).toBeGreaterThan(1);
  }, 5000);

  it('declares queues and exchanges exactly like oslo', () => {
    const queues = rows('list_queues', '-p', VHOST, 'name', 'durable', 'auto_delete', 'arguments', 'consumers')
      .map(([name, durable, autoDelete, args, consumers]) => [name.replace(/_[0-9a-f]{32}$/, '_<hex>'), durable, autoDelete, args, consumers])
      .sort((a, b) => a[0].localeCompare(b[0]));
    const expires = '[{"x-expires",1800000}]';
    expect(queues).toEqual(
      [
        ['cinder-volume', 'false', 'false', '[]', '1'],
        [`cinder-volume.${HOST}`, 'false', 'false', '[]', '2'],
        [`cinder-volume.${HOST}.hostT`, 'false', 'false', '[]', '1'],
        [`cinder-volume.${HOST}_fanout_<hex>`, 'false', 'false', expires, '1'],
        ['cinder-volume_fanout_<hex>', 'false', 'false', expires, '1'],
        ['reply_<hex>', 'false', 'false', expires, '1'],
      ].sort((a, b) => a[0].localeCompare(b[0])),
    );
    const exchanges = rows('list_exchanges', '-p', VHOST, 'name', 'type', 'durable', 'auto_delete')
      .filter(([name]) => name !== '' && !name.startsWith('amq.'))
      .sort((a, b) => a[0].localeCompare(b[0]));
    expect(exchanges).toEqual(
      [
        [`cinder-volume.${HOST}_fanout`, 'fanout', 'false', 'true'],
        ['cinder-volume_fanout', 'fanout', 'false', 'true'],
        ['openstack', 'topic', 'false', 'false'],
      ].sort((a, b) => a[0].localeCompare(b[0])),
    );
    // heartbeat 60 negotiated on both connections (server, client)
    // (connections of earlier tests in this vhost may still be closing: check every one, not a count)
    const timeouts = rows('list_connections', '-p', VHOST, 'timeout').map(([t]) => t);
    expect(timeouts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(timeouts)).toEqual(new Set(['60']));
    const bindings = rows('list_bindings', '-p', VHOST, 'source_name', 'destination_name', 'routing_key')
      .filter(([source]) => source !== '')
      .map(([s, d, k]) => [s, d.replace(/_[0-9a-f]{32}$/, '_<hex>'), k])
      .sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`));
    expect(bindings).toEqual(
      [
        [`cinder-volume.${HOST}_fanout`, `cinder-volume.${HOST}_fanout_<hex>`, `cinder-volume.${HOST}`],
        ['cinder-volume_fanout', 'cinder-volume_fanout_<hex>', 'cinder-volume'],
        ['openstack', 'cinder-volume', 'cinder-volume'],
        ['openstack', `cinder-volume.${HOST}`, `cinder-volume.${HOST}`],
        ['openstack', `cinder-volume.${HOST}.hostT`, `cinder-volume.${HOST}.hostT`],
      ].sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`)),
    );
  }, 10_000);

  it('reconnects after the broker drops every connection and re-declares consumers', async () => {
    ctl('close_all_connections', '--vhost', VHOST, 'rpc reconnect test');
    await expect(client.call(target, ctx, 'echo', { n: 42 }, { version: '3.0', timeoutMs: 4000 })).resolves.toEqual({ n: 42 });
    expect(serverTransport.connected).toBe(true);
  }, 10_000);

  it('a clean stop deletes the fanout queues and keeps the topic and reply queues', async () => {
    await server.stop();
    const names = rows('list_queues', '-p', VHOST, 'name').map(([n]) => n.replace(/_[0-9a-f]{32}$/, '_<hex>')).sort();
    expect(names).toEqual(['cinder-volume', `cinder-volume.${HOST}`, `cinder-volume.${HOST}.hostT`, 'reply_<hex>'].sort());
  }, 10_000);
});

describe('connecting at start-up', () => {
  it('one attempt per host fails; retryForever waits until the broker answers (here: a forwarder that opens late)', async () => {
    const port = await freePort();
    const url = `rabbit://guest:guest@127.0.0.1:${port}/${encodeURIComponent(VHOST)}`;
    const quick = { retryInterval: 0.05, retryBackoff: 0.05, intervalMax: 0.1 };
    const once = new Transport({ url, ...quick });
    await expect(once.connect()).rejects.toThrow();
    await once.close();

    const patient = new Transport({ url, ...quick });
    let settled = false;
    const pending = patient.connect({ retryForever: true }).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(settled).toBe(false);
    // the "broker" comes up: a TCP forwarder on that port to the real RabbitMQ
    const forwarder = net.createServer((c) => {
      const up = net.connect(5672, '127.0.0.1');
      c.pipe(up).pipe(c);
      const end = () => (c.destroy(), up.destroy());
      c.on('error', end);
      up.on('error', end);
      c.on('close', end);
    });
    await new Promise<void>((r) => forwarder.listen(port, '127.0.0.1', () => r()));
    try {
      await pending;
      expect(patient.connected).toBe(true);
    } finally {
      await patient.close();
      await new Promise((r) => forwarder.close(r));
    }

    // close() ends a wait that would otherwise go on forever
    const abandoned = new Transport({ url: `rabbit://guest:guest@127.0.0.1:${await freePort()}/`, ...quick });
    const waiting = abandoned.connect({ retryForever: true });
    await new Promise((r) => setTimeout(r, 200));
    await abandoned.close();
    await expect(waiting).rejects.toThrow('closed');
  });
});
