// The MariaDB/MySQL engine of Db (src/db/client.ts), loaded only when `[database] connection` names
// one: a mysql2 pool per process, sized and recycled as oslo.db's QueuePool; each transaction owns
// one connection; deadlocks and lost connections are retried (wrap_db_retry: max_retries=5,
// retry_interval=1 doubling up to 10 s).
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2';
import { migrate as migrateMysql } from 'drizzle-orm/mysql2/migrator';
import mysql from 'mysql2/promise';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseConfig } from '../common/config.js';
import * as mysqlSchema from './schema-mysql.js';
import { Db, MIGRATIONS, isMysqlRetriable, type ConnectionSpec, type Engine, type Q, type Tables } from './client.js';

const WRAP_DB_RETRY = { maxRetries: 5, intervalMs: 1000, maxIntervalMs: 10_000 };

export async function openMysql(spec: Extract<ConnectionSpec, { dialect: 'mysql' }>, cfg: DatabaseConfig, migrate: boolean): Promise<Db> {
  const pool = mysql.createPool({
    ...spec.options,
    connectionLimit: cfg.max_pool_size + cfg.max_overflow,
    maxIdle: cfg.max_pool_size,
    idleTimeout: cfg.connection_recycle_time * 1000,
    flags: ['FOUND_ROWS'],
    // oslo.db's mysql_sql_mode default, and UTC as Cinder writes its naive datetimes.
    timezone: 'Z',
    // DATE/DATETIME/TIMESTAMP read as their text, as drizzle's per-query typeCast (field.string())
    // would; see untypedClient for why that typeCast is dropped.
    dateStrings: true,
    // No Error.captureStackTrace per statement (mysql2's async stack for a failed query): it was
    // ~4% of the API's CPU per detach; a failure still carries the server's code, errno and text.
    trace: false,
  });
  boundAcquire(pool, cfg);
  pool.on('connection', (conn) => {
    // The raw (callback) connection: its next command queues behind this one. A failure here is
    // the connection's, and its next query reports it; the callback keeps it from being thrown.
    (conn as unknown as { query(sql: string, cb: () => void): void }).query("SET SESSION sql_mode = 'TRADITIONAL', time_zone = '+00:00'", () => {});
  });
  // oslo.db's start-up: max_retries attempts (-1: forever) retry_interval seconds apart.
  for (let attempt = 1; ; attempt++) {
    try {
      await pool.query('SELECT 1');
      break;
    } catch (e) {
      if (!isMysqlRetriable(e) || (cfg.max_retries >= 0 && attempt > cfg.max_retries)) {
        await pool.end().catch(() => {});
        throw e;
      }
      await sleep(cfg.retry_interval * 1000);
    }
  }
  const q = drizzleMysql({ client: untypedClient(pool) as unknown as mysql.Pool, schema: mysqlSchema, mode: 'default' }) as unknown as Q;
  let db!: Db;
  const engine: Engine = {
    once(fn, tx) {
      if (!tx) return Db.within({ db, q, tx: false, open: true }, () => fn(q));
      return (q as unknown as { transaction<T>(f: (t: Q) => Promise<T>): Promise<T> }).transaction((t) =>
        Db.within({ db, q: t, tx: true, open: true }, () => fn(t)),
      );
    },
    retriable: isMysqlRetriable,
    backoff: (attempt) =>
      attempt > WRAP_DB_RETRY.maxRetries ? null : Math.min(WRAP_DB_RETRY.intervalMs * 2 ** (attempt - 1), WRAP_DB_RETRY.maxIntervalMs),
    close: () => pool.end(),
  };
  db = new Db('mysql', mysqlSchema as unknown as Tables, engine);
  if (migrate) await runMysqlMigrations(pool);
  return db;
}

/** SQLAlchemy's QueuePool timeout when oslo.db's pool_timeout is unset (create_engine passes none). */
const SQLALCHEMY_POOL_TIMEOUT = 30;

interface CorePool {
  config: { connectionLimit: number };
  _freeConnections: { length: number };
  _allConnections: { length: number };
  _connectionQueue: { length: number; get(i: number): unknown; removeOne(i: number): unknown };
  getConnection(cb: (err: Error | null, conn?: { release(): void }) => void): void;
}

