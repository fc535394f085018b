// The service's database as the tests see it, on either engine (CINDER_TS_DB_ENGINE): what goes in
// cinder.conf's [database] connection, and synchronous reads and writes of its rows, as an
// operator's SQL would do them. SQLite: a file that the services create (better-sqlite3, a
// read-only handle for sql() and a writing one for write()). MariaDB: an empty database on the
// run's server (test/support/mariadb.ts), dropped by drop(); the same calls through a worker
// thread (mysql-sync.ts). Rows are the same objects on both: DATETIME columns as
// 'YYYY-MM-DD HH:MM:SS…' strings, booleans as 0/1.
//
// Portable SQL for both: `?` placeholders; backticks around the column names MariaDB reserves
// (`binary` of services, `key` of the metadata tables); single-quoted strings; no INSERT OR …,
// no SQLite-only functions, no "double-quoted" identifiers (a string in MariaDB).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openDb, type Db } from '../../src/db/client.js';
import { createDatabase, dbEngine, dropDatabase, mariadb, mariadbSocket, mysqlConnectionUrl, type DbEngine } from './mariadb.js';

export { dbEngine, type DbEngine };

/** Both engines, for unit tests that run on each (describe.each). */
export const DB_ENGINES: readonly DbEngine[] = ['sqlite', 'mysql'];

/**
 * A fresh, migrated database opened in this process (the unit tests' own, no services), and how to
 * close and remove it: a SQLite file in a temp dir, or a new `cinder_ts_unit_<hex>` database on the
 * run's MariaDB server (test/support/mariadb.ts finds it through CINDER_TS_MARIADB_SOCKET, else this
 * machine's /run/mysqld/mysqld.sock, else starts a private one).
 */
export async function openFreshDb(engine: DbEngine = dbEngine()): Promise<{ db: Db; remove(): Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-db-'));
    const db = await openDb(`sqlite:///${dir}/cinder.sqlite`);
    return {
      db,
      async remove() {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = createDatabase('cinder_ts_unit');
  let db: Db;
  try {
    db = await openDb(mysqlConnectionUrl(name));
  } catch (e) {
    dropDatabase(name);
    throw e;
  }
  return {
    db,
    async remove() {
      await db.close();
      dropDatabase(name);
    },
  };
}

export interface TestDb {
  readonly engine: DbEngine;
  /** cinder.conf's `[database] connection`. */
  readonly connection: string;
  /** The SQLite file (on MariaDB, where it would be: nothing is there). */
  readonly file: string;
  /** MariaDB: the database's name. */
  readonly name?: string;
  /** MariaDB: the `mariadb` client's arguments for this database (before -e, -N …); SQLite: throws. */
  cliArgs(): string[];
  /** Whether the services may have made it yet (SQLite: the file exists; MariaDB: always). */
  exists(): boolean;
  /** Rows of a read-only query. */
  sql<T = Record<string, unknown>>(query: string, ...params: unknown[]): T[];
  /** Runs a writing statement (autocommit). */
  write(statement: string, ...params: unknown[]): void;
  /** `d` as this engine's DATETIME text: SQLite 'YYYY-MM-DD HH:MM:SS.mmm', MariaDB whole seconds. */
  timestamp(d?: Date): string;
  /**
   * Resolves once a row written from now on gets a later DATETIME than one written before the
   * call: at once on SQLite (the services write milliseconds), at the next whole second on MariaDB.
   */
  nextTimestamp(): Promise<void>;
  closeReader(): void;
  /** Closes both handles (later calls open new ones). */
  close(): void;
  /** MariaDB: drops the database; SQLite: nothing (the file goes with its directory). */
  drop(): void;
}

/** A database for one set of services: `sqliteFile` on SQLite, a new `cinder_ts_<hex>` on MariaDB. */
export function createTestDb(sqliteFile: string): TestDb {
  return dbEngine() === 'mysql' ? new MariaTestDb(sqliteFile) : new SqliteTestDb(sqliteFile);
}

class SqliteTestDb implements TestDb {
  readonly engine = 'sqlite' as const;
  private ro?: Database.Database;
  private rw?: Database.Database;
  constructor(readonly file: string) {}
  get connection() {
    return `sqlite:///${this.file}`;
  }
  exists() {
    return fs.existsSync(this.file);
  }
  sql<T = Record<string, unknown>>(query: string, ...params: unknown[]): T[] {
    this.ro ??= new Database(this.file, { readonly: true, fileMustExist: true });
    return this.ro.prepare(query).all(...params) as T[];
  }
  write(statement: string, ...params: unknown[]): void {
    if (!this.rw) {
      this.rw = new Database(this.file);
      this.rw.pragma('busy_timeout = 10000');
    }
    this.rw.prepare(statement).run(...params);
  }
  timestamp(d = new Date()) {
    return d.toISOString().replace('T', ' ').replace('Z', '');
  }
  async nextTimestamp() {}
  closeReader() {
    this.ro?.close();
    this.ro = undefined;
  }
  close() {
    this.closeReader();
    this.rw?.close();
    this.rw = undefined;
  }
  drop() {}
  cliArgs(): string[] {
    throw new Error('cliArgs(): the database is SQLite (CINDER_TS_DB_ENGINE=sqlite)');
  }
}

class MariaTestDb implements TestDb {
  readonly engine = 'mysql' as const;
  readonly name: string;
  readonly connection: string;
  private dropped = false;
  constructor(readonly file: string) {
    this.name = createDatabase();
    this.connection = mysqlConnectionUrl(this.name);
  }
  exists() {
    return !this.dropped;
  }
  sql<T = Record<string, unknown>>(query: string, ...params: unknown[]): T[] {
    return mariadb().query<T>(this.name, query, params, { readonly: true });
  }
  write(statement: string, ...params: unknown[]): void {
    mariadb().query(this.name, statement, params);
  }
  timestamp(d = new Date()) {
    return d.toISOString().slice(0, 19).replace('T', ' ');
  }
  async nextTimestamp() {
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
  }
  closeReader() {}
  close() {
    if (!this.dropped) mariadb().close(this.name);
  }
  cliArgs() {
    return ['--no-defaults', '--user=root', `--socket=${mariadbSocket()}`, `--database=${this.name}`];
  }
  drop() {
    if (this.dropped) return;
    this.dropped = true;
    dropDatabase(this.name);
  }
}
