// Another process holds the database's write lock for 15 s during a burst of requests (SQLite: a
// second connection's BEGIN IMMEDIATE; MariaDB: a row lock on one volume). The service keeps
// answering what does not need the lock, waits for it without blocking its event loop, fails what
// waited too long with Cinder's fault body, and leaves no volume in 'creating'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { Cluster, CinderClient, REPO, sleep } from '../support/cluster.js';

const PROJECT = 'd0b10c4d0b10c4d0b10c4d0b10c4d0b1';
const ENGINE = process.env.CINDER_TS_DB_ENGINE === 'mysql' ? 'mysql' : 'sqlite';
const LOCK_S = 15;
/** How long a statement waits for SQLite's write lock before it fails ([database] sqlite_lock_timeout). */
const WAIT_S = 5;
const FAULT_500 = { computeFault: { code: 500, message: 'The server has either erred or is incapable of performing the requested operation.' } };

let cluster: Cluster;
let api: CinderClient;

beforeAll(async () => {
  cluster = new Cluster({ extraConfig: `[database]\nsqlite_lock_timeout = ${WAIT_S}` });
  await cluster.start();
  api = new CinderClient(cluster.baseUrl, PROJECT);
});
afterAll(async () => {
  await cluster?.stop();
});

/** A child process that takes the lock, says so, holds it LOCK_S seconds and lets go. */
async function holdLock(volumeId: string): Promise<{ child: ChildProcess; released: Promise<void> }> {
  const child =
    ENGINE === 'sqlite'
      ? spawn(
          process.execPath,
          [
            '-e',
            `const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.exec('BEGIN IMMEDIATE');
             console.log('locked'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${LOCK_S * 1000});`,
            cluster.dbFile,
          ],
          { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
        )
      : spawn(
          'mariadb',
          [
            ...cluster.mysqlCliArgs(),
            '-N',
            '-e',
            `BEGIN; SELECT id FROM volumes WHERE id = '${volumeId}' FOR UPDATE; SELECT 'locked'; SELECT SLEEP(${LOCK_S}); COMMIT;`,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited ${code} before locking`)));
  });
  return { child, released };
}

describe(`a ${LOCK_S} s lock held by another process (${ENGINE})`, () => {
  it('reads keep being answered at once; writes wait without blocking the process; failures are clean; nothing stays creating', async () => {
    const reader = await cluster.newVolume(api);
    const locked = await cluster.newVolume(api);
    // A create whose LV takes 2 s: the manager writes 'available' while the lock is held.
    cluster.injectFailure('once hang=2 env LC_ALL=C lvcreate');
    const slow = await api.create({ volume: { size: 1 } });
    expect(slow.status).toBe(202);
    const slowId: string = slow.json.volume.id;
    await sleep(300);

    const t0 = Date.now();
    const { released } = await holdLock(locked);

    // Writes started under the lock: the API's own (create, reserve of the locked volume).
    const writes = [
      api.create({ volume: { size: 1 } }),
      api.create({ volume: { size: 1, name: 'under-lock' } }),
      api.action(locked, { 'os-reserve': null }),
    ].map((p) => p.then((r) => ({ ...r, at: Date.now() - t0 })));

    // A burst of reads, one every 100 ms for 4 s: each answered quickly although writes wait.
    const readTimes: number[] = [];
    for (let i = 0; i < 40; i++) {
      const s = Date.now();
      const r = i % 2 ? await api.get(reader) : await api.request('GET', `/v3/${PROJECT}/volumes/detail`);
      readTimes.push(Date.now() - s);
      expect(r.status, r.text).toBe(200);
      await sleep(100);
    }
    expect(Math.max(...readTimes)).toBeLessThan(1000);

    const answers = await Promise.all(writes);
    await released;
    for (const r of answers) {
      if (r.status >= 500) expect(r.json).toEqual(FAULT_500);
      else expect([200, 202]).toContain(r.status);
    }
    if (ENGINE === 'sqlite') {
      // Waited WAIT_S, then a 500 with Cinder's fault body (the lock outlasted the wait).
      for (const r of answers) {
        expect(r.status).toBe(500);
        expect(r.at).toBeGreaterThanOrEqual(WAIT_S * 1000 - 500);
      }
    } else {
      // InnoDB waits for the row (innodb_lock_wait_timeout 50 s): the reserve goes through after.
      for (const r of answers) expect(r.status).toBe(202);
    }

    // Nothing is left 'creating': the slow create ends available or error once the lock is gone.
    const end = Date.now() + 40_000;
    let creating: unknown[] = [];
    while (Date.now() < end) {
      creating = cluster.sql("SELECT id, status FROM volumes WHERE status = 'creating' AND deleted = 0");
      if (creating.length === 0) break;
      await sleep(250);
    }
    expect(creating).toEqual([]);
    expect(['available', 'error']).toContain(cluster.volumeRow(slowId).status);
    expect(cluster.sql("SELECT * FROM workers WHERE status = 'creating'")).toEqual([]);
    // The failed creates wrote nothing.
    expect(cluster.sql("SELECT id FROM volumes WHERE display_name = 'under-lock' AND status = 'creating'")).toEqual([]);
  }, 90_000);
});
