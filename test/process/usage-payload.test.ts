// The usage payload (src/manager/notifier.ts usagePayload) against Cinder 21.3.1's own
// volume_utils._usage_from_volume on the same rows: Debian's python3-cinder reads the volume from
// the same SQLite file with its SQLAlchemy models. Equal JSON, key order included, but for
// launched_at of a volume without one (utcnow() on each side). SQLite under either engine run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as dbapi from '../../src/db/api.js';
import { openDb, type Db } from '../../src/db/client.js';
import { usagePayload } from '../../src/manager/notifier.js';
import { PY, PY_DIR, requirePythonModules } from '../python/py-helper.js';
import { pyJsonDumps } from '../../src/common/pyjson.js';

let dir: string;
let db: Db;
const V = '11111111-2222-4333-8444-555555555555';

beforeAll(async () => {
  requirePythonModules('cinder.volume.volume_utils');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-usage-'));
  db = await openDb(`sqlite:///${dir}/cinder.sqlite`, { migrate: true } as Parameters<typeof openDb>[1]);
});
afterAll(async () => {
  await db?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function cinders(volumeId: string): Record<string, unknown> {
  const r = spawnSync(PY, [path.join(PY_DIR, 'usage_payload.py'), path.join(dir, 'cinder.sqlite'), volumeId], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`usage_payload.py failed: ${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout);
}

describe("usage payload = Cinder's _usage_from_volume", () => {
  it('an attached volume with metadata and an attachment', async () => {
    await dbapi.volumeCreate(db, {
      id: V, project_id: 'p', user_id: 'u', size: 2, status: 'in-use', attach_status: 'attached', host: 'h@lvm#lvm',
      volume_type_id: '6d3a2b1c-0f9e-4d8c-b7a6-5e4d3c2b1a09', display_name: 'n', display_description: 'd', availability_zone: 'nova',
    });
    await dbapi.beginAttach(db, V, 'rw');
    const raw = new (await import('better-sqlite3')).default(path.join(dir, 'cinder.sqlite'));
    raw.prepare("INSERT INTO volume_metadata (created_at, deleted, `key`, value, volume_id) VALUES ('2026-12-06 09:00:00.000000', 0, 'k1', 'v1', ?)").run(V);
    raw.prepare("UPDATE volumes SET launched_at = '2026-12-06 09:00:01.250000' WHERE id = ?").run(V);
    raw.close();
    const ours = usagePayload(await dbapi.volumeGetOrThrow(db, V));
    expect(pyJsonDumps(ours)).toBe(pyJsonDumps(cinders(V)));
  }, 120_000);
});
