// The database under the API and the volume-managers: `[database] connection` as oslo.db reads it,
// either the embedded SQLite file (one machine) or the cloud's MariaDB/MySQL (every controller and
// storage host). Both engines serve one async interface, Db: `run` for statements, `tx` for a
// transaction; the db layer (src/db/*) is written once against it.
import Database from 'better-sqlite3';
import { drizzle as drizzleSqlite, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import type mysql from 'mysql2/promise';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { Mutex } from 'async-mutex';
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import fsExt from 'fs-ext';
import { flockExclusive } from '../common/lock.js';
import * as sqliteSchema from './schema.js';
import type { DatabaseConfig } from '../common/config.js';

/**
 * The query builder handed to a `run`/`tx` body. It is typed as the SQLite one for both engines:
 * the db layer uses only what the two dialects share (select/insert/update/delete, awaited), reads
 * results through Db.matched/Db.insertId, and is run on both engines by the tests.
 */
export type Q = BetterSQLite3Database<typeof sqliteSchema>;
/** The tables, with the SQLite definitions' types; at run time those of the connection's engine. */
export type Tables = Pick<
  typeof sqliteSchema,
  | 'volumes' | 'volumeAttachment' | 'volumeAdminMetadata' | 'volumeMetadata' | 'services' | 'workers'
  | 'volumeTypes' | 'volumeTypeExtraSpecs' | 'volumeTypeProjects' | 'defaultVolumeTypes' | 'qualityOfServiceSpecs' | 'encryption'
  | 'messages'
  | 'quotas' | 'quotaClasses' | 'quotaUsages' | 'reservations' | 'transfers'
>;
export type Dialect = 'sqlite' | 'mysql';

export const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export type ConnectionSpec =
  | { dialect: 'sqlite'; file: string }
  | { dialect: 'mysql'; options: mysql.PoolOptions; database: string };

/**
 * Parses `[database] connection` as SQLAlchemy URLs read it: sqlite:///relative, sqlite:////abs,
 * sqlite:// (memory), a bare path (ours), and mysql[+driver]://user:pass@host[:port]/db?charset=…
 * [&unix_socket=…]. Other engines are refused at start with one line.
 */
export function parseConnection(connection: string): ConnectionSpec {
  const s = /^sqlite:\/\/(?:\/(.*))?$/.exec(connection);
  if (s) {
    const p = s[1] ?? '';
    return { dialect: 'sqlite', file: p === '' ? ':memory:' : p.startsWith('/') ? p : path.resolve(p) };
  }
  // SQLAlchemy's URL: user and password percent-encoded, an IPv6 host in brackets.
  const m = /^mysql(?:\+\w+)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?(\[[0-9a-fA-F:.]+\]|[^/?:]*)(?::(\d+))?\/([^?]+)(?:\?(.*))?$/.exec(connection);
  if (m) {
    const [, user, pass, host, port, database, query] = m;
    const params = new URLSearchParams(query ?? '');
    const options: mysql.PoolOptions = {
      user: user ? decodeURIComponent(user) : undefined,
      password: pass ? decodeURIComponent(pass) : undefined,
      database: decodeURIComponent(database),
      charset: (params.get('charset') ?? 'utf8').toUpperCase(),
    };
    const socket = params.get('unix_socket');
    if (socket) options.socketPath = socket;
    else {
      options.host = host.replace(/^\[(.*)\]$/, '$1') || 'localhost';
      if (port) options.port = Number(port);
    }
    return { dialect: 'mysql', options, database: options.database! };
  }
  if (/^[a-z0-9+]+:\/\//i.test(connection)) {
    throw new Error(`[database] connection: unsupported engine ${connection.split(':')[0]} (sqlite:// or mysql+pymysql://)`);
  }
  return { dialect: 'sqlite', file: connection };
}

interface Scope {
  db: Db;
  q: Q;
  tx: boolean;
  open: boolean;
}
const scope = new AsyncLocalStorage<Scope>();

/** The error a driver threw, under drizzle's DrizzleQueryError wrapper. */
function driverError(e: unknown): { code?: unknown; errno?: unknown; fatal?: unknown } {
  let cur = e as { cause?: unknown } | undefined;
  while (cur && typeof cur === 'object' && 'cause' in cur && cur.cause) cur = cur.cause as { cause?: unknown };
  return (cur ?? {}) as { code?: unknown; errno?: unknown; fatal?: unknown };
}

/**
 * drizzle's DrizzleQueryError carries the statement's parameters in its message, which may hold a
 * CHAP secret (provider_auth): what leaves the db layer is the driver's own error.
 */
function withoutParams(e: unknown): unknown {
  return e instanceof DrizzleQueryError && e.cause instanceof Error ? e.cause : e;
}

/** SQLITE_BUSY*: another process holds the write lock (or a snapshot went stale): try again. */
export function isSqliteBusy(e: unknown): boolean {
  const { code } = driverError(e);
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED');
}

/**
 * What oslo.db's wrap_db_retry retries on the functions cinder/db/sqlalchemy/api.py decorates with
 * retry_on_deadlock (DBDeadlock: ER_LOCK_DEADLOCK 1213, ER_LOCK_WAIT_TIMEOUT 1205), and a lost or
 * refused connection (DBConnectionError: 2002, 2003, 2006, 2013), which the pool replaces. A unix
 * socket whose file is gone (mariadbd stopped or restarting) is pymysql's 2002: ENOENT here.
 */
export function isMysqlRetriable(e: unknown): boolean {
  const d = driverError(e);
  // mysql2 marks what ends a connection `fatal`; one without a server errno is the connection's own
  // (e.g. a ROLLBACK on a connection the outage closed: "Can't add new command when connection is
  // in closed state"), as pymysql's 2013/2006 are. A server's fatal answer (1045 …) keeps its errno.
  if (d.fatal === true && d.errno === undefined) return true;
  if (d.errno === 1213 || d.errno === 1205 || d.errno === 2002 || d.errno === 2003 || d.errno === 2006 || d.errno === 2013) return true;
  return (
    typeof d.code === 'string' &&
    ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ECONNREFUSED', 'ENOENT', 'EPIPE', 'ETIMEDOUT', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR'].includes(d.code)
  );
}

