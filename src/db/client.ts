// One SQLite file shared by the API and the volume-manager processes: WAL so readers never block
// the writer, and a busy timeout so two processes writing at once wait instead of failing.
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import fsExt from 'fs-ext';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** Turns `[database] connection` (sqlite:///path, sqlite:////abs/path or a bare path) into a file path. */
export function sqlitePathFromUrl(connection: string): string {
  const m = /^sqlite:\/\/\/(.*)$/.exec(connection);
  if (m) return m[1] === '' ? ':memory:' : m[1].startsWith('/') ? m[1] : path.resolve(m[1]);
  if (/^[a-z+]+:\/\//.test(connection)) {
    throw new Error(`[database] connection: only sqlite:// URLs are supported, got ${connection.split(':')[0]}`);
  }
  return connection;
}

export function openDb(connection: string, opts: { migrate?: boolean; busyTimeoutMs?: number } = {}): Db {
  const file = sqlitePathFromUrl(connection);
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 10000}`);
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  const db = drizzle(sqlite, { schema }) as Db;
  if (opts.migrate !== false) runMigrations(db);
  return db;
}

/**
 * Both processes call this at start. drizzle's migrator opens a deferred transaction, so two
 * processes starting together could both see "nothing applied"; an flock on a file beside the
 * database makes the second wait until the first has finished.
 */
export function runMigrations(db: Db): void {
  const file = db.$client.name;
  if (file === ':memory:' || file === '') {
    migrate(db, { migrationsFolder: MIGRATIONS });
    return;
  }
  const fd = fs.openSync(`${file}.migrate-lock`, 'a');
  try {
    fsExt.flockSync(fd, 'ex');
    migrate(db, { migrationsFolder: MIGRATIONS });
  } finally {
    fs.closeSync(fd);
  }
}

/** SQLAlchemy's DateTime text form on SQLite, always UTC: 'YYYY-MM-DD HH:MM:SS.ffffff'. */
export function dbNow(d: Date = new Date()): string {
  return d.toISOString().replace('T', ' ').replace('Z', '000');
}
