// [database] (oslo_db/options.py): the schema and the connection's default, as src/db/client.ts and
// src/db/client-mysql.ts read them.
import { z } from 'zod';
import { int, interpolate, sectionOf } from './oslo-config.js';

/**
 * [database], oslo.db's options where a Node pool has them (oslo_db/options.py): the pool of each
 * process (max_pool_size + max_overflow connections at most, idle ones closed after
 * connection_recycle_time, a checkout waiting at most pool_timeout seconds, SQLAlchemy's 30 when
 * unset), and how often and how far apart the first connection is tried at start.
 */
const databaseSectionSchema = z.object({
  connection: z.string().optional(),
  max_pool_size: int(1).default(5),
  max_overflow: int(0).default(50),
  pool_timeout: int(1).optional(),
  connection_recycle_time: int(1).default(3600),
  /** -1: forever, as oslo.db. */
  max_retries: int(-1).default(10),
  retry_interval: int(0).default(10),
  /** Not oslo.db's: seconds a statement waits, without blocking the process, for another process's SQLite write lock. */
  sqlite_lock_timeout: int(0).default(30),
});
export type DatabaseConfig = Omit<z.infer<typeof databaseSectionSchema>, 'connection'> & { connection: string };

/** The [database] section; an unset connection is the SQLite file in state_path (cinder-ts's default engine). */
export function databaseSection(raw: unknown, state_path: string, vars: Record<string, string>): DatabaseConfig {
  const db = sectionOf(databaseSectionSchema, raw, 'database');
  return {
    ...db,
    connection: interpolate(db.connection ? db.connection : `sqlite:///${state_path}/cinder.sqlite`, vars),
  };
}
