// The RPC codecs against real oslo.messaging / Cinder 21.3.1 captures (test/fixtures/oslo-wire,
// copied from shared/fixtures/oslo-wire). Requests are decoded with the server codec and must
// round-trip; the same requests are rebuilt with the TS client and compared structurally; replies
// are decoded with the client codec; and TS replies/failures/heartbeats are compared with the
// amqplib messages Python is known to accept (interop/).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/common/context.js';
import { ISCSITargetDetachFailed, RemoteError, VolumeNotFound, CinderException, MessagingTimeout, ServiceTooOld } from '../../src/common/exceptions.js';
import type { Volume, VolumeAttachment } from '../../src/objects/volume.js';
import { RpcClient } from '../../src/rpc/client.js';
import { contextFromDict, contextFromWire, contextToWire, CONTEXT_KEYS, splitContext } from '../../src/rpc/context-codec.js';
import { parseRequest, resolveHandler } from '../../src/rpc/dispatcher.js';
import { decodeBody, encodeEnvelope, unwrapEnvelope } from '../../src/rpc/envelope.js';
import { MessageDecodeError, NoSuchMethod, PyValueError, UnsupportedRpcEnvelopeVersion, UnsupportedVersion } from '../../src/rpc/errors.js';
import { deserializeFailure, failureFromError, parseFailure, remoteTraceback, serializeFailure } from '../../src/rpc/failure.js';
import {
  asVolumeAttachment,
  attachmentFromPrimitive,
  attachmentToPrimitive,
  deserializeEntity,
  fromOvoDatetime,
  ovoMeta,
  serializeEntity,
  toOvoDatetime,
  UnknownOvo,
  volumeFromPrimitive,
  volumeToPrimitive,
  type OvoPrimitive,
  type VolumeTypeData,
  type WireVolume,
} from '../../src/rpc/ovo.js';
import { RpcServer, type Endpoint } from '../../src/rpc/server.js';
import { Topology } from '../../src/rpc/topology.js';
import {
  publishProperties,
  type ConsumerHandle,
  type ConsumerSpec,
  type PublishOutcome,
  type PublishRequest,
  type RpcTransport,
} from '../../src/rpc/transport-api.js';
import { parseTransportUrl, resolveTransportOptions } from '../../src/rpc/transport-options.js';
import { versionIsCompatible } from '../../src/rpc/version.js';
import { VolumeRpcApi } from '../../src/rpc/volume-rpcapi.js';

// ---------------------------------------------------------------------------------------------
// Fixtures and equivalent TS inputs

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'oslo-wire');

interface Fixture {
  exchange: string;
  routing_key: string;
  publish_flags?: { mandatory: boolean };
  properties: Record<string, unknown>;
  body_raw: string;
  oslo_message: Record<string, unknown>;
  failure_parsed?: Record<string, unknown>;
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIX, name), 'utf8')) as Fixture;
}

const VOLUME_ID = '5a4c9a3e-6b8f-4f0e-9d3c-2b1a0c9e8d70';
const ATTACHMENT_ID = '9f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f';
const INSTANCE = '0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a';

function fixtureContext(requestId = 'req-a1b8a945-0d2e-4f8e-9140-d961bf1d540d'): RequestContext {
  return {
    user_id: 'b7e8f9a0b1c24d3e8f4a5b6c7d8e9f0a',
    project_id: '6c1b2e3f4a5d4e6f8a9b0c1d2e3f4a5b',
    project_name: 'demo',
    roles: ['member', 'reader'],
    is_admin: false,
    is_admin_project: true,
    service_roles: [],
    request_id: requestId,
    global_request_id: null,
    auth_token: 'gAAAAAB-fake-token',
    read_deleted: 'no',
    remote_address: '192.0.2.1',
    timestamp: '2026-11-26T03:43:18.442372',
    user_domain: 'default',
    project_domain: 'default',
    service_catalog: [],
  };
}

const CONNECTOR = {
  platform: 'x86_64',
  os_type: 'linux',
  ip: '192.0.2.10',
  host: 'compute-1',
  multipath: false,
  initiator: 'iqn.2004-10.com.ubuntu:01:abcdef012345',
  do_local_attach: false,
  uuid: 'c0ffee00-0000-4000-8000-000000000001',
  'system uuid': '4c4c4544-0000-1000-8000-000000000001',
  nqn: 'nqn.2014-08.org.nvmexpress:uuid:c0ffee00-0000-4000-8000-000000000002',
  found_dsc: '',
};

const VOLUME_TYPE: VolumeTypeData = {
  id: '3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b',
  name: 'lvmdriver-1',
  description: null,
  is_public: true,
  extra_specs: { volume_backend_name: 'lvm' },
  qos_specs_id: null,
  created_at: '2024-05-06 07:08:09.000000',
  updated_at: null,
  deleted_at: null,
  deleted: false,
};

/** The attachment of fixtures 02/05/06 in DB form. */
function fixtureAttachment(): VolumeAttachment {
  return {
    id: ATTACHMENT_ID,
    volume_id: VOLUME_ID,
    instance_uuid: INSTANCE,
    attached_host: null,
    mountpoint: '/dev/vdb',
    attach_time: '2024-05-06 07:09:00.000000',
    detach_time: null,
    attach_status: 'attached',
    attach_mode: 'rw',
    connection_info: null,
    connector: null,
    created_at: '2024-05-06 07:08:30.000000',
    updated_at: null,
    deleted_at: null,
    deleted: false,
  };
}

/** The volume of the request fixtures in DB form (what the TS API holds). */
function fixtureVolume(p: Partial<Volume> = {}): WireVolume {
  return {
    id: VOLUME_ID,
    _name_id: null,
    ec2_id: null,
    user_id: 'b7e8f9a0b1c24d3e8f4a5b6c7d8e9f0a',
    project_id: '6c1b2e3f4a5d4e6f8a9b0c1d2e3f4a5b',
    use_quota: true,
    snapshot_id: null,
    cluster_name: null,
    host: 'hostA@lvm#lvm',
    size: 1,
    availability_zone: 'nova',
    status: 'in-use',
    attach_status: 'attached',
    migration_status: null,
    scheduled_at: null,
    launched_at: null,
    terminated_at: null,
    display_name: 'vol1',
    display_description: null,
    provider_id: null,
    provider_location: null,
    provider_auth: null,
    provider_geometry: null,
    volume_type_id: VOLUME_TYPE.id,
    source_volid: null,
    encryption_key_id: null,
    consistencygroup_id: null,
    group_id: null,
    deleted: false,
    bootable: false,
    multiattach: false,
    replication_status: null,
    replication_extended_status: null,
    replication_driver_data: null,
    previous_status: null,
    service_uuid: '1a2b3c4d-5e6f-4a0b-8c9d-0e1f2a3b4c5d',
    shared_targets: true,
    created_at: '2024-05-06 07:08:09.000000',
    updated_at: '2024-05-06 07:08:09.000000',
    deleted_at: null,
    metadata: {},
    admin_metadata: {},
    volume_attachment: [],
    volume_type: { ...VOLUME_TYPE },
    ...p,
  };
}

