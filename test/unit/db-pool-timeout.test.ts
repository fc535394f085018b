// oslo.db's [database] pool_timeout on MariaDB: with every pooled connection checked out, a
// statement waits that long for one, then fails as SQLAlchemy's QueuePool does (TimeoutError, which
// Cinder's API answers as a 500); the connection it would have had is not lost to the pool.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { openDb, isMysqlRetriable, type Db } from '../../src/db/client.js';
import { faultFromError } from '../../src/api/faults.js';
import { createDatabase, dropDatabase, mariadb, mysqlConnectionUrl } from '../support/mariadb.js';

describe('mysql pool_timeout', () => {
  let db: Db;
  let name: string;

  beforeAll(async () => {
    name = createDatabase('cinder_ts_unit');
    db = await openDb(mysqlConnectionUrl(name), { max_pool_size: 1, max_overflow: 0, pool_timeout: 1 });
  });
  afterAll(async () => {
    await db?.close();
    if (name) dropDatabase(name);
  });

  /** A transaction holding the pool's only connection until release(); resolves once it holds it. */
  async function holdOnlyConnection(): Promise<{ tx: Promise<string>; release: () => void }> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inTx!: () => void;
    const entered = new Promise<void>((r) => (inTx = r));
    const tx = db.tx(async (q) => {
      await q.select().from(db.t.services).limit(1);
      inTx();
      await held;
      return 'committed';
    });
    await entered;
    return { tx, release };
  }

  it('a statement waiting for the only connection fails with QueuePool\'s TimeoutError; after release the pool works and has not grown', async () => {
    // The one connection, held by a transaction until the waiter has given up.
    const { tx, release } = await holdOnlyConnection();

    const err = await db.run((q) => q.select().from(db.t.services).limit(1)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('QueuePool limit of size 1 overflow 0 reached, connection timed out, timeout 1.00');
    // Not a deadlock or a lost connection: wrap_db_retry does not retry it, and the API answers 500.
    expect(isMysqlRetriable(err)).toBe(false);
    expect(faultFromError(err).status).toBe(500);

    release();
    expect(await tx).toBe('committed');

    // The connection went back to the pool: statements, one after another and together, get it.
    for (let i = 0; i < 3; i++) expect(await db.run((q) => q.select().from(db.t.services).limit(i))).toEqual([]);
    await Promise.all([1, 2, 3, 4].map((i) => db.run((q) => q.select().from(db.t.services).limit(i))));
    const conns = mariadb().query('', `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = '${name}'`) as Array<{ n: number | string }>;
    expect(Number(conns[0].n)).toBe(1);
  }, 30_000);

  it('a waiter handed the connection after it gave up releases it (no leak)', async () => {
    // Release the holder right at the timeout, many times: whichever way the race goes, the next
    // statement still gets the one connection.
    for (let round = 0; round < 3; round++) {
      const { tx, release } = await holdOnlyConnection();
      const waiter = db.run((q) => q.select().from(db.t.services).limit(1)).then(
        () => 'ok',
        (e: Error) => e.message,
      );
      setTimeout(release, 1000);
      await tx;
      const outcome = await waiter;
      expect(['ok', 'QueuePool limit of size 1 overflow 0 reached, connection timed out, timeout 1.00']).toContain(outcome);
      await db.run((q) => q.select().from(db.t.services).limit(1));
    }
  }, 60_000);
});
