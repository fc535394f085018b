// GET /attachments/{id} and os-complete look the attachment up project-scoped for non-admins
// (beyond Cinder 21.3.1, whose VolumeAttachment.get_by_id is not scoped and whose show has no
// policy): another project's member gets the attachment-not-found 404; update and delete keep the
// unscoped lookup, so their policy check answers Cinder's 403.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import * as dbapi from '../../src/db/api.js';
import { openDb, type Db } from '../../src/db/client.js';
import { makeContext } from '../../src/common/context.js';
import { VolumeAttachmentNotFound } from '../../src/common/exceptions.js';
import { VolumeAPI } from '../../src/volume-api/api.js';
import type { VolumeRpcApi } from '../../src/rpc/volume-rpcapi.js';
import type { SchedulerRpcApi } from '../../src/rpc/scheduler-rpcapi.js';

let dir: string;
let db: Db;
let api: VolumeAPI;
const P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';
const Q = '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b';
const member = (project: string) => makeContext({ user_id: 'u', project_id: project, roles: ['member', 'reader'], is_admin: false });

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-scope-'));
  db = await openDb(`sqlite:///${dir}/cinder.sqlite`);
  api = new VolumeAPI({ db, rpc: {} as VolumeRpcApi, scheduler: {} as SchedulerRpcApi, logger: pino({ level: 'silent' }) });
});
afterEach(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('getAttachment', () => {
  it('hides another project’s attachment from a member only when read-scoped', async () => {
    const v = await dbapi.volumeCreate(db, { id: '11111111-2222-4333-8444-555555555555', project_id: P, user_id: 'u', size: 1, status: 'in-use', attach_status: 'attached', host: 'h@lvm#lvm', volume_type_id: '6d3a2b1c-0f9e-4d8c-b7a6-5e4d3c2b1a09' });
    const att = await dbapi.beginAttach(db, v.id, 'rw');
    expect((await api.getAttachment(member(P), att.id, { readScoped: true })).id).toBe(att.id);
    expect((await api.getAttachment(makeContext({ user_id: 'a', project_id: Q, roles: ['admin'], is_admin: true }), att.id, { readScoped: true })).id).toBe(att.id);
    await expect(api.getAttachment(member(Q), att.id, { readScoped: true })).rejects.toThrow(VolumeAttachmentNotFound);
    await expect(api.getAttachment(member(Q), att.id, { readScoped: true })).rejects.toThrow(`Volume attachment could not be found with filter: attachment_id = ${att.id}.`);
    // update/delete: Cinder's unscoped lookup, then the policy refuses (403).
    expect((await api.getAttachment(member(Q), att.id)).id).toBe(att.id);
  });
});
