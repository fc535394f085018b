// The notifications cinder-api itself sends (cinder/volume/api.py): delete.start / delete.end of a
// volume that was never scheduled (no host), published as volume.<CONF.host>; none without a driver.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import * as dbapi from '../../src/db/api.js';
import { openDb, type Db } from '../../src/db/client.js';
import { makeContext } from '../../src/common/context.js';
import { VolumeAPI } from '../../src/volume-api/api.js';
import { VolumeUsageNotifier } from '../../src/manager/notifier.js';
import { OsloNotifier } from '../../src/notifier/notifier.js';
import type { VolumeRpcApi } from '../../src/rpc/volume-rpcapi.js';
import type { SchedulerRpcApi } from '../../src/rpc/scheduler-rpcapi.js';
import { capturingLogger } from '../support/lvm-manager.js';
import { loggedNotifications } from '../support/notifications.js';

let dir: string;
let db: Db;
const P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';
const ctx = makeContext({ user_id: 'u', project_id: P, roles: ['member', 'reader'], is_admin: false });

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-apinotify-'));
  db = await openDb(`sqlite:///${dir}/cinder.sqlite`);
});
afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const hostless = () =>
  dbapi.volumeCreate(db, { id: '11111111-2222-4333-8444-555555555555', project_id: P, user_id: 'u', size: 1, status: 'error', attach_status: 'detached', host: null, volume_type_id: '6d3a2b1c-0f9e-4d8c-b7a6-5e4d3c2b1a09' });

describe('API notifications', () => {
  it('deleting a volume that has no host: volume.delete.start then volume.delete.end (status deleted)', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = capturingLogger(lines);
    const notifier = new VolumeUsageNotifier(new OsloNotifier({ driver: ['log'], transport_url: undefined, topics: ['notifications'], retry: -1 }, logger), 'apihost');
    const api = new VolumeAPI({ db, rpc: {} as VolumeRpcApi, scheduler: {} as SchedulerRpcApi, logger, notifier });
    const v = await hostless();
    await api.delete(ctx, await dbapi.volumeGetOrThrow(db, v.id));
    const n = loggedNotifications(lines);
    expect(n.map((x) => [x.event_type, x.publisher_id, x.payload.status, x.payload.host])).toEqual([
      ['volume.delete.start', 'volume.apihost', 'error', null],
      ['volume.delete.end', 'volume.apihost', 'deleted', null],
    ]);
  });

  it('without a driver nothing is logged', async () => {
    const lines: Record<string, unknown>[] = [];
    const api = new VolumeAPI({ db, rpc: {} as VolumeRpcApi, scheduler: {} as SchedulerRpcApi, logger: capturingLogger(lines) });
    const v = await hostless();
    await api.delete(ctx, await dbapi.volumeGetOrThrow(db, v.id));
    expect(loggedNotifications(lines)).toEqual([]);
    expect(lines.every((l) => !String(l.msg).includes('notification'))).toBe(true);
  });
});
