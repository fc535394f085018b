// os-retype without a change of backend, as Cinder 21.3.1 does it: the API action and the volume
// API's checks (cinder/api/contrib/volume_actions.py _retype, cinder/volume/api.py retype, with
// Cinder's texts), the scheduler's decision (scheduler/manager.py retype, filter_scheduler.py
// find_retype_backend) and the volume-manager with the real LVM driver (volume/manager.py retype,
// drivers/lvm.py retype), where only the command executor is a recording fake: a retype on the same
// volume group runs no storage command. The request spec and the Volume travel through the RPC
// codec between the three parts, as they would between the processes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { makeContext } from '../../src/common/context.js';
import { DriverNotInitialized, VolumeMigrationFailed } from '../../src/common/exceptions.js';
import * as dbapi from '../../src/db/api.js';
import { openDb, type Db } from '../../src/db/client.js';
import { volumeTypeEncryptionCreate } from '../../src/db/encryption.js';
import { qosSpecsAssociate, qosSpecsCreate } from '../../src/db/qos-specs.js';
import { volumeRetypeConditionalUpdate, volumeTypesDiff } from '../../src/db/retype.js';
import { volumeTypeCreate } from '../../src/db/volume-types.js';
import type { volumes } from '../../src/db/schema.js';
import type { LVMVolumeDriver } from '../../src/drivers/lvm.js';
import type { VolumeManager } from '../../src/manager/manager.js';
import type { RetypeHost } from '../../src/manager/retype.js';
import type { Volume } from '../../src/objects/volume.js';
import { ovoMeta } from '../../src/rpc/ovo.js';
import { SchedulerRpcApi } from '../../src/rpc/scheduler-rpcapi.js';
import { VolumeRpcApi } from '../../src/rpc/volume-rpcapi.js';
import { SchedulerManager } from '../../src/scheduler/manager.js';
import { VolumeAPI } from '../../src/volume-api/api.js';
import { testApp, tokenAuthenticator } from '../support/api.js';
import { FakeExecutor } from '../support/fake-executor.js';
import { wireClient } from '../support/wire-client.js';
import { capturingLogger, lvmDriver, lvmManager } from '../support/lvm-manager.js';
import { loggedNotifications } from '../support/notifications.js';
import { OsloNotifier } from '../../src/notifier/notifier.js';
import { createDatabase, dropDatabase, mysqlConnectionUrl } from '../support/mariadb.js';

const P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';
const HOST = 'node1@lvm';
const REFUSED =
  'Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, ' +
  'requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.';

let dir: string;
let db: Db;
let logLines: Record<string, unknown>[];
let logger: pino.Logger;
/** What the API cast to the scheduler (args as they arrive: through the RPC codec). */
let schedulerCasts: Record<string, unknown>[];
/** What the scheduler cast to the volume-manager. */
let volumeCasts: Record<string, unknown>[];
let app: FastifyInstance;
let scheduler: SchedulerManager;
const ctx = makeContext({ user_id: 'u1', project_id: P, roles: ['member', 'reader'] });

