// os-services, os-hosts, os-availability-zone and /extensions through the app on a real SQLite
// database. The validation texts were produced by Cinder 21.3.1's own _SchemaValidator on the
// same bodies (cinder/api/schemas/services.py).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { parseConfig } from '../../src/common/config.js';
import type { Db } from '../../src/db/client.js';
import { serviceReport } from '../../src/db/services.js';
import { serviceGetAll } from '../../src/db/services-admin.js';
import type { VolumeApiSurface } from '../../src/volume-api/api.js';
import { openFreshDb } from '../support/db.js';

const HDRS = { host: 'localhost', 'x-auth-token': 'u:abc', 'content-type': 'application/json' };
const V = { rpc: '3.18', objects: '1.39' };

let app: FastifyInstance;
let db: Db;
let handle: Awaited<ReturnType<typeof openFreshDb>>;
beforeAll(async () => {
  handle = await openFreshDb('sqlite');
  db = handle.db;
  await serviceReport(db, { host: 'h1@lvm', binary: 'cinder-volume', topic: 'cinder-volume', availability_zone: 'nova', ...V });
  await serviceReport(db, { host: 'h1', binary: 'cinder-scheduler', topic: 'cinder-scheduler', availability_zone: 'nova', ...V });
  const config = parseConfig('[DEFAULT]\nauth_strategy = noauth\nhost = apihost\n');
  app = buildApp({ volumeApi: {} as VolumeApiSurface, config, logger: pino({ level: 'silent' }), db });
});
afterAll(async () => {
  await app.close();
  await handle.remove();
});

async function put(id: string, body: unknown, version = '3.0') {
  const r = await app.inject({ method: 'PUT', url: `/v3/abc/os-services/${id}`, headers: { ...HDRS, 'openstack-api-version': `volume ${version}` }, payload: JSON.stringify(body) });
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
}
const message = (r: { body: any }) => (Object.values(r.body)[0] as { message: string }).message;

describe('os-services', () => {
  it('lists with the extended fields, cluster from 3.7', async () => {
    const r = await app.inject({ method: 'GET', url: '/v3/abc/os-services?binary=cinder-volume', headers: { ...HDRS, 'openstack-api-version': 'volume 3.7' } });
    expect(r.statusCode).toBe(200);
    const [svc] = JSON.parse(r.body).services;
    expect(Object.keys(svc)).toEqual(['binary', 'host', 'zone', 'status', 'state', 'updated_at', 'cluster', 'disabled_reason', 'replication_status', 'active_backend_id', 'frozen']);
    expect(svc).toMatchObject({ binary: 'cinder-volume', host: 'h1@lvm', zone: 'nova', status: 'enabled', state: 'up', cluster: null, frozen: false });
  });

  it.each([
    ['disable-log-reason', { host: 'h1@lvm', binary: 'cinder-volume', disabled_reason: null }, "Invalid input for field/attribute disabled_reason. Value: None. None is not of type 'string'"],
    ['disable-log-reason', { host: 'h1@lvm', binary: 'cinder-volume', disabled_reason: '   ' }, "Invalid input for field/attribute disabled_reason. Value:    . '   ' is not a 'disabled_reason'"],
    ['enable', { host: 'h' }, "{'host': 'h'} is not valid under any of the given schemas"],
    ['enable', { binary: 'cinder-volume' }, 'Invalid input received: Host field is missing.'],
    ['bogus', {}, 'Invalid input received: Unknown action'],
    ['freeze', { host: 'bad host' }, "Invalid input for field/attribute host. Value: bad host. 'bad host' does not match '^[a-zA-Z0-9-._#@:/+\\\\[\\\\]]*$'"],
    ['freeze', { host: 'invalid_host' }, 'Invalid input received: No service found with host=invalid_host'],
    ['thaw', { host: 'h1@lvm' }, "Invalid input received: No service could be changed: frozen in ['h1@lvm'] must be True to failover."],
    ['failover_host', { host: 'h1@lvm' }, "Invalid input received: No service could be changed: replication_status in ['h1@lvm'] must be ['enabled', 'failed-over'] and must be up to failover."],
  ])('%s %j → 400', async (id, body, text) => {
    const r = await put(id, body);
    expect(r.status).toBe(400);
    expect(message(r)).toBe(text);
  });

  it('set-log and get-log are 3.32 actions; the level is checked', async () => {
    expect(message(await put('get-log', {}))).toBe('Invalid input received: Unknown action');
    const bad = await put('set-log', { level: 'foo' }, '3.32');
    expect([bad.status, message(bad)]).toEqual([400, 'Invalid input received: foo is not a valid log level.']);
    expect((await put('set-log', { binary: 'cinder-api', level: 'debug' }, '3.32')).status).toBe(202);
    const got = await put('get-log', { binary: 'cinder-api' }, '3.32');
    expect(got.body).toEqual({ log_levels: [{ host: 'apihost', binary: 'cinder-api', levels: { cinder: 'DEBUG' } }] });
  });

  it('unknown host or binary is ServiceNotFound (404)', async () => {
    const r = await put('enable', { host: 'invalid_host', binary: 'cinder-volume' });
    expect([r.status, message(r)]).toEqual([404, 'Service cinder-volume could not be found on host invalid_host.']);
    const b = await put('disable', { host: 'h1@lvm', binary: 'invalid_binary' });
    expect([b.status, message(b)]).toEqual([404, 'Service invalid_binary could not be found on host h1@lvm.']);
  });

  it('disable-log-reason answers the change; freeze then thaw flip frozen and disabled', async () => {
    const r = await put('disable-log-reason', { host: 'h1', binary: 'cinder-volume', disabled_reason: 'x' });
    expect(r).toEqual({ status: 200, body: { disabled_reason: 'x', disabled: true, host: 'h1', service: '', binary: 'cinder-volume', status: 'disabled' } });
    expect((await put('enable', { host: 'h1', service: 'cinder-volume' })).body).toEqual({ disabled: false, host: 'h1', service: 'cinder-volume', binary: '', status: 'enabled' });
    expect((await put('freeze', { host: 'h1@lvm' })).status).toBe(200);
    const rows = await serviceGetAll(db);
    expect(rows.find((s) => s.binary === 'cinder-volume')).toMatchObject({ frozen: true, disabled: true, disabled_reason: 'frozen' });
    expect((await put('thaw', { host: 'h1@lvm' })).status).toBe(200);
  });
});

