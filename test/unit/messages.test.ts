// User messages on both engines: cinder/message/api.py create (event id, detail from the
// exception's class, expires_at from message_ttl), the DB's get/list/destroy and the cleanup of
// expired messages; message_field's translations.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { adminContext } from '../../src/common/context.js';
import { NoValidBackend, DriverNotInitialized } from '../../src/common/exceptions.js';
import { createLogger } from '../../src/common/log.js';
import type { Db } from '../../src/db/client.js';
import { MessageNotFound, messageDestroy, messageGet, messageGetAll } from '../../src/db/messages.js';
import { MessageApi } from '../../src/message/api.js';
import { Action, Detail, translateAction, translateDetail, translateDetailId } from '../../src/message/message-field.js';
import { DB_ENGINES, openFreshDb } from '../support/db.js';

describe('message_field', () => {
  it('maps exceptions by class name, else the given detail, else UNKNOWN_ERROR', () => {
    expect(translateDetailId(new NoValidBackend({ reason: 'x' }), null)).toBe('003');
    expect(translateDetailId(new DriverNotInitialized(), Detail.NO_BACKEND_AVAILABLE)).toBe(Detail.DRIVER_NOT_INITIALIZED[0]);
    expect(translateDetailId(new Error('x'), Detail.DRIVER_FAILED_EXTEND)).toBe(Detail.DRIVER_FAILED_EXTEND[0]);
    expect(translateDetailId(undefined, null)).toBe('001');
    expect(translateAction('002')).toBe('attach volume');
    expect(translateAction('999')).toBe('unknown action');
    expect(translateDetail('999')).toBe(Detail.UNKNOWN_ERROR[1]);
  });
});

describe.each(DB_ENGINES)('%s', (engine) => {
  let db: Db;
  let handle: Awaited<ReturnType<typeof openFreshDb>> | undefined;
  const log = createLogger('test', 'error');
  beforeAll(async () => {
    handle = await openFreshDb(engine);
    db = handle.db;
  });
  afterAll(async () => {
    await handle?.remove();
  });

  it('creates, lists, shows, deletes and reaps messages', async () => {
    const ctx = { ...adminContext(), project_id: 'p1', request_id: 'req-1' };
    const api = new MessageApi(db, log);
    await api.create(ctx, Action.SCHEDULE_ALLOCATE_VOLUME, { resourceUuid: 'v1', exception: new NoValidBackend({ reason: 'r' }) });
    await new MessageApi(db, log, 0).create({ ...ctx, project_id: 'p2' }, Action.ATTACH_VOLUME, { resourceUuid: 'v2' });
    const all = await messageGetAll(db, { projectId: null });
    expect(all.map((m) => m.event_id).sort()).toEqual(['VOLUME_VOLUME_001_003', 'VOLUME_VOLUME_002_001']);
    const [m1] = await messageGetAll(db, { projectId: null, filters: { resource_uuid: 'v1' } });
    expect(m1).toMatchObject({ project_id: 'p1', request_id: 'req-1', action_id: '001', detail_id: '003', message_level: 'ERROR', resource_type: 'VOLUME' });
    const ttlDays = (Date.parse(`${m1.expires_at!.replace(' ', 'T')}Z`) - Date.now()) / 86400e3;
    expect(Math.round(ttlDays)).toBe(30);
    expect(await messageGetAll(db, { projectId: null, filters: { nope: 'x' } })).toEqual([]);
    await expect(messageGet(db, m1.id, 'p2')).rejects.toBeInstanceOf(MessageNotFound);
    expect((await messageGet(db, m1.id, 'p1')).id).toBe(m1.id);
    // The second message expired at once (ttl 0): the scheduler's cleanup removes it.
    await new Promise((r) => setTimeout(r, 20));
    expect(await api.cleanupExpired()).toBe(1);
    await messageDestroy(db, m1.id);
    await expect(messageGet(db, m1.id, null)).rejects.toBeInstanceOf(MessageNotFound);
    expect(await messageGetAll(db, { projectId: null })).toEqual([]);
  });
});
