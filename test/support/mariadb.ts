// A MariaDB server for the process tier on MariaDB (CINDER_TS_DB_ENGINE=mysql), and a database per
// Cluster on it (`cinder_ts_<hex>`, like the per-test-file RabbitMQ vhost of rabbit.ts).
//
// The server: the one already running on this machine when root reaches it without a password on
// its default socket (/run/mysqld/mysqld.sock), else a private one started for the run
// (mariadb-install-db into a temp dir, mariadbd --skip-networking on a socket in that dir, fast
// test settings), stopped and removed at the end. vitest's globalSetup (test/support/global-setup.ts)
// finds or starts it once per run and hands its socket to the test files in
// CINDER_TS_MARIADB_SOCKET; a script run by itself (npx tsx test/chaos/....ts) does the same on
// first use and stops a private server when it exits.
//
//   CINDER_TS_MARIADB_SOCKET=<path>  use the server on that socket (root, no password)
//   CINDER_TS_MARIADB_PRIVATE=1      always start a private server (what a machine without one does)
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SyncMysql, sleepSync } from './mysql-sync.js';

export type DbEngine = 'sqlite' | 'mysql';

/** CINDER_TS_DB_ENGINE: `sqlite` (default) or `mysql` (MariaDB; `mariadb` is taken as `mysql`). */
export function dbEngine(): DbEngine {
  const v = (process.env.CINDER_TS_DB_ENGINE ?? '').trim().toLowerCase();
  if (v === '' || v === 'sqlite') return 'sqlite';
  if (v === 'mysql' || v === 'mariadb') return 'mysql';
  throw new Error(`CINDER_TS_DB_ENGINE=${process.env.CINDER_TS_DB_ENGINE}: expected sqlite or mysql`);
}

export const SOCKET_ENV = 'CINDER_TS_MARIADB_SOCKET';
export const PRIVATE_ENV = 'CINDER_TS_MARIADB_PRIVATE';
export const SHARED_SOCKET = '/run/mysqld/mysqld.sock';
const USER = 'root';

export interface MariaDbServer {
  socket: string;
  /** 'shared': this machine's server; 'private': started for this run; 'given': CINDER_TS_MARIADB_SOCKET. */
  kind: 'shared' | 'private' | 'given';
  version: string;
  /** Stops and removes a private server (waits for it); nothing for the others. */
  stop(): void;
}

/** The server's version when root reaches it on `socket` without a password, else null. */
function probe(socket: string): string | null {
  if (!fs.existsSync(socket)) return null;
  const c = new SyncMysql({ socketPath: socket, user: USER });
  try {
    return String(c.query<{ v: string }>('', 'SELECT VERSION() AS v', [], { timeoutMs: 10_000 })[0].v);
  } catch {
    return null;
  } finally {
    try {
      c.closeAll();
    } catch {
      /* the probe's answer is what counts */
    }
    c.terminate();
  }
}

/** Finds (or starts) the run's server and sets CINDER_TS_MARIADB_SOCKET for this process and its children. */
export function ensureMariaDb(): MariaDbServer {
  const given = process.env[SOCKET_ENV];
  if (given) {
    const version = probe(given);
    if (!version) throw new Error(`${SOCKET_ENV}=${given}: no MariaDB answers there as ${USER} without a password`);
    return { socket: given, kind: 'given', version, stop() {} };
  }
  if (!process.env[PRIVATE_ENV] || process.env[PRIVATE_ENV] === '0') {
    const version = probe(SHARED_SOCKET);
    if (version) {
      process.env[SOCKET_ENV] = SHARED_SOCKET;
      return { socket: SHARED_SOCKET, kind: 'shared', version, stop() {} };
    }
  }
  const server = startPrivate();
  process.env[SOCKET_ENV] = server.socket;
  return server;
}

function findBinary(...names: string[]): string {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/bin', '/sbin'];
  for (const n of names) {
    for (const d of dirs) {
      const p = path.join(d, n);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        /* next */
      }
    }
  }
  throw new Error(`${names[0]} not found: install Debian's mariadb-server (scripts/ensure-deps.sh does when CINDER_TS_DB_ENGINE=mysql)`);
}

// Started through this bash, which owns mariadbd: when the process that started the server dies
// without stopping it (a killed vitest or script), mariadbd is stopped and its dir removed anyway.
const REAPER = `
owner=$1; dir=$2; shift 2
"$@" >>"$dir/mariadbd.log" 2>&1 &
m=$!
echo "$m" >"$dir/mariadbd.child-pid"
while kill -0 "$owner" 2>/dev/null && kill -0 "$m" 2>/dev/null; do sleep 0.5; done
kill -TERM "$m" 2>/dev/null
wait "$m"
rm -rf "$dir"
`;