const IGNORED = ['_msg_id', '_unique_id', '_reply_q', '_context_timestamp', '_context_request_id'];
function withoutIds(m: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(m).filter(([k]) => !IGNORED.includes(k)));
}

/** Fixture properties (kombu names) in amqplib's names, for comparison with publishProperties(). */
function amqplibProps(f: Fixture): Record<string, unknown> {
  const p = f.properties;
  const out: Record<string, unknown> = {
    contentType: p.content_type,
    contentEncoding: p.content_encoding,
    headers: p.headers,
    deliveryMode: p.delivery_mode,
    priority: p.priority,
    mandatory: f.publish_flags?.mandatory ?? false,
  };
  if (p.expiration !== undefined) out.expiration = p.expiration;
  return out;
}

// ---------------------------------------------------------------------------------------------
// A fake transport: records publishes, lets the test deliver messages to consumers.

class FakeTransport implements RpcTransport {
  readonly topology = new Topology(resolveTransportOptions());
  readonly published: PublishRequest[] = [];
  readonly consumers: ConsumerSpec[] = [];
  readonly acked: string[] = [];
  readonly rejected: string[] = [];
  onPublish: (req: PublishRequest) => void = () => undefined;
  private waiters: { pred: (r: PublishRequest) => boolean; resolve: (r: PublishRequest) => void }[] = [];

  async publish(req: PublishRequest): Promise<PublishOutcome> {
    this.published.push(req);
    this.waiters = this.waiters.filter((w) => (w.pred(req) ? (w.resolve(req), false) : true));
    queueMicrotask(() => this.onPublish(req));
    return 'ok';
  }

  async consume(spec: ConsumerSpec): Promise<ConsumerHandle> {
    this.consumers.push(spec);
    return { close: async () => undefined };
  }

  nextPublish(pred: (r: PublishRequest) => boolean = () => true): Promise<PublishRequest> {
    const seen = this.published.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  deliver(queue: string, content: Buffer | string, contentType: string | null = 'application/json'): void {
    const spec = this.consumers.find((c) => c.queues.some((q) => q.name === queue));
    if (!spec) throw new Error(`no consumer for ${queue}`);
    const tag = `${queue}#${this.acked.length + this.rejected.length}`;
    spec.onMessage({
      queue,
      content: Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'),
      properties: { contentType: contentType ?? undefined, contentEncoding: 'utf-8', headers: {}, deliveryMode: 2, priority: 0 } as never,
      fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: queue, consumerTag: 'x' } as never,
      ack: () => this.acked.push(tag),
      reject: () => this.rejected.push(tag),
    });
  }
}

function decodePublished(req: PublishRequest): Record<string, unknown> {
  return decodeBody(req.body, { contentType: publishProperties(req).contentType });
}

/** A client whose transport answers every call with `reply(msg)` (the reply's oslo message). */
function clientAnswering(reply: (request: Record<string, unknown>) => Record<string, unknown>[]) {
  const t = new FakeTransport();
  const client = new RpcClient(t, { timeoutMs: 60_000 });
  t.onPublish = (req) => {
    const msg = decodePublished(req);
    if (typeof msg._reply_q !== 'string') return;
    // Replies get a per-call _unique_id (the client drops a _unique_id it has already seen).
    for (const r of reply(msg)) t.deliver(msg._reply_q, encodeEnvelope({ ...r, _msg_id: msg._msg_id, _unique_id: `${String(r._unique_id)}-${String(msg._msg_id)}` }));
  };
  return { t, client, api: new VolumeRpcApi(client, { timeoutMs: 60_000 }) };
}

// ---------------------------------------------------------------------------------------------

describe('envelope', () => {
  it('wraps the message as a JSON string under oslo.message', () => {
    const body = JSON.parse(encodeEnvelope({ method: 'm', args: {} }).toString()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['oslo.message', 'oslo.version']);
    expect(body['oslo.version']).toBe('2.0');
    expect(typeof body['oslo.message']).toBe('string');
    expect(JSON.parse(body['oslo.message'] as string)).toEqual({ method: 'm', args: {} });
  });

  it('decodes every captured body, Python separators and escapes included', () => {
    for (const name of ['01-initialize_connection.request.json', '04-terminate_connection_error.reply.json', '09-publish_service_capabilities_fanout.request.json']) {
      const f = fixture(name);
      expect(decodeBody(Buffer.from(f.body_raw, 'utf8'), { contentType: f.properties.content_type as string })).toEqual(f.oslo_message);
    }
  });

  it('accepts a bare dict, refuses other envelope versions and non-JSON content types', () => {
    expect(unwrapEnvelope({ method: 'x', args: {} })).toEqual({ method: 'x', args: {} });
    expect(() => unwrapEnvelope({ 'oslo.version': '3.0', 'oslo.message': '{}' })).toThrow(UnsupportedRpcEnvelopeVersion);
    expect(() => unwrapEnvelope({ 'oslo.version': '2.1', 'oslo.message': '{}' })).toThrow(UnsupportedRpcEnvelopeVersion);
    expect(unwrapEnvelope({ 'oslo.version': '2.0', 'oslo.message': '{"a": 1}' })).toEqual({ a: 1 });
    const body = encodeEnvelope({ a: 1 });
    expect(() => decodeBody(body, {})).toThrow(MessageDecodeError);
    expect(() => decodeBody(body, { contentType: 'text/plain' })).toThrow(MessageDecodeError);
    expect(() => decodeBody(Buffer.from('"a string"'), { contentType: 'application/json' })).toThrow(MessageDecodeError);
  });
});

describe('version rules', () => {
  it('follows oslo version_is_compatible', () => {
    expect(versionIsCompatible('3.18', '3.0')).toBe(true);
    expect(versionIsCompatible('3.18', '3.18')).toBe(true);
    expect(versionIsCompatible('3.18', '3.5.7')).toBe(true);
    expect(versionIsCompatible('3.18', '3.18.1')).toBe(false);
    expect(versionIsCompatible('3.18', '3.99')).toBe(false);
    expect(versionIsCompatible('3.18', '4.0')).toBe(false);
    expect(versionIsCompatible('3.18', '1.0')).toBe(false);
    expect(versionIsCompatible('3.18', 'x')).toBe(false);
  });
});