describe('os-hosts, os-availability-zone, extensions', () => {
  it('lists hosts and shows a volume host', async () => {
    const list = await app.inject({ method: 'GET', url: '/v3/abc/os-hosts', headers: HDRS });
    expect(JSON.parse(list.body).hosts.map((h: any) => [h.host_name, h.service, h['service-status'], h['service-state']])).toEqual([
      ['h1@lvm', 'cinder-volume', 'available', 'enabled'],
      ['h1', 'cinder-scheduler', 'available', 'enabled'],
    ]);
    const show = await app.inject({ method: 'GET', url: '/v3/abc/os-hosts/h1@lvm', headers: HDRS });
    expect(JSON.parse(show.body)).toEqual({
      host: [{ resource: { host: 'h1@lvm', project: '(total)', volume_count: '0', total_volume_gb: '0', snapshot_count: '0', total_snapshot_gb: '0' } }],
    });
    const none = await app.inject({ method: 'GET', url: '/v3/abc/os-hosts/nohost', headers: HDRS });
    expect([none.statusCode, JSON.parse(none.body).itemNotFound.message]).toEqual([404, 'Service cinder-volume could not be found on host nohost.']);
  });

  it('update: unknown host 404, bad setting or status 400, a valid one 500 (NotImplementedError)', async () => {
    const upd = (host: string, body: unknown) => app.inject({ method: 'PUT', url: `/v3/abc/os-hosts/${host}`, headers: HDRS, payload: JSON.stringify(body) });
    const nf = await upd('nohost', { status: 'enable' });
    expect([nf.statusCode, JSON.parse(nf.body).itemNotFound.message]).toEqual([404, 'Host nohost could not be found.']);
    expect(JSON.parse((await upd('h1', { foo: 'x' })).body).badRequest.message).toBe("Invalid update setting: 'foo'");
    expect(JSON.parse((await upd('h1', { status: 'Up' })).body).badRequest.message).toBe("Invalid status: 'Up'");
    expect((await upd('h1', { status: ' Enable ' })).statusCode).toBe(500);
  });

  it('lists zones and extensions', async () => {
    const az = await app.inject({ method: 'GET', url: '/v3/abc/os-availability-zone', headers: HDRS });
    expect(JSON.parse(az.body)).toEqual({ availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] });
    const ext = JSON.parse((await app.inject({ method: 'GET', url: '/v3/abc/extensions', headers: HDRS })).body).extensions;
    expect(ext.map((e: any) => e.alias)).toEqual(expect.arrayContaining(['os-services', 'os-hosts', 'os-availability-zone', 'os-extended-services', 'scheduler-stats']));
    expect(ext).toHaveLength(32);
    const one = await app.inject({ method: 'GET', url: '/v3/abc/extensions/os-hosts', headers: HDRS });
    expect(JSON.parse(one.body).extension).toEqual({ name: 'Hosts', alias: 'os-hosts', description: 'Admin-only host administration.', updated: '2011-06-29T00:00:00+00:00', links: [] });
  });
});