export interface Engine {
  /** One attempt of a body outside a transaction. */
  once<T>(fn: (q: Q) => Promise<T>, tx: boolean): Promise<T>;
  retriable(e: unknown): boolean;
  /** Milliseconds before the next attempt (attempt counts from 1), or null to give up. */
  backoff(attempt: number, startedAt: number): number | null;
  close(): Promise<void>;
}

export class Db {
  constructor(
    readonly dialect: Dialect,
    readonly t: Tables,
    private readonly engine: Engine,
  ) {}

  /** Statements outside a transaction (joining the caller's transaction when there is one). */
  run<T>(fn: (q: Q) => Promise<T>): Promise<T> {
    return this.enter(fn, false);
  }

  /**
   * A write transaction: BEGIN IMMEDIATE on SQLite (the write lock first, so it can never fail half
   * way on a lock upgrade), a pooled connection of its own on MariaDB. Nested calls join it. The
   * whole body is retried on a lock or deadlock, as wrap_db_retry does.
   */
  tx<T>(fn: (q: Q) => Promise<T>): Promise<T> {
    return this.enter(fn, true);
  }

  private async enter<T>(fn: (q: Q) => Promise<T>, tx: boolean): Promise<T> {
    const s = scope.getStore();
    if (s && s.db === this && s.open) {
      if (s.tx || !tx) return fn(s.q);
      // SQLite's one connection is already held by the caller: compose transactions at the top.
      throw new Error('db: a transaction cannot begin inside run(); call it after');
    }
    const startedAt = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.engine.once(fn, tx);
      } catch (e) {
        const wait = this.engine.retriable(e) ? this.engine.backoff(attempt, startedAt) : null;
        if (wait === null) throw withoutParams(e);
        await sleep(wait);
      }
    }
  }

  /** Rows an UPDATE/DELETE matched (SQLite changes(); MySQL affectedRows under CLIENT_FOUND_ROWS). */
  matched(res: unknown): number {
    return this.dialect === 'sqlite' ? (res as { changes: number }).changes : (res as [{ affectedRows: number }])[0].affectedRows;
  }

  /** The id an INSERT gave an autoincrement key. */
  insertId(res: unknown): number {
    return this.dialect === 'sqlite'
      ? Number((res as { lastInsertRowid: number | bigint }).lastInsertRowid)
      : (res as [{ insertId: number }])[0].insertId;
  }

  /** SELECT … FOR UPDATE on MariaDB (Cinder's with_for_update); SQLite's BEGIN IMMEDIATE already holds the lock. */
  forUpdate<T>(query: T): T {
    return this.dialect === 'mysql' ? (query as unknown as { for(s: 'update'): T }).for('update') : query;
  }

  close(): Promise<void> {
    return this.engine.close();
  }

  /** Runs `fn` with the scope that makes nested run/tx calls join it. */
  static within<T>(s: Scope, fn: () => Promise<T>): Promise<T> {
    return scope.run(s, async () => {
      try {
        return await fn();
      } finally {
        s.open = false;
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// SQLite: one connection per process, never waiting inside the driver (busy_timeout 0): a lock held
// by another process is waited for here, asynchronously, so the rest of the process goes on. A
// mutex keeps a transaction's statements from interleaving with another request's.
//
// The processes of one database take turns through an flock on `<file>.write-lock` (waited for on
// libuv's threadpool), so they queue for SQLite's write lock instead of polling it: the next one
// goes the moment the last one commits. A writer that does not take it (the sqlite3 shell) still
// gets SQLITE_BUSY answered by the retry with back-off.

function openSqlite(file: string, cfg: Pick<DatabaseConfig, 'sqlite_lock_timeout'>, migrate: boolean): Promise<Db> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('busy_timeout = 0');
  // WAL: readers never wait for the writer; changing the journal mode needs the lock once.
  for (const end = Date.now() + cfg.sqlite_lock_timeout * 1000; ; ) {
    try {
      sqlite.pragma('journal_mode = WAL');
      break;
    } catch (e) {
      if (!isSqliteBusy(e) || Date.now() > end) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  // FULL: the WAL is synced at every COMMIT, so what a request answered survives a power cut, as
  // Cinder's commits do on MariaDB (innodb_flush_log_at_trx_commit=1). NORMAL would sync only at
  // checkpoints.
  sqlite.pragma('synchronous = FULL');
  const turn = file === ':memory:' ? null : fs.openSync(`${file}.write-lock`, 'a');
  sqlite.pragma('foreign_keys = ON');
  const q = drizzleSqlite(sqlite, { schema: sqliteSchema });
  const mutex = new Mutex();
  let db!: Db;
  const engine: Engine = {
    async once(fn, tx) {
      const release = await mutex.acquire();
      let ourTurn = false;
      try {
        if (turn !== null) {
          await flockExclusive(turn);
          ourTurn = true;
        }
        if (!tx) return await Db.within({ db, q, tx: false, open: true }, () => fn(q));
        sqlite.exec('BEGIN IMMEDIATE');
        try {
          const r = await Db.within({ db, q, tx: true, open: true }, () => fn(q));
          sqlite.exec('COMMIT');
          return r;
        } catch (e) {
          if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
          throw e;
        }
      } finally {
        if (ourTurn) fsExt.flockSync(turn!, 'un');
        release();
      }
    },
    retriable: isSqliteBusy,
    backoff: (attempt, startedAt) =>
      Date.now() - startedAt >= cfg.sqlite_lock_timeout * 1000 ? null : Math.min(2 ** attempt, 100) * (0.5 + Math.random() / 2),
    async close() {
      await mutex.waitForUnlock();
      sqlite.close();
      if (turn !== null) fs.closeSync(turn);
    },
  };
  db = new Db('sqlite', sqliteSchema as Tables, engine);
  if (migrate) {
    // A migration that rebuilds a table (SQLite cannot ALTER a column's nullability) drops the
    // parent of foreign keys; drizzle-kit's own PRAGMA foreign_keys=OFF is a no-op inside the
    // migrator's transaction, so checks are off around it and verified afterwards.
    sqlite.pragma('foreign_keys = OFF');
    try {
      runSqliteMigrations(q, file);
      const broken = sqlite.pragma('foreign_key_check') as unknown[];
      if (broken.length) throw new Error(`migrations left ${broken.length} foreign key violations: ${JSON.stringify(broken.slice(0, 3))}`);
    } finally {
      sqlite.pragma('foreign_keys = ON');
    }
  }
  return Promise.resolve(db);
}

/**
 * Both processes migrate at start. drizzle's migrator opens a deferred transaction, so two
 * processes starting together could both see "nothing applied"; an flock on a file beside the
 * database makes the second wait until the first has finished.
 */
function runSqliteMigrations(q: Q, file: string): void {
  const folder = path.join(MIGRATIONS, 'sqlite');
  if (file === ':memory:') return migrateSqlite(q, { migrationsFolder: folder });
  const fd = fs.openSync(`${file}.migrate-lock`, 'a');
  try {
    fsExt.flockSync(fd, 'ex');
    for (const end = Date.now() + 30_000; ; ) {
      try {
        return migrateSqlite(q, { migrationsFolder: folder });
      } catch (e) {
        if (!isSqliteBusy(e) || Date.now() > end) throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

export type OpenOptions = { migrate?: boolean } & Partial<DatabaseConfig>;

const DEFAULTS: Omit<DatabaseConfig, 'connection'> = {
  max_pool_size: 5,
  max_overflow: 50,
  connection_recycle_time: 3600,
  max_retries: 10,
  retry_interval: 10,
  sqlite_lock_timeout: 30,
};

/** Opens `[database] connection` (applying the migrations unless told not to). */
export function openDb(connection: string, opts: OpenOptions = {}): Promise<Db> {
  const cfg = { ...DEFAULTS, ...opts, connection };
  const spec = parseConnection(connection);
  if (spec.dialect === 'sqlite') return openSqlite(spec.file, cfg, opts.migrate !== false);
  // Loaded only for MariaDB: mysql2 and drizzle's MySQL dialect cost ~10 MiB in every process.
  return import('./client-mysql.js').then((m) => m.openMysql(spec, cfg, opts.migrate !== false));
}

/** SQLAlchemy's DateTime text form, always UTC: 'YYYY-MM-DD HH:MM:SS.ffffff' (MariaDB keeps the seconds). */
export function dbNow(d: Date = new Date()): string {
  return d.toISOString().replace('T', ' ').replace('Z', '000');
}

const preparedCache = new WeakMap<Q, Map<string, unknown>>();

/**
 * A hot read built once per connection and run with `sql.placeholder` values (drizzle's prepare()):
 * building a select and having SQLite compile it cost ~300 µs per statement, more than running it.
 * Keyed by the query builder, so a MariaDB transaction (its own connection) prepares its own.
 */
export function prepared<P>(q: Q, key: string, build: () => P): P {
  let cache = preparedCache.get(q);
  if (!cache) preparedCache.set(q, (cache = new Map()));
  let p = cache.get(key) as P | undefined;
  if (p === undefined) cache.set(key, (p = build()));
  return p;
}
