// vitest globalSetup: with CINDER_TS_DB_ENGINE=mysql, finds or starts the run's MariaDB server once
// (test/support/mariadb.ts) and hands its socket to the test files in CINDER_TS_MARIADB_SOCKET
// (the forked workers inherit this process's environment); a private server is stopped and
// removed at the end. With SQLite (the default) it does nothing.
import { dbEngine, ensureMariaDb, SOCKET_ENV } from './mariadb.js';

export default function setup(): (() => void) | undefined {
  if (dbEngine() !== 'mysql') return undefined;
  const t0 = Date.now();
  const server = ensureMariaDb();
  console.log(
    `MariaDB for this run: ${server.kind} server ${server.version} on ${server.socket}` +
      `${server.kind === 'private' ? ` (started in ${Date.now() - t0} ms)` : ''}; ${SOCKET_ENV}=${process.env[SOCKET_ENV]}`,
  );
  return () => server.stop();
}
