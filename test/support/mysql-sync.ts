// Synchronous MariaDB queries for the tests (Cluster.sql()/write() and friends are synchronous, as
// better-sqlite3 is): mysql2 runs in a worker thread (mysql-worker.mjs) and this thread blocks on
// Atomics.wait until the worker has answered, then takes the answer with receiveMessageOnPort.
// Queries use mysql2's `query` with `?` placeholders (escaped client-side), DATETIME columns come
// back as 'YYYY-MM-DD HH:MM:SS' strings (dateStrings), TINYINT(1) as numbers 0/1, COUNT(*) as
// numbers: the row objects the SQLite side gives.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

export interface MariaDbAddress {
  socketPath?: string;
  host?: string;
  port?: number;
  user: string;
  password?: string;
}

export interface MysqlError extends Error {
  code?: string;
  errno?: number;
  sqlState?: string;
  sql?: string;
}

export class SyncMysql {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private seq = 0;

  constructor(readonly server: MariaDbAddress) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./mysql-worker.mjs', import.meta.url), {
      workerData: { port: port2, flag: this.flag, server },
      transferList: [port2],
    });
    // Neither the worker nor its port keeps a test process (or a script using Cluster) alive.
    this.worker.unref();
    this.port.unref();
  }

  /**
   * Rows of `sql` on `database` ('' for none). `readonly`: on a connection whose session is
   * READ ONLY, as the SQLite side opens its reading handle.
   */
  query<T = Record<string, unknown>>(database: string, sql: string, params: unknown[] = [], opts: { readonly?: boolean; timeoutMs?: number } = {}): T[] {
    const r = this.call({ op: 'query', database, sql, params, readonly: !!opts.readonly }, opts.timeoutMs) as { rows: T[] };
    return r.rows.map((row) => buffers(row) as T);
  }

  /** Closes the connections to `database` (the next query opens new ones). */
  close(database: string): void {
    this.call({ op: 'close', database });
  }

  /** Closes every connection; the worker stays (it is unref'd). */
  closeAll(): void {
    this.call({ op: 'closeAll' });
  }

  terminate(): void {
    void this.worker.terminate();
  }

  private call(req: Record<string, unknown>, timeoutMs = 60_000): unknown {
    const id = (this.seq = (this.seq % 0x7ffffff0) + 1);
    this.port.postMessage({ ...req, id });
    const end = Date.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.flag, 0);
      const m = receiveMessageOnPort(this.port);
      if (m) {
        const a = m.message as { id: number; ok?: unknown; error?: { message: string; code?: string; errno?: number; sqlState?: string } };
        if (a.id !== id) continue; // the late answer of a call that timed out
        if (a.error) {
          const e = new Error(req.sql ? `${a.error.message}\n  in: ${String(req.sql)}` : a.error.message) as MysqlError;
          Object.assign(e, { code: a.error.code, errno: a.error.errno, sqlState: a.error.sqlState, sql: req.sql });
          throw e;
        }
        return a.ok;
      }
      const left = end - Date.now();
      if (left <= 0) {
        throw new Error(`MariaDB: no answer in ${timeoutMs} ms (${String(req.op)}${req.sql ? `: ${String(req.sql)}` : ''}) from ${describe(this.server)}`);
      }
      // Woken by the worker's Atomics.notify; the 1 s cap only bounds a missed wake-up.
      Atomics.wait(this.flag, 0, seen, Math.min(left, 1000));
    }
  }
}

function describe(a: MariaDbAddress) {
  return a.socketPath ? `socket ${a.socketPath}` : `${a.host}:${a.port}`;
}

/** BLOB values cross the thread as Uint8Array; better-sqlite3 gives Buffers. */
function buffers(row: unknown): unknown {
  if (!row || typeof row !== 'object') return row;
  const o = row as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) o[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return o;
}

/** Blocks this thread for `ms` (for the synchronous waits of the server start). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