function startPrivate(): MariaDbServer {
  const installDb = findBinary('mariadb-install-db', 'mysql_install_db');
  const mariadbd = findBinary('mariadbd', 'mysqld');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-mariadb-'));
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  const t0 = Date.now();
  try {
    execFileSync(
      installDb,
      ['--no-defaults', `--datadir=${data}`, ...asRoot, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 },
    );
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer; message: string };
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${err.message}\n${String(err.stdout ?? '')}${String(err.stderr ?? '')}`.slice(0, 4000));
  }
  const args = [
    '--no-defaults',
    ...asRoot,
    `--datadir=${data}`,
    `--socket=${socket}`,
    `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
    '--skip-networking',
    '--skip-name-resolve',
    '--skip-log-bin',
    // Test settings: no fsync per commit, small caches, nothing the tests do not need.
    '--innodb-flush-log-at-trx-commit=2',
    '--innodb-doublewrite=0',
    '--innodb-buffer-pool-size=128M',
    '--innodb-log-file-size=64M',
    '--performance-schema=OFF',
    '--max-connections=1000',
    // What Debian's /etc/mysql/mariadb.conf.d/50-server.cnf sets (--no-defaults leaves latin1).
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_general_ci',
  ];
  const reaper = spawn('bash', ['-c', REAPER, 'cinder-ts-mariadb', String(process.pid), dir, mariadbd, ...args], {
    detached: true,
    stdio: 'ignore',
  });
  reaper.unref();
  const log = () => {
    try {
      return fs.readFileSync(path.join(dir, 'mariadbd.log'), 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const childPid = () => {
    try {
      return Number(fs.readFileSync(path.join(dir, 'mariadbd.child-pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const alive = (pid: number | undefined) => {
    if (!pid) return true; // not written yet
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  let stopped = false;
  const server: MariaDbServer = {
    socket,
    kind: 'private',
    version: '',
    stop() {
      if (stopped) return;
      stopped = true;
      const pid = childPid();
      if (pid && alive(pid)) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      // The reaper removes the dir once mariadbd has exited.
      const end = Date.now() + 60_000;
      while (fs.existsSync(dir) && Date.now() < end) sleepSync(100);
      if (fs.existsSync(dir)) {
        if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
        sleepSync(500);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  const end = Date.now() + 60_000;
  for (;;) {
    const version = probe(socket);
    if (version) {
      server.version = version;
      break;
    }
    if (!alive(childPid()) || Date.now() > end) {
      const why = `private MariaDB did not start (${Date.now() - t0} ms): ${log()}`;
      server.stop();
      throw new Error(why);
    }
    sleepSync(100);
  }
  return server;
}

let client: SyncMysql | undefined;
let ownServer: MariaDbServer | undefined;

/** This process's synchronous client of the run's server (found or started on first use). */
export function mariadb(): SyncMysql {
  if (client) return client;
  let socket = process.env[SOCKET_ENV];
  if (!socket) {
    // Not under vitest's globalSetup: a script run by itself (e.g. npx tsx test/chaos/kill-manager.ts).
    ownServer = ensureMariaDb();
    socket = ownServer.socket;
    if (ownServer.kind === 'private') process.once('exit', () => ownServer?.stop());
  }
  client = new SyncMysql({ socketPath: socket, user: USER });
  return client;
}

/** The socket of the run's server. */
export function mariadbSocket(): string {
  mariadb();
  return process.env[SOCKET_ENV] ?? ownServer!.socket;
}

/** A new, empty database `cinder_ts_<hex>` (the services create their tables at start). */
export function createDatabase(prefix = 'cinder_ts'): string {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  // The server's default collation (utf8mb4_general_ci), as a database made for Cinder has.
  mariadb().query('', `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  return name;
}

export function dropDatabase(name: string): void {
  const c = mariadb();
  c.close(name);
  c.query('', `DROP DATABASE IF EXISTS \`${name}\``);
}

/** `[database] connection` for a database on the run's server, as oslo.db writes it. */
export function mysqlConnectionUrl(name: string): string {
  return `mysql+pymysql://${USER}@localhost/${name}?unix_socket=${mariadbSocket()}&charset=utf8`;
}
