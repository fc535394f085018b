// `manage.ts db sync` (cinder-manage db sync): creates Cinder's tables in an empty database without
// starting a service, reports the engine, and a second run changes nothing; an engine the port does
// not drive is refused in one line.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CINDER_TS, REPO } from '../support/cluster.js';
import { createTestDb } from '../support/db.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-dbsync-'));
const testDb = createTestDb(path.join(dir, 'cinder.sqlite'));
afterAll(() => {
  testDb.close();
  testDb.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function manage(connection: string, ...args: string[]) {
  const conf = path.join(dir, `cinder-${Math.random().toString(16).slice(2)}.conf`);
  fs.writeFileSync(conf, `[DEFAULT]\nstate_path = ${dir}\n\n[database]\nconnection = ${connection}\n`);
  return spawnSync(CINDER_TS, ['manage', '--config-file', conf, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const TABLES = [
  'default_volume_types', 'encryption', 'messages', 'quality_of_service_specs', 'quota_classes', 'quota_usages', 'quotas',
  'reservations', 'services', 'transfers', 'volume_admin_metadata', 'volume_attachment', 'volume_metadata',
  'volume_type_extra_specs', 'volume_type_projects', 'volume_types', 'volumes', 'workers',
];

function tables(): string[] {
  const q =
    testDb.engine === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%'"
      : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name NOT LIKE '__drizzle%'";
  testDb.closeReader();
  return testDb.sql<{ name: string }>(q).map((r) => r.name).sort();
}

describe(`db sync (${testDb.engine})`, () => {
  it("creates Cinder's tables in an empty database; a second run is harmless", () => {
    const first = manage(testDb.connection, 'db', 'sync');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain(`db sync: ${testDb.engine} schema is up to date`);
    expect(tables()).toEqual(TABLES);
    // The default type, as Cinder's initial migration creates it.
    expect(testDb.sql('SELECT name, description, is_public, deleted FROM volume_types')).toEqual([
      { name: '__DEFAULT__', description: 'Default Volume Type', is_public: 1, deleted: 0 },
    ]);
    // The 'default' quota class, as Cinder's initial migration fills it from the quota_* defaults.
    expect(testDb.sql("SELECT resource, hard_limit FROM quota_classes WHERE class_name = 'default' ORDER BY id")).toEqual([
      { resource: 'volumes', hard_limit: 10 },
      { resource: 'snapshots', hard_limit: 10 },
      { resource: 'gigabytes', hard_limit: 1000 },
      { resource: 'consistencygroups', hard_limit: 10 },
      { resource: 'per_volume_gigabytes', hard_limit: -1 },
      { resource: 'groups', hard_limit: 10 },
    ]);
    testDb.write("INSERT INTO services (host, `binary`, topic, report_count, deleted) VALUES ('h1', 'cinder-volume', 'cinder-volume', 1, 0)");
    const second = manage(testDb.connection, 'db', 'sync');
    expect(second.status, second.stderr).toBe(0);
    expect(testDb.sql('SELECT host FROM services')).toEqual([{ host: 'h1' }]);
  });

  it('refuses an engine it does not drive, and a wrong subcommand, in one line', () => {
    const pg = manage('postgresql://cinder@db/cinder', 'db', 'sync');
    expect(pg.status).toBe(1);
    expect(pg.stderr.trim()).toBe('manage: [database] connection: unsupported engine postgresql (sqlite:// or mysql+pymysql://)');
    const bad = manage(testDb.connection, 'db', 'upgrade');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('usage:');
  });
});