describe('context codec', () => {
  it('emits exactly the _context_* keys of Cinder 21 with the fixture values', () => {
    const f = fixture('01-initialize_connection.request.json');
    const expected = Object.fromEntries(Object.entries(f.oslo_message).filter(([k]) => k.startsWith('_context_')));
    const wire = contextToWire(fixtureContext());
    expect(Object.keys(wire).sort()).toEqual(Object.keys(expected).sort());
    expect(Object.keys(wire)).toHaveLength(CONTEXT_KEYS.length);
    expect(wire).toEqual(expected);
  });

  it('rebuilds the RequestContext from the fixture', () => {
    const f = fixture('01-initialize_connection.request.json');
    expect(contextFromWire(f.oslo_message)).toEqual(fixtureContext());
  });

  it('requires read_deleted like Cinder from_dict, and derives is_admin from roles when absent', () => {
    expect(() => contextFromDict({ user_id: 'u', project_id: 'p', request_id: 'req-1' })).toThrow(
      "read_deleted can only be one of 'no', 'yes' or 'only', not None",
    );
    const ctx = contextFromDict({ user_id: 'u', project_id: 'p', read_deleted: 'no', roles: ['admin'] });
    expect(ctx.is_admin).toBe(true);
    expect(ctx.service_roles).toEqual([]);
    expect(ctx.request_id).toMatch(/^req-/);
    expect(contextFromDict({ read_deleted: 'yes', service_roles: ['service'] }).service_roles).toEqual(['service']);
  });
});

describe('OVO codec', () => {
  it('converts datetimes between the DB and the OVO forms', () => {
    expect(toOvoDatetime('2024-05-06 07:08:09.123456')).toBe('2024-05-06T07:08:09Z');
    expect(toOvoDatetime(null)).toBeNull();
    expect(fromOvoDatetime('2024-05-06T07:08:09Z')).toBe('2024-05-06 07:08:09.000000');
    expect(fromOvoDatetime('2024-05-06T09:08:09.5+02:00')).toBe('2024-05-06 07:08:09.500000');
    expect(() => fromOvoDatetime('yesterday')).toThrow("Unable to parse date string 'yesterday'");
    expect(() => fromOvoDatetime('yesterday')).toThrow(PyValueError);
  });

  it('encodes the fixture volume: 43 fields, nested VolumeType and VolumeAttachmentList', () => {
    const f = fixture('05-detach_volume.request.json');
    const expected = (f.oslo_message.args as Record<string, unknown>).volume as OvoPrimitive;
    const p = volumeToPrimitive(fixtureVolume({ volume_attachment: [fixtureAttachment()] }));
    expect(p).toEqual(expected);
    expect(Object.keys(p['versioned_object.data'])).toHaveLength(43);
    expect(p['versioned_object.changes']).toBeUndefined();
  });

  it('adds admin_metadata only for admin contexts and omits an unknown volume_type', () => {
    const { volume_type: _vt, ...noType } = fixtureVolume({ admin_metadata: { attached_mode: 'rw' } });
    const user = volumeToPrimitive(noType as WireVolume)['versioned_object.data'];
    expect(user).not.toHaveProperty('admin_metadata');
    expect(user).not.toHaveProperty('volume_type'); // Cinder leaves it unset; the receiver lazy-loads it
    expect(Object.keys(user)).toHaveLength(42);
    const admin = volumeToPrimitive(noType as WireVolume, { isAdmin: true, volumeType: VOLUME_TYPE })['versioned_object.data'];
    expect(admin.admin_metadata).toEqual({ attached_mode: 'rw' });
    expect((admin.volume_type as OvoPrimitive)['versioned_object.name']).toBe('VolumeType');
    expect(Object.keys(admin)).toHaveLength(44);
  });

  it('decodes the fixture volumes into DB form and re-encodes them identically', () => {
    for (const name of ['01-initialize_connection.request.json', '05-detach_volume.request.json', '06-attachment_delete.request.json', '07-initialize_connection_dirty_volume.request.json']) {
      const args = fixture(name).oslo_message.args as Record<string, unknown>;
      const prim = (args.volume ?? args.vref) as OvoPrimitive;
      const v = volumeFromPrimitive(prim);
      expect(v.created_at).toBe('2024-05-06 07:08:09.000000');
      expect(v.volume_type?.extra_specs).toEqual({ volume_backend_name: 'lvm' });
      expect(v.admin_metadata).toEqual({});
      expect(volumeToPrimitive(v)).toEqual(prim);
      expect(serializeEntity(deserializeEntity(args))).toEqual(args);
    }
  });

  it('keeps versioned_object.changes as dirty flags (fixture 07)', () => {
    const args = fixture('07-initialize_connection_dirty_volume.request.json').oslo_message.args as Record<string, unknown>;
    const v = deserializeEntity(args.volume) as WireVolume;
    expect(ovoMeta(v)?.changes).toEqual(['attach_status', 'status']);
    expect(v.status).toBe('reserved');
    expect(volumeToPrimitive(fixtureVolume({ status: 'reserved', attach_status: 'attaching' }), { changes: ['attach_status', 'status'] })).toEqual(args.volume);
  });

  it('round-trips a VolumeAttachment with JSON columns as objects', () => {
    const a = { ...fixtureAttachment(), connector: { ...CONNECTOR }, connection_info: { driver_volume_type: 'iscsi', data: { target_lun: 0 } } };
    const p = attachmentToPrimitive(a);
    expect(p['versioned_object.version']).toBe('1.3');
    expect(attachmentFromPrimitive(p)).toEqual(a);
    const textual = { ...p, 'versioned_object.data': { ...p['versioned_object.data'], connector: JSON.stringify(CONNECTOR) } };
    expect(attachmentFromPrimitive(textual as OvoPrimitive).connector).toEqual(CONNECTOR);
  });

  it('refuses other namespaces and newer versions, accepts older and x.y.z ones', () => {
    const prim = (fixture('01-initialize_connection.request.json').oslo_message.args as Record<string, unknown>).volume as OvoPrimitive;
    expect(() => deserializeEntity({ ...prim, 'versioned_object.namespace': 'nova' })).toThrow('Unsupported object type nova.Volume');
    expect(() => deserializeEntity({ ...prim, 'versioned_object.version': '1.10' })).toThrow(
      'Version 1.10 of Volume is not supported, supported version is 1.9',
    );
    expect(() => deserializeEntity({ ...prim, 'versioned_object.version': '2.0' })).toThrow(/Version 2.0 of Volume/);
    expect((deserializeEntity({ ...prim, 'versioned_object.version': '1.9.1' }) as Volume).id).toBe(VOLUME_ID);
    expect((deserializeEntity({ ...prim, 'versioned_object.version': '1.5' }) as Volume).id).toBe(VOLUME_ID);
    const bad = { ...prim, 'versioned_object.data': { ...prim['versioned_object.data'], created_at: 'yesterday' } };
    expect(() => deserializeEntity(bad)).toThrow(PyValueError);
  });

  it('passes unknown cinder objects through verbatim', () => {
    const spec = { 'versioned_object.name': 'RequestSpec', 'versioned_object.namespace': 'cinder', 'versioned_object.version': '1.5', 'versioned_object.data': { a: 1 } };
    const d = deserializeEntity({ request_spec: spec }) as { request_spec: UnknownOvo };
    expect(d.request_spec).toBeInstanceOf(UnknownOvo);
    expect(serializeEntity(d)).toEqual({ request_spec: spec });
  });

  it('recognises untagged DB rows by shape and leaves plain dicts alone', () => {
    const out = serializeEntity({ a: fixtureAttachment(), v: fixtureVolume(), connector: CONNECTOR, list: [1, 'x'] }) as Record<string, OvoPrimitive>;
    expect(out.a['versioned_object.name']).toBe('VolumeAttachment');
    expect(out.v['versioned_object.name']).toBe('Volume');
    expect(out.connector).toEqual(CONNECTOR);
    expect(out.list).toEqual([1, 'x']);
    const tagged = asVolumeAttachment({ ...fixtureAttachment() }, ['mountpoint']);
    expect((serializeEntity(tagged) as OvoPrimitive)['versioned_object.changes']).toEqual(['mountpoint']);
  });
});

