// os-extend as Cinder 21.3.1 does it, end to end inside one process: the API action and the volume
// API's checks (api/contrib/volume_actions.py _extend, volume/api.py extend/_extend, with Cinder's
// texts), the scheduler's check of the volume's own backend (scheduler/manager.py extend_volume) and
// the volume-manager with the real LVM driver and LIO target (volume/manager.py extend_volume,
// drivers/lvm.py extend_volume, os-brick LVM.extend_volume), where only the command executor is a
// recording fake. The Volume and the request spec travel through the RPC codec between the parts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { makeContext, type RequestContext } from '../../src/common/context.js';
import { DriverNotInitialized } from '../../src/common/exceptions.js';
import * as dbapi from '../../src/db/api.js';
import { openDb, type Db } from '../../src/db/client.js';
import { volumeTypeCreate } from '../../src/db/volume-types.js';
import type { volumes } from '../../src/db/schema.js';
import type { LVMVolumeDriver } from '../../src/drivers/lvm.js';
import type { VolumeManager } from '../../src/manager/manager.js';
import type { Volume } from '../../src/objects/volume.js';
import { SchedulerRpcApi } from '../../src/rpc/scheduler-rpcapi.js';
import { VolumeRpcApi } from '../../src/rpc/volume-rpcapi.js';
import { SchedulerManager } from '../../src/scheduler/manager.js';
import { VolumeAPI } from '../../src/volume-api/api.js';
import { QuotaEngine, type ReserveOpts } from '../../src/quota/index.js';
import type { CreateMessageOptions, MessageApi } from '../../src/message/api.js';
import type { Field } from '../../src/message/message-field.js';
import { testApp, tokenAuthenticator } from '../support/api.js';
import { FakeExecutor } from '../support/fake-executor.js';
import { wireClient } from '../support/wire-client.js';
import { loggedNotifications } from '../support/notifications.js';
import { capturingLogger, lvmDriver, lvmManager } from '../support/lvm-manager.js';

const P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';
const HOST = 'node1@lvm';

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
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-extend-'));
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

async function action(volumeId: string, body: unknown, token = 'member', version = '3.0') {
  const r = await app.inject({
    method: 'POST',
    url: `/v3/${P}/volumes/${volumeId}/action`,
    headers: { host: 'localhost', 'x-auth-token': token, 'content-type': 'application/json', 'openstack-api-version': `volume ${version}` },
    payload: JSON.stringify(body),
  });
  return { status: r.statusCode, text: r.body, json: r.body ? JSON.parse(r.body) : null };
}

const row = (id: string) => dbapi.volumeGetOrThrow(db, id);
const badRequest = (message: string) => ({ badRequest: { code: 400, message } });


let exec: FakeExecutor;
let driver: LVMVolumeDriver;
let manager: VolumeManager;
const quotaCalls: unknown[][] = [];
const messages: unknown[][] = [];

beforeEach(async () => {
  exec = new FakeExecutor();
  driver = await lvmDriver(dir, exec, logger);
  quotaCalls.length = 0;
  messages.length = 0;
  manager = lvmManager(dir, {
    db,
    driver,
    // The real engine, its commit/rollback recorded (the reservations are the API's real ones).
    quotas: Object.assign(new QuotaEngine(db), {
      commit: async (_c: RequestContext, r: string[] | null | undefined, o: ReserveOpts = {}) => void quotaCalls.push(['commit', r, o.projectId]),
      rollback: async (_c: RequestContext, r: string[] | null | undefined, o: ReserveOpts = {}) => void quotaCalls.push(['rollback', r, o.projectId]),
    }),
    messages: {
      create: async (_c: RequestContext, action: Field | null, o: CreateMessageOptions = {}) => void messages.push([action?.[0], o.resourceUuid, o.detail?.[0]]),
    } as unknown as MessageApi,
  }, logger);
  await manager.initHost();
});

const LV = (id: string) => `cinder-volumes/volume-${id}`;
const notifications = () => loggedNotifications(logLines).map((n) => n.event_type);

/** The volume cast the scheduler sent, run on the manager (as the volume service's dispatcher does). */
async function runVolumeCast(): Promise<void> {
  const cast = volumeCasts.shift()!;
  expect(cast._method).toBe('extend_volume');
  await manager.extendVolume(ctx, cast.volume as Volume, Number(cast.new_size), (cast.reservations as string[] | null) ?? null);
}

