// The volume-extended event (cinder/compute/nova.py API.extend_volume and _send_events) against a
// fake Keystone + Nova on a local HTTP server: the caller's token exchanged at [nova] token_auth_url,
// one POST /os-server-external-events at compute 2.51 with Nova's body, and the outcomes of
// _send_events (404, errors, per-event codes). Then the volume-manager's extend_volume of an in-use
// volume (volume/manager.py): a failed event leaves the volume extended and in-use, with the user
// message EXTEND_VOLUME / NOTIFY_COMPUTE_SERVICE_FAILED.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { makeContext, type RequestContext } from '../../src/common/context.js';
import { nodeRequester } from '../../src/common/http.js';
import { EndpointNotFound, NovaAPI } from '../../src/compute/nova.js';
import * as dbapi from '../../src/db/api.js';
import { openDb, type Db } from '../../src/db/client.js';
import { messageGetAll } from '../../src/db/messages.js';
import { volumeTypeCreate } from '../../src/db/volume-types.js';
import { MessageApi, type CreateMessageOptions } from '../../src/message/api.js';
import type { Field } from '../../src/message/message-field.js';
import { FakeExecutor } from '../support/fake-executor.js';
import { LVM_HOST, lvmDriver, lvmManager } from '../support/lvm-manager.js';

const P = '0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c';
const silent = pino({ level: 'silent' });