describe('request fixtures decoded by the server codec', () => {
  const cases: [string, string, string, (args: Record<string, unknown>) => void][] = [
    ['01-initialize_connection.request.json', 'initialize_connection', '3.0', (a) => {
      expect(a.connector).toEqual(CONNECTOR);
      expect(a.volume).toEqual(fixtureVolume());
    }],
    ['02-attach_volume.request.json', 'attach_volume', '3.3', (a) => {
      expect(a).toMatchObject({ volume_id: VOLUME_ID, instance_uuid: INSTANCE, host_name: null, mountpoint: '/dev/vdb', mode: 'rw' });
      expect(a.volume).toEqual(fixtureVolume({ status: 'attaching', attach_status: 'detached' }));
    }],
    ['03-terminate_connection.request.json', 'terminate_connection', '3.0', (a) => {
      expect(a).toEqual({ volume_id: VOLUME_ID, connector: CONNECTOR, force: false });
    }],
    ['05-detach_volume.request.json', 'detach_volume', '3.4', (a) => {
      expect(a.attachment_id).toBe(ATTACHMENT_ID);
      expect(a.volume).toEqual(fixtureVolume({ volume_attachment: [fixtureAttachment()] }));
    }],
    ['06-attachment_delete.request.json', 'attachment_delete', '3.9', (a) => {
      expect(a.vref).toEqual(fixtureVolume({ volume_attachment: [fixtureAttachment()] }));
    }],
  ];
  for (const [name, method, version, check] of cases) {
    it(`${name}: method, version, context and hydrated args`, () => {
      const f = fixture(name);
      const req = parseRequest(decodeBody(Buffer.from(f.body_raw), { contentType: 'application/json' }));
      expect(req.method).toBe(method);
      expect(req.version).toBe(version);
      expect(req.namespace).toBeNull();
      expect(req.timeout).toBeNull();
      expect(req.msgId).toBe(f.oslo_message._msg_id);
      expect(req.replyQ).toBe(f.oslo_message._reply_q);
      expect(contextFromDict(req.ctx)).toEqual({ ...fixtureContext(f.oslo_message._context_request_id as string), timestamp: f.oslo_message._context_timestamp });
      const args = deserializeEntity(req.args) as Record<string, unknown>;
      check(args);
      expect(serializeEntity(args)).toEqual(f.oslo_message.args);
    });
  }

  it('dispatch rules: unknown/private method, versions, namespace', () => {
    const ep: Endpoint = { version: '3.18', methods: { terminate_connection: () => null } };
    expect(() => resolveHandler(ep, { method: 'no_such_method', version: '3.0', namespace: null })).toThrow(NoSuchMethod);
    expect(() => resolveHandler(ep, { method: '_private', version: '3.0', namespace: null })).toThrow('Endpoint does not support RPC method _private');
    expect(() => resolveHandler(ep, { method: 'toString', version: '3.0', namespace: null })).toThrow(NoSuchMethod);
    expect(() => resolveHandler(ep, { method: 'terminate_connection', version: '4.0', namespace: null })).toThrow(
      'Endpoint does not support RPC version 4.0. Attempted method: terminate_connection',
    );
    expect(() => resolveHandler(ep, { method: 'terminate_connection', version: '3.0', namespace: 'x' })).toThrow(UnsupportedVersion);
    expect(() => resolveHandler(ep, { method: 'terminate_connection', version: '3.18.1', namespace: null })).toThrow(UnsupportedVersion);
    expect(resolveHandler(ep, { method: 'terminate_connection', version: '3.18', namespace: null })).toBe(ep.methods.terminate_connection);
  });
});