/**
 * SQLAlchemy's QueuePool._do_get: with every connection (pool_size + max_overflow) checked out, a
 * checkout waits at most pool_timeout seconds, then raises TimeoutError, which Cinder's API answers
 * as a 500. mysql2 waits forever, so the core pool's getConnection, which pool.query, pool.execute
 * and getConnection (a transaction's) all go through, is bounded here. Only a checkout that queues is
 * timed, as in SQLAlchemy, where opening an overflow connection is not. A waiter that gives up leaves
 * the queue; one handed a connection after it gave up (the hand-over is a tick late) releases it.
 */
function boundAcquire(pool: mysql.Pool, cfg: DatabaseConfig): void {
  const core = (pool as unknown as { pool: CorePool }).pool;
  const timeout = cfg.pool_timeout ?? SQLALCHEMY_POOL_TIMEOUT;
  const getConnection = core.getConnection.bind(core);
  core.getConnection = (cb) => {
    const queues = core._freeConnections.length === 0 && core._allConnections.length >= core.config.connectionLimit;
    if (!queues) return getConnection(cb);
    let timedOut = false;
    const waiter: typeof cb = (err, conn) => {
      if (timedOut) {
        conn?.release();
        return;
      }
      clearTimeout(timer);
      cb(err, conn);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      const queue = core._connectionQueue;
      for (let i = 0; i < queue.length; i++) {
        if (queue.get(i) === waiter) {
          queue.removeOne(i);
          break;
        }
      }
      // Not a driver errno/code: isMysqlRetriable leaves it alone (oslo.db does not retry it either).
      const e = new Error(
        `QueuePool limit of size ${cfg.max_pool_size} overflow ${cfg.max_overflow} reached, connection timed out, timeout ${timeout.toFixed(2)}`,
      );
      e.name = 'TimeoutError';
      cb(e);
    }, timeout * 1000);
    getConnection(waiter);
  };
}

type QueryOptions = { sql: string; typeCast?: unknown };
type Queryable = Pick<mysql.PoolConnection, 'query' | 'execute'>;

/**
 * drizzle's mysql2 session passes every query a typeCast function (DATE/DATETIME/TIMESTAMP as
 * text, everything else as mysql2 reads it). With a typeCast function mysql2's row parser calls it
 * for every field of every row, through a per-field wrapper and a fresh closure: on MariaDB that and
 * the garbage it makes cost the API and the volume-manager more than drizzle itself. The pool's
 * dateStrings gives the same values from mysql2's generated parser, so the function is taken off the
 * query (drizzle keeps one options object per prepared query; it is cleared once).
 */
function untyped(o: unknown): unknown {
  if (typeof o === 'object' && o !== null && (o as QueryOptions).typeCast !== undefined) (o as QueryOptions).typeCast = undefined;
  return o;
}

function untypedQueryable<C extends Queryable>(c: C) {
  return {
    query: (o: unknown, p?: unknown[]) => c.query(untyped(o) as string, p),
    execute: (o: unknown, p?: unknown[]) => c.execute(o as string, p as never),
  };
}

/** The pool as drizzle sees it (a pool: it has getConnection, for a transaction's own connection). */
function untypedClient(pool: mysql.Pool) {
  return {
    ...untypedQueryable(pool),
    async getConnection() {
      const c = await pool.getConnection();
      return { ...untypedQueryable(c), release: () => c.release(), connection: c.connection };
    },
  };
}

/**
 * Serialised across processes by a named lock, as the SQLite side does with an flock. The migrator
 * runs on the connection holding the lock, so a pool of one connection (max_pool_size=1,
 * max_overflow=0) does not wait on itself.
 */
async function runMysqlMigrations(pool: mysql.Pool): Promise<void> {
  const conn = await pool.getConnection();
  try {
    await conn.query("SELECT GET_LOCK('cinder_ts_migrate', 300)");
    await migrateMysql(drizzleMysql(conn), { migrationsFolder: path.join(MIGRATIONS, 'mysql') });
  } finally {
    await conn.query("SELECT RELEASE_LOCK('cinder_ts_migrate')").catch(() => {});
    conn.release();
  }
}