describe('POST /volumes/{id}/action os-extend (api/contrib/volume_actions.py _extend, volume/api.py _extend)', () => {
  it('202: extending with previous_status, cast to the scheduler (3.0), which casts extend_volume (3.0) to the host', async () => {
    const t = await type('A');
    const v = await volume(t.id);
    const r = await action(v.id, { 'os-extend': { new_size: '3' } });
    expect(r.status, r.text).toBe(202);
    expect(r.text).toBe('');
    expect(await row(v.id)).toMatchObject({ status: 'extending', previous_status: 'available', size: 1 });
    expect(schedulerCasts).toHaveLength(1);
    const cast = schedulerCasts[0];
    expect([cast._method, cast._version, cast._target]).toEqual(['extend_volume', '3.0', { topic: 'cinder-scheduler' }]);
    // QUOTAS.reserve(gigabytes=2, gigabytes_A=2) for the volume's project.
    expect(cast).toMatchObject({ new_size: 3, filter_properties: null });
    const reservations = cast.reservations as string[];
    expect(reservations).toHaveLength(2);
    const usages = await dbapi.quotaUsageGetAllByProject(db, P);
    expect([usages.gigabytes?.reserved, usages.gigabytes_A?.reserved]).toEqual([2, 2]);
    const spec = cast.request_spec as Record<string, any>;
    expect(Object.keys(spec)).toEqual(['volume_properties', 'volume_type', 'volume_id']);
    expect(spec.volume_id).toBe(v.id);
    expect(spec.volume_type).toMatchObject({ id: t.id, name: 'A' });
    expect(spec.volume_properties).toMatchObject({ id: v.id, status: 'extending', size: 1 });

    await scheduler.extendVolume(ctx, cast.volume as Volume, 3, reservations, cast.request_spec, cast.filter_properties);
    expect(volumeCasts).toHaveLength(1);
    expect([volumeCasts[0]._version, volumeCasts[0]._target]).toEqual(['3.0', { topic: 'cinder-volume.node1@lvm', server: 'node1' }]);
    expect(Object.keys(volumeCasts[0]).filter((k) => !k.startsWith('_')).sort()).toEqual(['new_size', 'reservations', 'volume']);

    const mark = exec.calls.length;
    await runVolumeCast();
    // os-brick LVM.extend_volume: the snapshot check, then lvextend -L <n>g <vg>/<lv>; LIO's
    // extend_target runs nothing.
    expect(exec.lines(mark)).toEqual([
      `env LC_ALL=C lvdisplay --noheading -C -o Attr --readonly ${LV(v.id)}`,
      `env LC_ALL=C lvextend -L 3g ${LV(v.id)}`,
    ]);
    expect(exec.calls.at(-1)!.opts).toMatchObject({ runAsRoot: true });
    expect(await row(v.id)).toMatchObject({ status: 'available', size: 3, previous_status: 'available' });
    expect(notifications().filter((e) => String(e).startsWith('volume.resize'))).toEqual(['volume.resize.start', 'volume.resize.end']);
    const end = loggedNotifications(logLines).find((n) => n.event_type === 'volume.resize.end')!;
    expect(end.payload).toMatchObject({ size: 3, status: 'available' });
    expect(quotaCalls).toEqual([['commit', reservations, P]]);
  });

  it('the size must grow: 400 InvalidInput, nothing changes', async () => {
    const v = await volume((await type('A')).id, { size: 2 });
    for (const size of [2, 1]) {
      const r = await action(v.id, { 'os-extend': { new_size: size } });
      expect(r.status).toBe(400);
      expect(r.json).toEqual(badRequest(`Invalid input received: New size for extend must be greater than current size. (current: 2, extended: ${size}).`));
    }
    expect((await row(v.id)).status).toBe('available');
    expect(schedulerCasts).toHaveLength(0);
  });

  it('the schema: new_size required, a positive integer (or digits), nothing else', async () => {
    const v = await volume((await type('A')).id);
    for (const body of [{ 'os-extend': {} }, { 'os-extend': { new_size: 'abc' } }, { 'os-extend': { new_size: 0 } }, { 'os-extend': { new_size: null } }, { 'os-extend': { new_size: 2, x: 1 } }]) {
      expect((await action(v.id, body)).status).toBe(400);
    }
    expect((await action(randomUUID(), { 'os-extend': { new_size: 2 } })).json).toMatchObject({ itemNotFound: { code: 404 } });
  });

  it('an in-use volume: 400 before 3.42 (extend wants available); at 3.42 extend_attached_volume', async () => {
    const v = await volume((await type('A')).id, { status: 'in-use', attach_status: 'attached' });
    const old = await action(v.id, { 'os-extend': { new_size: 2 } });
    expect(old.status).toBe(400);
    expect(old.json).toEqual(badRequest(`Invalid volume: Volume ${v.id} status must be '{'status': 'available'}' to extend, currently in-use.`));
    const r = await action(v.id, { 'os-extend': { new_size: 2 } }, 'member', '3.42');
    expect(r.status, r.text).toBe(202);
    expect(await row(v.id)).toMatchObject({ status: 'extending', previous_status: 'in-use' });
  });

  it('the type\'s provisioning:max_vol_size bounds the new size', async () => {
    const v = await volume((await type('small', { 'provisioning:max_vol_size': '2' })).id);
    const r = await action(v.id, { 'os-extend': { new_size: 5 } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual(badRequest("Invalid input received: Specified volume size of '5' is greater than the maximum allowable size of '2' for volume type 'small'."));
    expect((await row(v.id)).status).toBe('available');
  });
});

describe('scheduler/manager.py extend_volume: no room on the volume\'s backend', () => {
  it('puts previous_status back, clears it, sends nothing to the host', async () => {
    const v = await volume((await type('A')).id, { status: 'extending', previous_status: 'available' });
    const vol = await row(v.id);
    const spec = { volume_properties: { size: 1 }, volume_type: {}, volume_id: v.id };
    await scheduler.extendVolume(ctx, vol, 5000, null, spec, null);
    expect(volumeCasts).toHaveLength(0);
    expect(await row(v.id)).toMatchObject({ status: 'available', previous_status: null, size: 1 });
  });
});

describe('volume/manager.py extend_volume', () => {
  it('a failing lvextend: error_extending, the user message (007/010), the reservations rolled back, no error raised', async () => {
    const v = await volume((await type('A')).id, { status: 'extending', previous_status: 'available' });
    exec.fail(`env LC_ALL=C lvextend -L 2g ${LV(v.id)}`, 1, 5, '  Insufficient free space');
    await manager.extendVolume(ctx, await row(v.id), 2, ['r1']);
    expect(await row(v.id)).toMatchObject({ status: 'error_extending', size: 1 });
    expect(messages).toEqual([['007', v.id, '010']]);
    expect(quotaCalls).toEqual([['rollback', ['r1'], P]]);
    expect(notifications()).toContain('volume.resize.start');
    expect(notifications()).not.toContain('volume.resize.end');
  });

  it('an attached volume goes back to in-use; the LIO target needs no command', async () => {
    const v = await volume((await type('A')).id, { status: 'extending', previous_status: 'in-use', attach_status: 'attached' });
    await dbapi.volumeAttach(db, { volume_id: v.id, attach_status: 'attached', instance_uuid: randomUUID() });
    const mark = exec.calls.length;
    await manager.extendVolume(ctx, await row(v.id), 4, null);
    expect(exec.lines(mark).filter((l) => l.includes('rtstool'))).toEqual([]);
    expect(await row(v.id)).toMatchObject({ status: 'in-use', size: 4 });
  });

  it('a snapshot origin is deactivated first (lvchange -a n, then lvdisplay until inactive)', async () => {
    const v = await volume((await type('A')).id, { status: 'extending', previous_status: 'available' });
    exec.lvs.set(`volume-${v.id}`, 'owi-a-----');
    exec.onCall = (argv) => {
      if (argv[0] === 'lvchange' && argv[2] === 'n') exec.lvs.set(`volume-${v.id}`, 'owi-------');
    };
    const mark = exec.calls.length;
    await manager.extendVolume(ctx, await row(v.id), 2, null);
    expect(exec.lines(mark)).toEqual([
      `env LC_ALL=C lvdisplay --noheading -C -o Attr --readonly ${LV(v.id)}`,
      `lvchange -a n ${LV(v.id)}`,
      `env LC_ALL=C lvdisplay --noheading -C -o Attr ${LV(v.id)}`,
      `env LC_ALL=C lvextend -L 2g ${LV(v.id)}`,
    ]);
  });

  it('an uninitialized driver: error_extending and DriverNotInitialized', async () => {
    const v = await volume((await type('A')).id, { status: 'extending', previous_status: 'available' });
    driver.initialized = false;
    await expect(manager.extendVolume(ctx, await row(v.id), 2, null)).rejects.toBeInstanceOf(DriverNotInitialized);
    expect((await row(v.id)).status).toBe('error_extending');
  });
});
