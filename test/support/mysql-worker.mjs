// The worker thread behind test/support/mysql-sync.ts: it runs the mysql2 queries the test thread
// asks for and wakes it with Atomics.notify, so that the tests' DB helpers stay synchronous.
// Plain JavaScript (not TypeScript) so that Node runs it as it is, under vitest, tsx or node.
import { workerData } from 'node:worker_threads';

const { port, flag, server } = workerData;
/** `${readonly}:${database}` → a promise of its connection: a reading and a writing one per database. */
const conns = new Map();
let mysqlModule;

async function connection(database, readonly) {
  const key = `${readonly ? 'ro' : 'rw'}:${database}`;
  let c = conns.get(key);
  if (!c) {
    c = (async () => {
      mysqlModule ??= (await import('mysql2/promise')).default;
      const conn = await mysqlModule.createConnection({
        ...server,
        database: database || undefined,
        // DATETIME as 'YYYY-MM-DD HH:MM:SS' strings, as the service's rows are compared.
        dateStrings: true,
        supportBigNumbers: true,
        multipleStatements: false,
        connectTimeout: 10_000,
      });
      // A dropped connection (server restart, killed) is made again on the next query.
      conn.on('error', () => conns.delete(key));
      // The reading handle refuses writes, as the SQLite side's readonly handle does.
      if (readonly) await conn.query('SET SESSION TRANSACTION READ ONLY');
      return conn;
    })();
    conns.set(key, c);
    c.catch(() => conns.delete(key));
  }
  return c;
}

function plain(v) {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o = {};
    for (const k of Object.keys(v)) o[k] = v[k];
    return o;
  }
  return v;
}

async function handle(req) {
  if (req.op === 'query') {
    const conn = await connection(req.database, req.readonly);
    // Buffers cross the thread as Uint8Array: mysql2 escapes only Buffers as binary strings.
    const params = (req.params ?? []).map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p) : p));
    const [rows] = await conn.query(req.sql, params);
    return { rows: Array.isArray(rows) ? plain(rows) : [], affectedRows: rows?.affectedRows ?? 0 };
  }
  if (req.op === 'close') {
    const mine = [...conns.keys()].filter((k) => k.slice(3) === req.database);
    await Promise.all(
      mine.map(async (k) => {
        const c = conns.get(k);
        conns.delete(k);
        await (await c.catch(() => null))?.end().catch(() => undefined);
      }),
    );
    return {};
  }
  if (req.op === 'closeAll') {
    const all = [...conns.values()];
    conns.clear();
    await Promise.all(all.map(async (c) => (await c.catch(() => null))?.end().catch(() => undefined)));
    return {};
  }
  throw new Error(`mysql-worker: unknown op ${req.op}`);
}

port.on('message', async (req) => {
  let answer;
  try {
    answer = { id: req.id, ok: await handle(req) };
  } catch (e) {
    answer = { id: req.id, error: { message: e?.message ?? String(e), code: e?.code, errno: e?.errno, sqlState: e?.sqlState } };
  }
  port.postMessage(answer);
  Atomics.store(flag, 0, req.id);
  Atomics.notify(flag, 0);
});