describe('requests built by the TS client compared with the captures', () => {
  function checkRequest(req: PublishRequest, f: Fixture): void {
    expect(req.exchange).toBe(f.exchange);
    expect(req.routingKey).toBe(f.routing_key);
    expect(publishProperties(req)).toEqual(amqplibProps(f));
    const body = JSON.parse(req.body.toString()) as Record<string, unknown>;
    expect(body['oslo.version']).toBe('2.0');
    const msg = decodePublished(req);
    expect(withoutIds(msg)).toEqual(withoutIds(f.oslo_message));
    for (const k of Object.keys(f.oslo_message)) expect(msg).toHaveProperty([k]);
    if ('_msg_id' in msg) {
      expect(msg._msg_id).toMatch(/^[0-9a-f]{32}$/);
      expect(msg._reply_q).toMatch(/^reply_[0-9a-f]{32}$/);
    }
    expect(msg._unique_id).toMatch(/^[0-9a-f]{32}$/);
  }

  it('initialize_connection (01) → the connection_info dict of the reply', async () => {
    const reply = fixture('01-initialize_connection.reply.json').oslo_message;
    const { t, api } = clientAnswering(() => [reply]);
    const info = await api.initializeConnection(fixtureContext(), fixtureVolume(), CONNECTOR);
    expect(info).toEqual(reply.result);
    checkRequest(t.published[0], fixture('01-initialize_connection.request.json'));
  });

  it('attach_volume (02) → a VolumeAttachment from the OVO reply', async () => {
    const reply = fixture('02-attach_volume.reply.json').oslo_message;
    const { t, api } = clientAnswering(() => [reply]);
    const att = await api.attachVolume(fixtureContext(), fixtureVolume({ status: 'attaching', attach_status: 'detached' }), INSTANCE, null, '/dev/vdb', 'rw');
    expect(att).toEqual(fixtureAttachment());
    expect(ovoMeta(att)?.name).toBe('VolumeAttachment');
    checkRequest(t.published[0], fixture('02-attach_volume.request.json'));
  });

  it('terminate_connection (03) → null', async () => {
    const { t, api } = clientAnswering(() => [fixture('03-terminate_connection.reply.json').oslo_message]);
    await expect(api.terminateConnection(fixtureContext(), fixtureVolume(), CONNECTOR)).resolves.toBeUndefined();
    checkRequest(t.published[0], fixture('03-terminate_connection.request.json'));
  });

  it('terminate_connection failure (04) → ISCSITargetDetachFailed with kwargs', async () => {
    const { api } = clientAnswering(() => [fixture('04-terminate_connection_error.reply.json').oslo_message]);
    const err = await api.terminateConnection(fixtureContext(), fixtureVolume(), { ...CONNECTOR, host: 'compute-fail' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ISCSITargetDetachFailed);
    expect(err).toBeInstanceOf(CinderException);
    const e = err as ISCSITargetDetachFailed;
    expect(e.kwargs).toEqual({ volume_id: VOLUME_ID, code: 500 });
    expect(e.code).toBe(500);
    expect(e.message).toBe(`Failed to detach iSCSI target for volume ${VOLUME_ID}.`);
    expect(remoteTraceback(e)?.[0]).toBe('Traceback (most recent call last):\n');
  });

  it('detach_volume (05) and attachment_delete (06)', async () => {
    const { t, api } = clientAnswering(() => [fixture('05-detach_volume.reply.json').oslo_message]);
    const vol = fixtureVolume({ volume_attachment: [fixtureAttachment()] });
    await api.detachVolume(fixtureContext(), vol, ATTACHMENT_ID);
    checkRequest(t.published[0], fixture('05-detach_volume.request.json'));
    await api.attachmentDelete(fixtureContext(), ATTACHMENT_ID, vol);
    checkRequest(t.published[1], fixture('06-attachment_delete.request.json'));
  });

  it('remove_export cast (08) and publish_service_capabilities fanout (09)', async () => {
    const t = new FakeTransport();
    const api = new VolumeRpcApi(new RpcClient(t), { timeoutMs: 60_000 });
    await api.removeExport(fixtureContext(), fixtureVolume());
    checkRequest(t.published[0], fixture('08-remove_export_cast.request.json'));
    expect(t.published[0].declare).toEqual({ name: 'openstack', type: 'topic', options: { durable: false, autoDelete: false } });
    await api.publishServiceCapabilities(fixtureContext());
    checkRequest(t.published[1], fixture('09-publish_service_capabilities_fanout.request.json'));
    expect(t.published[1].declare).toEqual({ name: 'cinder-volume_fanout', type: 'fanout', options: { durable: false, autoDelete: true } });
    expect(t.consumers).toHaveLength(0); // casts never declare a reply queue
  });

  it('routes by cluster_name first, and to cinder-volume/H@B under a cap below 3.6', async () => {
    const api = new VolumeRpcApi(new RpcClient(new FakeTransport()), { timeoutMs: 1000 });
    expect(api.target({ host: 'hostA@lvm#lvm', cluster_name: null })).toEqual({ topic: 'cinder-volume.hostA@lvm', server: 'hostA' });
    expect(api.target({ host: 'hostA@lvm#lvm', cluster_name: 'clu@lvm#pool' })).toEqual({ topic: 'cinder-volume.clu@lvm', server: 'clu' });
    const old = new VolumeRpcApi(new RpcClient(new FakeTransport()), { timeoutMs: 1000, versionCap: '3.5' });
    expect(old.target({ host: 'hostA@lvm#lvm', cluster_name: null })).toEqual({ topic: 'cinder-volume', server: 'hostA@lvm' });
    await expect(old.attachmentDelete(fixtureContext(), ATTACHMENT_ID, fixtureVolume())).rejects.toThrow(/Required RPC API version is 3.9/);
    await expect(old.attachmentUpdate(fixtureContext(), fixtureVolume(), CONNECTOR, ATTACHMENT_ID)).rejects.toThrow(ServiceTooOld);
  });

  it('sends attach_volume at 3.0 without the volume under a 3.2 cap', async () => {
    const { t, client } = clientAnswering(() => [fixture('02-attach_volume.reply.json').oslo_message]);
    const api = new VolumeRpcApi(client, { timeoutMs: 1000, versionCap: '3.2' });
    await api.attachVolume(fixtureContext(), fixtureVolume(), INSTANCE, null, '/dev/vdb', 'rw');
    const msg = decodePublished(t.published[0]);
    expect(msg.version).toBe('3.0');
    expect(msg.args).not.toHaveProperty('volume');
  });
});

describe('replies decoded by the client', () => {
  it('detects call-monitor heartbeats (14) and keeps the final result', async () => {
    const hb1 = fixture('14-call_monitor_heartbeat.reply-heartbeat-1.json').oslo_message;
    const hb2 = fixture('14-call_monitor_heartbeat.reply-heartbeat-2.json').oslo_message;
    const fin = fixture('14-call_monitor_heartbeat.reply.json').oslo_message;
    expect(hb1).toMatchObject({ result: null, failure: null, ending: false });
    const { client } = clientAnswering(() => [hb1, hb2, fin]);
    await expect(client.call({ topic: 'cinder-volume.hostA@lvm', server: 'hostA' }, fixtureContext(), 'wirecap_slow', { seconds: 2.6 }, { version: '3.0' })).resolves.toEqual({ slept: 2.6 });
  });

  it('accepts the legacy two-message reply and drops duplicate replies', async () => {
    const { client } = clientAnswering(() => [
      { result: { a: 1 }, failure: null, ending: false, _unique_id: 'u1' },
      { result: { a: 1 }, failure: null, ending: false, _unique_id: 'u1' },
      { result: null, failure: null, ending: true, _unique_id: 'u2' },
    ]);
    await expect(client.call({ topic: 't' }, fixtureContext(), 'm', {}, { version: '3.0' })).resolves.toEqual({ a: 1 });
  });

  it('rebuilds the 04 failure as ISCSITargetDetachFailed, 10-13 as RemoteError', () => {
    const f04 = deserializeFailure(fixture('04-terminate_connection_error.reply.json').oslo_message.failure);
    expect(f04).toBeInstanceOf(ISCSITargetDetachFailed);
    expect((f04 as ISCSITargetDetachFailed).kwargs).toEqual({ volume_id: VOLUME_ID, code: 500 });
    const expectations: [string, string, string][] = [
      ['10-unknown_method.reply.json', 'NoSuchMethod', 'Endpoint does not support RPC method no_such_method'],
      ['11-unsupported_version_major.reply.json', 'UnsupportedVersion', 'Endpoint does not support RPC version 4.0. Attempted method: terminate_connection'],
      ['12-unsupported_version_minor.reply.json', 'UnsupportedVersion', 'Endpoint does not support RPC version 3.99. Attempted method: terminate_connection'],
      ['13-builtin_exception.reply.json', 'ValueError', "invalid literal for int() with base 10: 'x'"],
    ];
    for (const [name, cls, value] of expectations) {
      const f = fixture(name);
      const e = deserializeFailure(f.oslo_message.failure);
      expect(e).toBeInstanceOf(RemoteError);
      expect(e).not.toBeInstanceOf(CinderException);
      expect((e as RemoteError).excType).toBe(cls);
      expect((e as RemoteError).value).toBe(value);
      expect((e as RemoteError).tb).toEqual(f.failure_parsed?.tb);
    }
  });

  it('rebuilds kwargs-only cinder failures from the template; unknown classes become RemoteError', () => {
    const nf = deserializeFailure(JSON.stringify({ class: 'VolumeNotFound', module: 'cinder.exception', message: 'x', tb: [], args: [], kwargs: { volume_id: 'v1', code: 404 } }));
    expect(nf).toBeInstanceOf(VolumeNotFound);
    expect(nf.message).toBe('Volume v1 could not be found.');
    expect((nf as VolumeNotFound).code).toBe(404);
    const multi = deserializeFailure(JSON.stringify({ class: 'VolumeNotFound', module: 'cinder.exception', message: 'Volume v1 could not be found.\nTraceback...', tb: [], args: ['Volume v1 could not be found.\nTraceback...'], kwargs: { volume_id: 'v1', code: 404 } }));
    expect(multi.message).toBe('Volume v1 could not be found.');
    const unknown = deserializeFailure(JSON.stringify({ class: 'NoSuchThing', module: 'cinder.exception', message: 'boom', tb: [], args: ['boom'], kwargs: {} }));
    expect(unknown).toBeInstanceOf(RemoteError);
    expect(deserializeFailure(JSON.stringify({ class: 'TsBackendError', module: 'ts.backend', message: 'exploded', tb: [], args: [], kwargs: {} }))).toBeInstanceOf(RemoteError);
  });

  it('times out with MessagingTimeout and drops the late reply', async () => {
    const t = new FakeTransport();
    const client = new RpcClient(t, { timeoutMs: 60_000 });
    const err = await client.call({ topic: 'cinder-volume.nohost@lvm', server: 'nohost' }, fixtureContext(), 'm', {}, { version: '3.0', timeoutMs: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MessagingTimeout);
    const msg = decodePublished(t.published[0]);
    expect((err as Error).message).toBe(`Timed out waiting for a reply to message ID ${String(msg._msg_id)}`);
    expect(publishProperties(t.published[0]).expiration).toBe('30');
    t.deliver(msg._reply_q as string, encodeEnvelope({ result: 1, failure: null, ending: true, _msg_id: msg._msg_id, _unique_id: 'late' }));
    expect(t.acked).toHaveLength(1);
  });

  // Issue 8, points 1 and 2: with the broker gone, declaring the reply queue and publishing wait
  // for a reconnection. The timeout still bounds the whole call, and a send that fails after the
  // caller gave up must not become an unhandled rejection (Node would end the process).
  it('bounds the whole call by the timeout while the reply queue cannot be declared', async () => {
    const t = new FakeTransport();
    let declared: (h: ConsumerHandle) => void = () => undefined;
    t.consume = (spec) => {
      t.consumers.push(spec);
      return new Promise<ConsumerHandle>((resolve) => (declared = resolve));
    };
    const client = new RpcClient(t, { timeoutMs: 60_000 });
    const started = Date.now();
    const err = await client.call({ topic: 'cinder-volume.h@lvm', server: 'h' }, fixtureContext(), 'm', {}, { version: '3.0', timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MessagingTimeout);
    expect(Date.now() - started).toBeLessThan(1000);
    // The broker comes back: the call that gave up is not sent at all.
    declared({ close: async () => undefined });
    await new Promise((r) => setTimeout(r, 10));
    expect(t.published).toHaveLength(0);
  });

  it('times out while the publish waits for the broker, and a late publish failure is swallowed', async () => {
    const t = new FakeTransport();
    let fail: (e: Error) => void = () => undefined;
    t.publish = (req) => {
      t.published.push(req);
      return new Promise<PublishOutcome>((_, reject) => (fail = reject));
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const client = new RpcClient(t, { timeoutMs: 60_000 });
      const err = await client.call({ topic: 'cinder-volume.h@lvm', server: 'h' }, fixtureContext(), 'm', {}, { version: '3.0', timeoutMs: 40 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MessagingTimeout);
      fail(new Error('publish deadline passed; message not sent'));
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('fails the call at once when the send fails before the timeout', async () => {
    const t = new FakeTransport();
    t.publish = async () => {
      throw new Error('channel closed');
    };
    const client = new RpcClient(t, { timeoutMs: 60_000 });
    const started = Date.now();
    const err = await client.call({ topic: 'cinder-volume.h@lvm', server: 'h' }, fixtureContext(), 'm', {}, { version: '3.0' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('channel closed');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('replies built by the TS server compared with the amqplib interop captures', () => {
  const HOST = 'hostA@lvm';

  async function serve(methods: Endpoint['methods']) {
    const t = new FakeTransport();
    const server = new RpcServer(t, { host: HOST }, { version: '3.18', methods });
    await server.start();
    return { t, server };
  }

  function send(t: FakeTransport, name: string, patch: (m: Record<string, unknown>) => Record<string, unknown> = (m) => m) {
    const f = fixture(name);
    const msg = patch({ ...f.oslo_message });
    t.deliver(f.routing_key, encodeEnvelope(msg));
    return msg;
  }

  function replyTo(t: FakeTransport, msg: Record<string, unknown>, ending = true) {
    return t.nextPublish((r) => r.routingKey === msg._reply_q && decodePublished(r)._msg_id === msg._msg_id && decodePublished(r).ending === ending);
  }

  function checkReplyEnvelope(req: PublishRequest, interop: Fixture, request: Record<string, unknown>) {
    expect(req.exchange).toBe('');
    expect(req.routingKey).toBe(request._reply_q);
    expect(req.declare).toBeUndefined();
    expect(publishProperties(req)).toEqual({ ...amqplibProps(interop), mandatory: true });
    const msg = decodePublished(req);
    expect(Object.keys(msg).sort()).toEqual(Object.keys(interop.oslo_message).sort());
    expect(msg._msg_id).toBe(request._msg_id);
    expect(msg._unique_id).toMatch(/^[0-9a-f]{32}$/);
    expect(msg._unique_id).not.toBe(request._unique_id);
    return msg;
  }

  it('declares the three queues per target like oslo (topology.json)', async () => {
    const { t, server } = await serve({});
    const topo = JSON.parse(readFileSync(join(FIX, 'topology.json'), 'utf8')) as { queues: { name: string; durable: boolean; auto_delete: boolean; arguments: unknown[] }[] };
    const names = t.consumers.flatMap((c) => c.queues.map((q) => q.name));
    expect(names.filter((n) => !n.includes('_fanout_'))).toEqual(['cinder-volume', 'cinder-volume.hostA@lvm', 'cinder-volume.hostA@lvm', 'cinder-volume.hostA@lvm.hostA']);
    expect(names.filter((n) => n.includes('_fanout_')).map((n) => n.replace(/_[0-9a-f]{32}$/, ''))).toEqual(['cinder-volume_fanout', 'cinder-volume.hostA@lvm_fanout']);
    for (const c of t.consumers) {
      for (const q of c.queues) {
        const expected = topo.queues.find((x) => x.name.replace(/_[0-9a-f]{32}$/, '') === q.name.replace(/_[0-9a-f]{32}$/, ''));
        expect(expected, q.name).toBeDefined();
        expect(q.options.durable).toBe(expected?.durable);
        expect(q.options.autoDelete).toBe(expected?.auto_delete);
        expect(Object.entries(q.options.arguments ?? {})).toEqual((expected?.arguments ?? []).map((a) => [(a as unknown[])[0], (a as unknown[])[2]]));
      }
    }
    const fan = t.consumers[0].queues[2];
    expect(fan.bindings).toEqual([{ exchange: { name: 'cinder-volume_fanout', type: 'fanout', options: { durable: false, autoDelete: true } }, routingKey: 'cinder-volume' }]);
    await server.stop();
  });

  it('ISCSITargetDetachFailed failure reply matches interop/amqplib-reply-ISCSITargetDetachFailed', async () => {
    const { t } = await serve({
      terminate_connection: (_ctx, args) => {
        throw new ISCSITargetDetachFailed({ volume_id: args.volume_id });
      },
    });
    const req = send(t, '04-terminate_connection_error.request.json');
    const interop = fixture('interop/amqplib-reply-ISCSITargetDetachFailed.json');
    const msg = checkReplyEnvelope(await replyTo(t, req), interop, req);
    expect(msg.result).toBeNull();
    expect(msg.ending).toBe(true);
    expect(typeof msg.failure).toBe('string');
    const ours = parseFailure(msg.failure);
    const theirs = interop.failure_parsed as Record<string, unknown>;
    expect(Object.keys(JSON.parse(msg.failure as string) as object).sort()).toEqual(Object.keys(theirs).sort());
    expect({ ...ours, tb: [] }).toEqual({ ...theirs, tb: [] });
    expect(ours.tb[0]).toBe('Traceback (most recent call last):\n');
    expect(ours.tb[ours.tb.length - 1]).toBe(`cinder.exception.ISCSITargetDetachFailed: Failed to detach iSCSI target for volume ${VOLUME_ID}.\n`);
    // and it is what the real Python server sent in fixture 04, traceback aside
    expect({ ...ours, tb: [] }).toEqual({ ...fixture('04-terminate_connection_error.reply.json').failure_parsed, tb: [] });
    expect(t.acked).toHaveLength(1);
  });

  it('attach_volume result matches interop/amqplib-reply-attach_volume (and fixture 02)', async () => {
    let got: Record<string, unknown> = {};
    const { t } = await serve({
      attach_volume: (_ctx, args) => {
        got = args;
        return fixtureAttachment(); // an untagged DB row: recognised by shape
      },
    });
    const req = send(t, '02-attach_volume.request.json');
    const interop = fixture('interop/amqplib-reply-attach_volume.json');
    const msg = checkReplyEnvelope(await replyTo(t, req), interop, req);
    expect(msg.result).toEqual(interop.oslo_message.result);
    expect(msg.result).toEqual(fixture('02-attach_volume.reply.json').oslo_message.result);
    expect(msg.failure).toBeNull();
    expect(got.volume).toEqual(fixtureVolume({ status: 'attaching', attach_status: 'detached' }));
  });

  it('call-monitor heartbeat matches interop/amqplib-reply-heartbeat', async () => {
    let release = () => undefined as void;
    const { t } = await serve({ wirecap_slow: () => new Promise((r) => (release = () => r({ slept: 2.6 }))) });
    const req = send(t, '14-call_monitor_heartbeat.request.json'); // _timeout: 2 → a heartbeat every second
    const hb = checkReplyEnvelope(await replyTo(t, req, false), fixture('interop/amqplib-reply-heartbeat.json'), req);
    expect(hb).toMatchObject({ result: null, failure: null, ending: false });
    release();
    const fin = decodePublished(await replyTo(t, req, true));
    expect(fin).toMatchObject({ result: { slept: 2.6 }, failure: null, ending: true });
  });

  it('dispatcher failures match fixtures 10-13', async () => {
    const { t } = await serve({
      terminate_connection: () => null,
      wirecap_raise_builtin: () => {
        throw new PyValueError("invalid literal for int() with base 10: 'x'");
      },
    });
    for (const name of ['10-unknown_method', '11-unsupported_version_major', '12-unsupported_version_minor', '13-builtin_exception']) {
      const req = send(t, `${name}.request.json`);
      const msg = decodePublished(await replyTo(t, req));
      const expected = fixture(`${name}.reply.json`).failure_parsed as Record<string, unknown>;
      expect({ ...parseFailure(msg.failure), tb: [] }).toEqual({ ...expected, tb: [] });
    }
  });

  it('edge cases: decode failures, duplicates, context and OVO errors (edge-cases.json)', async () => {
    const calls: string[] = [];
    const { t } = await serve({ terminate_connection: (_c, a) => (calls.push(String(a.volume_id)), null), initialize_connection: () => ({}) });
    const f03 = fixture('03-terminate_connection.request.json');
    // no content type / envelope 3.0: rejected without reply
    t.deliver(f03.routing_key, f03.body_raw, null);
    t.deliver(f03.routing_key, JSON.stringify({ 'oslo.version': '3.0', 'oslo.message': JSON.stringify(f03.oslo_message) }));
    expect(t.rejected).toHaveLength(2);
    // bare message (no envelope) is fine; the same _unique_id again is dropped silently
    t.deliver(f03.routing_key, JSON.stringify(f03.oslo_message));
    await replyTo(t, f03.oslo_message);
    t.deliver(f03.routing_key, JSON.stringify({ ...f03.oslo_message, _msg_id: 'dup' }));
    const failures: Record<string, string> = {
      context_only_user_project_request_id: "ValueError: read_deleted can only be one of 'no', 'yes' or 'only', not None",
      private_method_name: 'NoSuchMethod: Endpoint does not support RPC method _private',
      namespace_set: 'UnsupportedVersion: Endpoint does not support RPC version 3.0. Attempted method: terminate_connection',
      version_missing: 'UnsupportedVersion: Endpoint does not support RPC version 1.0. Attempted method: terminate_connection',
      'version_3.18.1': 'UnsupportedVersion: Endpoint does not support RPC version 3.18.1. Attempted method: terminate_connection',
      'volume_ovo_version_1.10': 'IncompatibleObjectVersion: Version 1.10 of Volume is not supported, supported version is 1.9',
      volume_ovo_namespace_nova: 'UnsupportedObjectError: Unsupported object type nova.Volume',
      volume_ovo_bad_datetime: "ValueError: Unable to parse date string 'yesterday'",
    };
    const f01 = fixture('01-initialize_connection.request.json').oslo_message;
    const vol = (f01.args as Record<string, unknown>).volume as OvoPrimitive;
    const variants: Record<string, Record<string, unknown>> = {
      context_only_user_project_request_id: Object.fromEntries(Object.entries(f03.oslo_message).filter(([k]) => !k.startsWith('_context_') || ['_context_user_id', '_context_project_id', '_context_request_id'].includes(k))),
      private_method_name: { ...f03.oslo_message, method: '_private' },
      namespace_set: { ...f03.oslo_message, namespace: 'cinder' },
      version_missing: Object.fromEntries(Object.entries(f03.oslo_message).filter(([k]) => k !== 'version')),
      'version_3.18.1': { ...f03.oslo_message, version: '3.18.1' },
      'volume_ovo_version_1.10': { ...f01, args: { connector: CONNECTOR, volume: { ...vol, 'versioned_object.version': '1.10' } } },
      volume_ovo_namespace_nova: { ...f01, args: { connector: CONNECTOR, volume: { ...vol, 'versioned_object.namespace': 'nova' } } },
      volume_ovo_bad_datetime: { ...f01, args: { connector: CONNECTOR, volume: { ...vol, 'versioned_object.data': { ...vol['versioned_object.data'], created_at: 'yesterday' } } } },
    };
    let n = 0;
    for (const [edge, m] of Object.entries(variants)) {
      const msg = { ...m, _msg_id: `m${n}`, _unique_id: `u${n++}` };
      t.deliver(f03.routing_key, encodeEnvelope(msg));
      const f = parseFailure(decodePublished(await replyTo(t, msg)).failure);
      expect(`${f.class}: ${f.message}`, edge).toBe(failures[edge]);
    }
    // version 3.18 exactly, no _unique_id, non-integer _timeout: all fine
    const ok = { ...f03.oslo_message, version: '3.18', _unique_id: undefined, _timeout: 'abc', _msg_id: 'ok' };
    t.deliver(f03.routing_key, encodeEnvelope(ok));
    expect(decodePublished(await replyTo(t, ok))).toMatchObject({ result: null, failure: null, ending: true });
    expect(t.published.filter((p) => decodePublished(p)._msg_id === 'dup')).toHaveLength(0);
    expect(calls).toEqual([VOLUME_ID, VOLUME_ID]);
  });

  it('casts get no reply, even when they fail', async () => {
    let done = () => undefined as void;
    const finished = new Promise<void>((r) => (done = r));
    const { t } = await serve({
      remove_export: () => {
        done();
        throw new Error('boom');
      },
    });
    send(t, '08-remove_export_cast.request.json');
    await finished;
    await new Promise((r) => setTimeout(r, 10));
    expect(t.published).toHaveLength(0);
    expect(t.acked).toHaveLength(1);
  });
});

describe('failure serialization', () => {
  it('maps JS errors to builtins and drops a `message` kwarg Python would choke on', () => {
    expect(failureFromError(new TypeError('x'))).toMatchObject({ class: 'TypeError', module: 'builtins', message: 'x', args: ['x'], kwargs: {} });
    expect(failureFromError(new Error('y'))).toMatchObject({ class: 'Exception', module: 'builtins' });
    expect(failureFromError('z')).toMatchObject({ class: 'Exception', module: 'builtins', message: 'z' });
    const f = JSON.parse(serializeFailure(new VolumeNotFound({ volume_id: 'v1' }))) as Record<string, unknown>;
    expect(f).toMatchObject({ class: 'VolumeNotFound', module: 'cinder.exception', message: 'Volume v1 could not be found.', kwargs: { volume_id: 'v1', code: 404 } });
    class TsOnly extends ISCSITargetDetachFailed {}
    expect(failureFromError(new TsOnly({ volume_id: 'v' })).class).toBe('ISCSITargetDetachFailed');
  });
});

describe('transport helpers', () => {
  it('parses oslo transport URLs', () => {
    expect(parseTransportUrl('rabbit://guest:guest@127.0.0.1:5672/')).toEqual({ hosts: [{ hostname: '127.0.0.1', port: 5672, username: 'guest', password: 'guest' }], vhost: '' });
    expect(parseTransportUrl('rabbit://u%40x:p%2Fw@h1:5673,u2:p2@h2/cin%2Fder')).toEqual({
      hosts: [
        { hostname: 'h1', port: 5673, username: 'u@x', password: 'p/w' },
        { hostname: 'h2', port: 5672, username: 'u2', password: 'p2' },
      ],
      vhost: 'cin%2Fder',
    });
    expect(parseTransportUrl('amqp://[::1]:5672').hosts[0].hostname).toBe('::1');
    expect(() => parseTransportUrl('kafka://x')).toThrow();
  });

  it('derives declarations from the oslo options', () => {
    const d = new Topology(resolveTransportOptions({ durableQueues: true, haQueues: true }));
    expect(d.controlExchange().options).toEqual({ durable: true, autoDelete: false });
    expect(d.topicQueue('t').options).toEqual({ durable: true, autoDelete: false, exclusive: false, arguments: { 'x-ha-policy': 'all' } });
    expect(d.replyQueue('ab').options.arguments).toEqual({ 'x-expires': 1800000, 'x-ha-policy': 'all' });
    const q = new Topology(resolveTransportOptions({ quorumQueues: true }));
    expect(q.topicQueue('t').options).toMatchObject({ durable: true, arguments: { 'x-queue-type': 'quorum' } });
    expect(q.fanoutQueue('t', 'ab').options).toMatchObject({ durable: false, arguments: { 'x-expires': 1800000 } });
    expect(splitContext({ _context_a: 1, b: 2 })).toEqual({ ctx: { a: 1 }, rest: { b: 2 } });
  });
});