interface Seen {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}
let server: http.Server;
let base: string;
let seen: Seen[];
/** Nova's answer to the next POST /os-server-external-events. */
let nova: { status: number; body: unknown };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: text ? JSON.parse(text) : undefined });
      if (req.method === 'POST' && req.url === '/identity/v3/auth/tokens') {
        const catalog = [{ type: 'compute', endpoints: [{ interface: 'public', region_id: 'RegionOne', url: `${base}/compute/v2.1/` }] }];
        res.writeHead(201, { 'Content-Type': 'application/json', 'X-Subject-Token': 'scoped-token' }).end(JSON.stringify({ token: { catalog } }));
      } else if (req.method === 'POST' && req.url === '/compute/v2.1/os-server-external-events') {
        res.writeHead(nova.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(nova.body));
      } else {
        res.writeHead(500).end('unexpected');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let created: unknown[][];
beforeEach(() => {
  seen = [];
  created = [];
});

const ctx = makeContext({ user_id: 'u', project_id: P, project_name: 'demo', auth_token: 'user-token', roles: ['member'] });
const recorder = { create: async (_c: RequestContext, a: Field | null, o: CreateMessageOptions = {}) => void created.push([a?.[0], o.resourceUuid, o.detail?.[0]]) };
const api = (messages: Pick<MessageApi, 'create'> = recorder) =>
  new NovaAPI({ interface: 'public', tokenAuthUrl: `${base}/identity` }, { requester: nodeRequester(), logger: silent, messages });
const events = (body: unknown) => (body as { events: Array<Record<string, unknown>> }).events;

describe('compute/nova.py extend_volume', () => {
  it("one event per server, Nova's body at 2.51, with the exchanged token", async () => {
    const [s1, s2, v] = [randomUUID(), randomUUID(), randomUUID()];
    nova = { status: 200, body: { events: [{ name: 'volume-extended', server_uuid: s1, tag: v, status: 'completed', code: 200 }, { name: 'volume-extended', server_uuid: s2, tag: v, status: 'completed', code: 200 }] } };
    expect(await api().extendVolume(ctx, [s1, s2], v)).toBe(true);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /identity/v3/auth/tokens', 'POST /compute/v2.1/os-server-external-events']);
    expect(seen[0].body).toMatchObject({ auth: { identity: { methods: ['token'], token: { id: 'user-token' } } } });
    expect(seen[1].body).toEqual({
      events: [
        { name: 'volume-extended', server_uuid: s1, tag: v },
        { name: 'volume-extended', server_uuid: s2, tag: v },
      ],
    });
    expect(seen[1].headers).toMatchObject({ 'x-auth-token': 'scoped-token', 'x-openstack-nova-api-version': '2.51', 'openstack-api-version': 'compute 2.51' });
    expect(created).toEqual([]);
  });

  it('a 207 whose event failed is still sent (a warning); an event without code is an error', async () => {
    const [s, v] = [randomUUID(), randomUUID()];
    nova = { status: 207, body: { events: [{ name: 'volume-extended', server_uuid: s, tag: v, status: 'failed', code: 422 }] } };
    expect(await api().extendVolume(ctx, [s], v)).toBe(true);
    nova = { status: 200, body: { events: [{ name: 'volume-extended', server_uuid: s, tag: v }] } };
    expect(await api().extendVolume(ctx, [s], v)).toBe(false);
    expect(created).toEqual([['007', v, '009']]);
  });

  it.each([
    ['404 (no such server)', 404, { itemNotFound: { code: 404, message: 'No instances found for any event' } }],
    ['500', 500, { computeFault: { code: 500, message: 'boom' } }],
    ['an answer without events', 200, { nope: [] }],
    ['events not a list', 200, { events: 'x' }],
  ])('%s: false and the user message EXTEND_VOLUME / NOTIFY_COMPUTE_SERVICE_FAILED', async (_n, status, body) => {
    const v = randomUUID();
    nova = { status, body };
    expect(await api().extendVolume(ctx, [randomUUID()], v)).toBe(false);
    expect(created).toEqual([['007', v, '009']]);
  });

  it('no identity endpoint (no catalog, no token_auth_url) escapes, as novaclient() before the try', async () => {
    const n = new NovaAPI({ interface: 'public' }, { requester: nodeRequester(), logger: silent, messages: recorder });
    await expect(n.extendVolume(makeContext({ user_id: 'u', project_id: P }), [randomUUID()], randomUUID())).rejects.toBeInstanceOf(EndpointNotFound);
    expect(seen).toEqual([]);
  });
});

describe('volume/manager.py extend_volume of an in-use volume', () => {
  let dir: string;
  let db: Db;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-nova-extend-'));
    db = await openDb(`sqlite:///${dir}/cinder.sqlite`);
  });
  afterEach(async () => {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Nova failing: the volume is extended and in-use, with the user message', async () => {
    const messages = new MessageApi(db, silent, 2592000);
    const manager = lvmManager(dir, { db, driver: await lvmDriver(dir, new FakeExecutor()), messages, nova: api(messages) });
    await manager.initHost();
    const type = await volumeTypeCreate(db, { name: 'A', extra_specs: {} });
    const v = await dbapi.volumeCreate(db, {
      id: randomUUID(), volume_type_id: type.id, project_id: P, user_id: 'u', size: 1, status: 'extending', previous_status: 'in-use', attach_status: 'attached',
      availability_zone: 'nova', host: `${LVM_HOST}#lvm`, multiattach: false, replication_status: 'disabled',
    });
    const server = randomUUID();
    await dbapi.volumeAttach(db, { volume_id: v.id, attach_status: 'attached', instance_uuid: server });
    nova = { status: 500, body: { computeFault: { code: 500, message: 'boom' } } };
    await manager.extendVolume(ctx, await dbapi.volumeGetOrThrow(db, v.id), 3, null);
    expect(await dbapi.volumeGetOrThrow(db, v.id)).toMatchObject({ status: 'in-use', size: 3 });
    expect(events(seen.at(-1)!.body)).toEqual([{ name: 'volume-extended', server_uuid: server, tag: v.id }]);
    const rows = await messageGetAll(db, { projectId: null });
    expect(rows.map((m) => [m.project_id, m.resource_uuid, m.event_id])).toEqual([[P, v.id, 'VOLUME_VOLUME_007_009']]);
  });
});