/** The token is the role set: `member` of P, or `admin`. */
const authenticator = tokenAuthenticator(P);

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-retype-'));
  db = await openDb(`sqlite:///${dir}/cinder.sqlite`);
  logLines = [];
  logger = capturingLogger(logLines);
  schedulerCasts = [];
  volumeCasts = [];
  const schedulerRpc = new SchedulerRpcApi(wireClient(schedulerCasts), { timeoutMs: 1000 });
  const volumeApi = new VolumeAPI({ db, rpc: {} as VolumeRpcApi, scheduler: schedulerRpc, logger });
  app = testApp({ volumeApi, authenticator });
  const volumeRpc = new VolumeRpcApi(wireClient(volumeCasts), { timeoutMs: 1000 });
  scheduler = new SchedulerManager({
    db,
    volumeRpc,
    logger,
    options: { service_down_time: 60, scheduler_driver_init_wait_time: 0 },
    notifier: { notifier: new OsloNotifier({ driver: ['log'], transport_url: undefined, topics: ['notifications'], retry: -1 }, logger), host: 'schedhost' },
  });
  await scheduler.initHostWithRpc(async () => {});
  await dbapi.serviceReport(db, { host: HOST, binary: 'cinder-volume', topic: 'cinder-volume', availability_zone: 'nova', rpc: '3.18', objects: '1.39' });
  scheduler.updateServiceCapabilities({
    service_name: 'volume',
    host: HOST,
    cluster_name: null,
    timestamp: new Date().toISOString().replace('Z', ''),
    capabilities: {
      volume_backend_name: 'lvm', vendor_name: 'Open Source', driver_version: '3.0.0', storage_protocol: 'iSCSI',
      pools: [{
        pool_name: 'lvm', total_capacity_gb: 1000, free_capacity_gb: 1000, reserved_percentage: 0, QoS_support: false,
        thin_provisioning_support: false, thick_provisioning_support: true, max_over_subscription_ratio: '20.0',
        multiattach: true, allocated_capacity_gb: 0, location_info: 'LVMVolumeDriver:node1:cinder-volumes:default:0',
      }],
    },
  });
});
afterEach(async () => {
  await app.close();
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function type(name: string, extraSpecs: Record<string, string> = {}) {
  return volumeTypeCreate(db, { name, extra_specs: extraSpecs });
}

async function volume(typeId: string, over: Partial<typeof volumes.$inferInsert> = {}) {
  return dbapi.volumeCreate(db, {
    id: randomUUID(),
    volume_type_id: typeId,
    project_id: P,
    user_id: 'u1',
    size: 1,
    status: 'available',
    attach_status: 'detached',
    availability_zone: 'nova',
    host: `${HOST}#lvm`,
    multiattach: false,
    replication_status: 'disabled',
    ...over,
  });
}

async function retypeAction(volumeId: string, body: unknown, token = 'member') {
  const r = await app.inject({
    method: 'POST',
    url: `/v3/${P}/volumes/${volumeId}/action`,
    headers: { host: 'localhost', 'x-auth-token': token, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  return { status: r.statusCode, text: r.body, json: r.body ? JSON.parse(r.body) : null };
}

const row = (id: string) => dbapi.volumeGetOrThrow(db, id);
const badRequest = (message: string) => ({ badRequest: { code: 400, message } });

describe('POST /volumes/{id}/action os-retype (api/contrib/volume_actions.py, volume/api.py retype)', () => {
  it('accepts with 202, moves the volume to retyping and casts the request spec to the scheduler', async () => {
    const a = await type('A', { volume_backend_name: 'lvm' });
    const b = await type('B', { volume_backend_name: 'lvm', 'capabilities:storage_protocol': 'iSCSI' });
    const v = await volume(a.id);
    const r = await retypeAction(v.id, { 'os-retype': { new_type: 'B', migration_policy: 'never' } });
    expect(r.status, r.text).toBe(202);
    expect(r.text).toBe('');
    const after = await row(v.id);
    expect([after.status, after.previous_status, after.volume_type_id, after.multiattach]).toEqual(['retyping', 'available', a.id, false]);

    expect(schedulerCasts).toHaveLength(1);
    const cast = schedulerCasts[0];
    // scheduler/rpcapi.py retype: a cast at the default version 3.0 to any scheduler.
    expect([cast._method, cast._version, cast._target]).toEqual(['retype', '3.0', { topic: 'cinder-scheduler' }]);
    expect(cast.filter_properties).toEqual({});
    expect((cast.volume as Volume).status).toBe('retyping');
    expect((cast.volume as Volume).previous_status).toBe('available');
    // jsonutils.to_primitive of the dict: plain dicts, not versioned objects.
    const spec = cast.request_spec as Record<string, any>;
    expect(Object.keys(spec)).toEqual(['volume_properties', 'volume_id', 'volume_type', 'migration_policy', 'quota_reservations', 'old_reservations', 'availability_zones']);
    expect(spec).toMatchObject({
      volume_id: v.id,
      migration_policy: 'never',
      // volumes_B/gigabytes_B reserved, volumes_A/gigabytes_A given back (quota_utils.get_volume_type_reservation).
      quota_reservations: [expect.any(String), expect.any(String)],
      old_reservations: [expect.any(String), expect.any(String)],
      availability_zones: ['nova'],
      volume_type: { id: b.id, name: 'B', is_public: true, projects: [], extra_specs: { volume_backend_name: 'lvm', 'capabilities:storage_protocol': 'iSCSI' }, qos_specs_id: null, deleted: false },
      volume_properties: { id: v.id, host: `${HOST}#lvm`, status: 'retyping', previous_status: 'available', volume_type_id: a.id, size: 1, name: `volume-${v.id}`, name_id: v.id },
    });
    expect(spec.volume_properties.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(spec.volume_properties.volume_type).toMatchObject({ id: a.id, name: 'A' });
    expect(logLines.some((l) => l.msg === 'Retype volume request issued successfully.')).toBe(true);
  });

  it('sends the request spec as plain dicts even for an admin, whose volume dict carries admin metadata', async () => {
    const a = await type('A');
    await type('B');
    const v = await volume(a.id);
    await dbapi.adminMetadataSet(db, v.id, { readonly: 'False' });
    await dbapi.volumeAttach(db, { volume_id: v.id, attach_status: 'reserved', instance_uuid: randomUUID() });
    const r = await retypeAction(v.id, { 'os-retype': { new_type: 'B' } }, 'admin');
    expect(r.status, r.text).toBe(202);
    const props = (schedulerCasts[0].request_spec as Record<string, any>).volume_properties;
    expect(ovoMeta(props)).toBeUndefined();
    expect(ovoMeta(props.volume_attachment[0])).toBeUndefined();
    expect(props.admin_metadata).toEqual({ readonly: 'False' });
    expect(props.volume_admin_metadata).toEqual([{ key: 'readonly', value: 'False' }]);
    expect(props.volume_attachment[0]).toMatchObject({ volume_id: v.id, attach_status: 'reserved' });
    // The Volume beside it is an object.
    expect(ovoMeta(schedulerCasts[0].volume)?.name).toBe('Volume');
  });

  it('finds the new type by id too, and takes the zones of RESKEY:availability_zones', async () => {
    const a = await type('A');
    const b = await type('B', { 'RESKEY:availability_zones': 'az1, az2,,' });
    const v = await volume(a.id);
    const r = await retypeAction(v.id, { 'os-retype': { new_type: b.id } });
    expect(r.status, r.text).toBe(202);
    const spec = schedulerCasts[0].request_spec as Record<string, any>;
    expect(spec.migration_policy).toBeNull();
    expect(spec.availability_zones).toEqual(['az1', 'az2']);
  });

  it.each([
    [{ 'os-retype': {} }, "Invalid input for field/attribute os-retype. Value: {}. 'new_type' is a required property"],
    [{ 'os-retype': { new_type: 'B', migration_policy: 'sometimes' } }, "Invalid input for field/attribute migration_policy. Value: sometimes. 'sometimes' is not one of ['on-demand', 'never']"],
    [{ 'os-retype': { new_type: 'B', migration_policy: null } }, "Invalid input for field/attribute migration_policy. Value: None. None is not one of ['on-demand', 'never']"],
    [{ 'os-retype': { new_type: 5 } }, "Invalid input for field/attribute new_type. Value: 5. 5 is not of type 'string'"],
    [{ 'os-retype': { new_type: 'B', x: 1 } }, "Invalid input for field/attribute os-retype. Value: {'new_type': 'B', 'x': 1}. Additional properties are not allowed ('x' was unexpected)"],
  ])('refuses the body %j with the schema text', async (body, message) => {
    const v = await volume((await type('A')).id);
    const r = await retypeAction(v.id, body);
    expect(r.status).toBe(400);
    expect(r.json).toEqual(badRequest(message));
    expect(schedulerCasts).toHaveLength(0);
  });

  it('answers 404 for an unknown type, by name or by id', async () => {
    const v = await volume((await type('A')).id);
    let r = await retypeAction(v.id, { 'os-retype': { new_type: 'nope' } });
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ itemNotFound: { code: 404, message: 'Volume type with name nope could not be found.' } });
    const id = randomUUID();
    r = await retypeAction(v.id, { 'os-retype': { new_type: id } });
    expect(r.json).toEqual({ itemNotFound: { code: 404, message: `Volume type ${id} could not be found.` } });
    expect((await row(v.id)).status).toBe('available');
  });

  it('refuses the same type, a migrating volume, a volume in a group and a non-retypable status with Cinder’s text', async () => {
    const a = await type('A');
    await type('B');
    const same = await volume(a.id);
    const migrating = await volume(a.id, { migration_status: 'migrating' });
    const grouped = await volume(a.id, { group_id: randomUUID() });
    const error = await volume(a.id, { status: 'error' });
    for (const [v, newType] of [[same, 'A'], [migrating, 'B'], [grouped, 'B'], [error, 'B']] as const) {
      const r = await retypeAction(v.id, { 'os-retype': { new_type: newType } });
      expect(r.status, `${v.id} → ${newType}`).toBe(400);
      expect(r.json).toEqual(badRequest(REFUSED));
      expect((await row(v.id)).status).toBe(v.status);
    }
    expect(schedulerCasts).toHaveLength(0);
  });

  it('for an in-use volume refuses a change of front-end QoS, but not of back-end QoS', async () => {
    const a = await type('A');
    const front = await type('front');
    const back = await type('back');
    const fq = await qosSpecsCreate(db, { name: 'fq', consumer: 'front-end', specs: { total_iops_sec: '100' } });
    const bq = await qosSpecsCreate(db, { name: 'bq', consumer: 'back-end', specs: { total_iops_sec: '100' } });
    await qosSpecsAssociate(db, fq.id, front.id);
    await qosSpecsAssociate(db, bq.id, back.id);
    const inUse = await volume(a.id, { status: 'in-use', attach_status: 'attached' });
    let r = await retypeAction(inUse.id, { 'os-retype': { new_type: 'front' } });
    expect(r.json).toEqual(badRequest(REFUSED));
    r = await retypeAction(inUse.id, { 'os-retype': { new_type: 'back' } });
    expect(r.status, r.text).toBe(202);
    expect((await row(inUse.id)).previous_status).toBe('in-use');
    // An available volume may take any QoS.
    const available = await volume(a.id);
    r = await retypeAction(available.id, { 'os-retype': { new_type: 'front' } });
    expect(r.status, r.text).toBe(202);
  });

  it('refuses a multiattach change of an in-use volume, and multiattach with encryption', async () => {
    const a = await type('A');
    await type('multi', { multiattach: '<is> True' });
    await type('multi-enc', { multiattach: '<is> True', encryption: 'luks' });
    const inUse = await volume(a.id, { status: 'in-use', attach_status: 'attached' });
    let r = await retypeAction(inUse.id, { 'os-retype': { new_type: 'multi' } });
    expect(r.json).toEqual(badRequest(
      'Invalid input received: Invalid volume_type passed, retypes affecting multiattach are only allowed on available volumes, the specified volume however currently has a status of: in-use.',
    ));
    const available = await volume(a.id);
    r = await retypeAction(available.id, { 'os-retype': { new_type: 'multi-enc' } });
    expect(r.json).toEqual(badRequest('Invalid input received: Retype requested both encryption and multi-attach, which is not supported.'));
    // An available volume may become multiattach: the API writes the flag after the cast.
    r = await retypeAction(available.id, { 'os-retype': { new_type: 'multi' } });
    expect(r.status, r.text).toBe(202);
    expect((await row(available.id)).multiattach).toBe(true);
    expect((schedulerCasts[0].request_spec as any).volume_properties.multiattach).toBe(false);
  });

  it('applies the new type’s provisioning size limits', async () => {
    const a = await type('A');
    await type('tiny', { 'provisioning:max_vol_size': '0' });
    const v = await volume(a.id);
    const r = await retypeAction(v.id, { 'os-retype': { new_type: 'tiny' } });
    expect(r.json).toEqual(badRequest("Invalid input received: Specified volume size of '1' is greater than the maximum allowable size of '0' for volume type 'tiny'."));
  });
});

describe('scheduler retype (scheduler/manager.py retype, find_retype_backend)', () => {
  async function castFromApi(newType: string, policy: string | null = 'never', status = 'available') {
    const a = await type('A', { volume_backend_name: 'lvm' });
    const v = await volume(a.id, { status, attach_status: status === 'in-use' ? 'attached' : 'detached' });
    const r = await retypeAction(v.id, { 'os-retype': policy ? { new_type: newType, migration_policy: policy } : { new_type: newType } });
    expect(r.status, r.text).toBe(202);
    const cast = schedulerCasts[0];
    await scheduler.retype(ctx, cast.volume as Volume, cast.request_spec, cast.filter_properties);
    return v;
  }

  it('keeps the volume on its backend when it passes the filters with the new type, and casts retype there', async () => {
    const b = await type('B', { volume_backend_name: 'lvm', multiattach: '<is> True' });
    const v = await castFromApi('B');
    expect(volumeCasts).toHaveLength(1);
    const c = volumeCasts[0];
    // volume/rpcapi.py retype: a cast at 3.5 to the volume's backend.
    expect([c._method, c._version, c._target]).toEqual(['retype', '3.5', { topic: `cinder-volume.${HOST}`, server: 'node1' }]);
    expect(Object.keys(c).filter((k) => !k.startsWith('_')).sort()).toEqual(['host', 'migration_policy', 'new_type_id', 'old_reservations', 'reservations', 'volume']);
    expect(c.new_type_id).toBe(b.id);
    expect(c.migration_policy).toBe('never');
    expect(c.host).toMatchObject({ host: `${HOST}#lvm`, cluster_name: null, capabilities: { pool_name: 'lvm', volume_backend_name: 'lvm' } });
    expect((c.volume as Volume).id).toBe(v.id);
    // The scheduler wrote nothing: the volume is still retyping until the manager is done.
    expect((await row(v.id)).status).toBe('retyping');
  });

  it('migration_policy unset is never', async () => {
    await type('B', { volume_backend_name: 'lvm' });
    await castFromApi('B', null);
    expect(volumeCasts[0].migration_policy).toBe('never');
  });

  it('no valid backend: the volume goes back to its previous status, nothing is cast', async () => {
    const b = await type('B', { volume_backend_name: 'elsewhere' });
    const v = await castFromApi('B', 'never', 'in-use');
    expect(volumeCasts).toHaveLength(0);
    const after = await row(v.id);
    expect([after.status, after.volume_type_id]).not.toContain(b.id);
    expect(after.status).toBe('in-use');
    const err = logLines.find((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('Failed to schedule_retype: '));
    expect(err?.msg).toBe(
      `Failed to schedule_retype: No valid backend was found. No valid backends for volume ${v.id} with type ` +
        `{'id': '${b.id}', 'name': 'B', 'description': None, 'is_public': True, 'projects': [], 'extra_specs': {'volume_backend_name': 'elsewhere'}, ` +
        `'qos_specs_id': None, 'created_at': '${b.created_at!.replace(' ', 'T')}', 'updated_at': None, 'deleted_at': None, 'deleted': False}`,
    );
    expect(loggedNotifications(logLines).find((l) => l.event_type === 'scheduler.retype')).toMatchObject({
      priority: 'ERROR',
      publisher_id: 'scheduler.schedhost',
      payload: { volume_id: v.id, state: { status: 'in-use' }, method: 'retype', reason: expect.stringMatching(/^NoValidBackend\("No valid backend was found\. /) },
    });
  });

  it('another backend fits but migration is never allowed: "Current backend not valid"', async () => {
    await dbapi.serviceReport(db, { host: 'node2@lvm', binary: 'cinder-volume', topic: 'cinder-volume', availability_zone: 'nova', rpc: '3.18', objects: '1.39' });
    scheduler.updateServiceCapabilities({
      service_name: 'volume', host: 'node2@lvm', cluster_name: null, timestamp: new Date().toISOString().replace('Z', ''),
      capabilities: { volume_backend_name: 'lvm2', pools: [{ pool_name: 'lvm2', total_capacity_gb: 100, free_capacity_gb: 100, reserved_percentage: 0 }] },
    });
    await type('B', { volume_backend_name: 'lvm2' });
    const v = await castFromApi('B');
    expect(volumeCasts).toHaveLength(0);
    expect((await row(v.id)).status).toBe('available');
    const err = logLines.find((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('Failed to schedule_retype: '));
    expect(err?.msg).toMatch(new RegExp(`^Failed to schedule_retype: No valid backend was found\\. Current backend not valid for volume ${v.id} with type \\{.*\\}, migration not allowed$`));
  });
});

describe('volume-manager retype with the LVM driver (volume/manager.py retype, drivers/lvm.py retype)', () => {
  let exec: FakeExecutor;
  let driver: LVMVolumeDriver;
  let manager: VolumeManager;
  /** publish_service_capabilities after a retype (the schedulers' view of the backend). */
  let published: number;

  beforeEach(async () => {
    exec = new FakeExecutor();
    driver = await lvmDriver(dir, exec, logger);
    published = 0;
    const capacity = { countAllocated() {}, add() {}, publishServiceCapabilities: async () => void published++ };
    manager = lvmManager(dir, { db, driver, capacity }, logger);
    await manager.initHost();
  });

  /** The whole path: API → scheduler → manager, through the RPC codec each time. */
  async function retypeThrough(volumeId: string, newType: string, policy = 'never') {
    const r = await retypeAction(volumeId, { 'os-retype': { new_type: newType, migration_policy: policy } });
    expect(r.status, r.text).toBe(202);
    const s = schedulerCasts.at(-1)!;
    await scheduler.retype(ctx, s.volume as Volume, s.request_spec, s.filter_properties);
    const c = volumeCasts.at(-1)!;
    exec.calls = [];
    return manager.retype(ctx, c.volume as Volume, c.new_type_id as string, c.host as RetypeHost, c.migration_policy as string);
  }

  it('same volume group: the type changes, the status comes back, and no storage command runs', async () => {
    const a = await type('A', { volume_backend_name: 'lvm' });
    // Scoped keys other than capabilities: are not matched by CapabilitiesFilter.
    const b = await type('B', { volume_backend_name: 'lvm', 'vendor:tier': 'gold' });
    const v = await volume(a.id);
    await retypeThrough(v.id, 'B');
    expect(exec.calls.map((c) => c.argv.join(' '))).toEqual([]);
    expect(published).toBe(1);
    const after = await row(v.id);
    expect([after.status, after.volume_type_id, after.host, after.cluster_name, after.migration_status]).toEqual(['available', b.id, `${HOST}#lvm`, null, null]);
    expect(logLines.some((l) => l.msg === `LVM retype called for volume ${v.id}. No action required for LVM volumes.`)).toBe(true);
    expect(logLines.some((l) => l.msg === `Volume ${v.id}: retyped successfully.`)).toBe(true);
    expect(logLines.some((l) => l.msg === 'Retype volume completed successfully.')).toBe(true);
    const note = loggedNotifications(logLines).find((l) => l.event_type === 'volume.retype');
    expect(note).toMatchObject({ publisher_id: `volume.${HOST}`, payload: { volume_id: v.id, volume_type: b.id, status: 'available' } });
  });

  it('an in-use volume stays in-use with its export untouched', async () => {
    const a = await type('A', { volume_backend_name: 'lvm' });
    const b = await type('B', { volume_backend_name: 'lvm', 'vendor:tier': 'gold' });
    const v = await volume(a.id, { status: 'in-use', attach_status: 'attached' });
    await retypeThrough(v.id, 'B');
    expect(exec.calls).toEqual([]);
    const after = await row(v.id);
    expect([after.status, after.attach_status, after.volume_type_id]).toEqual(['in-use', 'attached', b.id]);
  });

  it('types with the same contents need not even the driver', async () => {
    const a = await type('A', { volume_backend_name: 'lvm' });
    const b = await type('B', { volume_backend_name: 'lvm' });
    expect((await volumeTypesDiff(db, a.id, b.id))[1]).toBe(true);
    const v = await volume(a.id);
    await retypeThrough(v.id, 'B');
    expect(logLines.some((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('LVM retype called'))).toBe(false);
    expect((await row(v.id)).volume_type_id).toBe(b.id);
  });

  it('an encryption change needs a migration: refused with never, the status restored', async () => {
    const a = await type('A', { volume_backend_name: 'lvm' });
    const enc = await type('enc', { volume_backend_name: 'lvm' });
    await volumeTypeEncryptionCreate(db, enc.id, { provider: 'luks', cipher: 'aes-xts-plain64', key_size: 256, control_location: 'front-end' });
    const [diff] = await volumeTypesDiff(db, a.id, enc.id);
    expect(diff.encryption).toEqual({ deleted: [null, false], provider: [null, 'luks'], cipher: [null, 'aes-xts-plain64'], key_size: [null, 256], control_location: [null, 'front-end'] });
    const v = await volume(a.id, { status: 'in-use', attach_status: 'attached' });
    const e = await retypeThrough(v.id, 'enc').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VolumeMigrationFailed);
    expect((e as Error).message).toBe('Volume migration failed: Retype requires migration but is not allowed.');
    const after = await row(v.id);
    expect([after.status, after.volume_type_id, after.migration_status]).toEqual(['in-use', a.id, null]);
    expect(exec.calls).toEqual([]);
  });

  it('on-demand: the migration this port does not have fails as a failed migration does in Cinder', async () => {
    const a = await type('A', { volume_backend_name: 'lvm' });
    const enc = await type('enc', { volume_backend_name: 'lvm' });
    await volumeTypeEncryptionCreate(db, enc.id, { provider: 'luks', cipher: 'aes-xts-plain64', key_size: 256, control_location: 'front-end' });
    const v = await volume(a.id);
    await expect(retypeThrough(v.id, 'enc', 'on-demand')).rejects.toThrow(VolumeMigrationFailed);
    const after = await row(v.id);
    expect([after.status, after.volume_type_id, after.migration_status]).toEqual(['available', a.id, 'error']);
    expect(exec.calls).toEqual([]);
  });

  it('a backend other than this one is a migration: refused with never', async () => {
    const a = await type('A');
    const b = await type('B', { foo: 'bar' });
    const v = await volume(a.id, { status: 'retyping', previous_status: 'available' });
    const other: RetypeHost = { host: 'node9@lvm#lvm', cluster_name: null, capabilities: {} };
    await expect(manager.retype(ctx, await row(v.id), b.id, other, 'never')).rejects.toThrow('Retype requires migration but is not allowed.');
    expect((await row(v.id)).status).toBe('available');
  });

  it('a replication_enabled difference decides replication_status (_set_replication_status)', async () => {
    const a = await type('A');
    const b = await type('B', { replication_enabled: '<is> True' });
    const v = await volume(a.id, { status: 'retyping', previous_status: 'available', replication_status: 'disabled' });
    await manager.retype(ctx, await row(v.id), b.id, { host: `${HOST}#lvm`, cluster_name: null, capabilities: {} }, 'never');
    const after = await row(v.id);
    expect([after.status, after.volume_type_id, after.replication_status]).toEqual(['available', b.id, 'enabled']);
  });

  it('an uninitialized driver puts the status back and raises DriverNotInitialized', async () => {
    const a = await type('A');
    const b = await type('B', { foo: 'bar' });
    const v = await volume(a.id, { status: 'retyping', previous_status: 'in-use', attach_status: 'attached' });
    driver.initialized = false;
    await expect(manager.retype(ctx, await row(v.id), b.id, { host: `${HOST}#lvm` }, 'never')).rejects.toThrow(DriverNotInitialized);
    const after = await row(v.id);
    expect([after.status, after.volume_type_id]).toEqual(['in-use', a.id]);
  });
});

// The conditional update on both engines: one UPDATE whose SET takes previous_status from the old
// status (MariaDB evaluates assignments left to right), and the QoS filter's SQL.
describe.each(['sqlite', 'mysql'] as const)('volumeRetypeConditionalUpdate on %s', (engine) => {
  let edb: Db;
  let remove: () => Promise<void>;
  beforeEach(async () => {
    if (engine === 'sqlite') {
      edb = db;
      remove = async () => {};
      return;
    }
    const name = createDatabase('cinder_ts_unit');
    edb = await openDb(mysqlConnectionUrl(name));
    remove = async () => {
      await edb.close();
      dropDatabase(name);
    };
  });
  afterEach(async () => remove());

  it('keeps the old status in previous_status and honours every expected value', async () => {
    const a = await volumeTypeCreate(edb, { name: 'A' });
    const b = await volumeTypeCreate(edb, { name: 'B' });
    const front = await volumeTypeCreate(edb, { name: 'front' });
    const fq = await qosSpecsCreate(edb, { name: 'fq', consumer: 'front-end', specs: { read_iops_sec: '1' } });
    await qosSpecsAssociate(edb, fq.id, front.id);
    const mk = (over: Partial<typeof volumes.$inferInsert>) =>
      dbapi.volumeCreate(edb, { id: randomUUID(), volume_type_id: a.id, project_id: P, size: 1, status: 'available', attach_status: 'detached', ...over });
    const inUse = await mk({ status: 'in-use', attach_status: 'attached' });
    expect(await volumeRetypeConditionalUpdate(edb, inUse.id, b.id)).toBe(true);
    let r = await dbapi.volumeGetOrThrow(edb, inUse.id);
    expect([r.status, r.previous_status]).toEqual(['retyping', 'in-use']);
    // Not again: 'retyping' is not a status a retype starts from.
    expect(await volumeRetypeConditionalUpdate(edb, inUse.id, b.id)).toBe(false);
    const inUse2 = await mk({ status: 'in-use', attach_status: 'attached' });
    expect(await volumeRetypeConditionalUpdate(edb, inUse2.id, front.id)).toBe(false);
    expect(await volumeRetypeConditionalUpdate(edb, inUse2.id, a.id)).toBe(false);
    const avail = await mk({ consistencygroup_id: '' });
    expect(await volumeRetypeConditionalUpdate(edb, avail.id, front.id)).toBe(true);
    r = await dbapi.volumeGetOrThrow(edb, avail.id);
    expect([r.status, r.previous_status]).toEqual(['retyping', 'available']);
    const migrating = await mk({ migration_status: 'migrating' });
    expect(await volumeRetypeConditionalUpdate(edb, migrating.id, b.id)).toBe(false);
    const done = await mk({ migration_status: 'success' });
    expect(await volumeRetypeConditionalUpdate(edb, done.id, b.id)).toBe(true);
  });
});
