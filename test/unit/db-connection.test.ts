// `[database] connection` as oslo.db hands it to SQLAlchemy (sqlalchemy.engine.url.make_url):
// the forms operators write in cinder.conf for SQLite and MariaDB, and the refusal of the rest;
// and which MariaDB errors the db layer retries (oslo.db's DBDeadlock and DBConnectionError).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMysqlRetriable, parseConnection } from '../../src/db/client.js';

describe('parseConnection: SQLite', () => {
  it('three slashes: a path relative to the working directory; four: an absolute path', () => {
    expect(parseConnection('sqlite:///cinder.sqlite')).toEqual({ dialect: 'sqlite', file: path.resolve('cinder.sqlite') });
    expect(parseConnection('sqlite:////var/lib/cinder/cinder.sqlite')).toEqual({ dialect: 'sqlite', file: '/var/lib/cinder/cinder.sqlite' });
  });
  it('sqlite:// alone is an in-memory database; a bare path is a file', () => {
    expect(parseConnection('sqlite://')).toEqual({ dialect: 'sqlite', file: ':memory:' });
    expect(parseConnection('/tmp/x.sqlite')).toEqual({ dialect: 'sqlite', file: '/tmp/x.sqlite' });
  });
});

describe('parseConnection: MariaDB', () => {
  it('mysql+pymysql with user, password, host and charset (the deployment tools\' form)', () => {
    expect(parseConnection('mysql+pymysql://cinder:s3cret@db.example/cinder?charset=utf8')).toEqual({
      dialect: 'mysql',
      database: 'cinder',
      options: { user: 'cinder', password: 's3cret', database: 'cinder', charset: 'UTF8', host: 'db.example' },
    });
  });
  it('plain mysql://, a port, and no charset (utf8 as oslo.db defaults)', () => {
    const spec = parseConnection('mysql://cinder:pw@10.0.0.5:3307/cinder_db');
    expect(spec).toMatchObject({ dialect: 'mysql', database: 'cinder_db', options: { host: '10.0.0.5', port: 3307, charset: 'UTF8' } });
  });
  it('percent-encoded user and password, as SQLAlchemy requires for @ / : in them', () => {
    const spec = parseConnection('mysql+pymysql://ci%40nder:p%40ss%2Fw%3Ard@db/cinder');
    expect(spec).toMatchObject({ options: { user: 'ci@nder', password: 'p@ss/w:rd', host: 'db' } });
  });
  it('an IPv6 host in brackets, with and without a port', () => {
    expect(parseConnection('mysql+pymysql://c:p@[fd00::10]:3306/cinder')).toMatchObject({ options: { host: 'fd00::10', port: 3306 } });
    expect(parseConnection('mysql+pymysql://c:p@[::1]/cinder')).toMatchObject({ options: { host: '::1' } });
  });
  it('unix_socket in the query replaces host and port', () => {
    const spec = parseConnection('mysql+pymysql://root@/cinder?unix_socket=/run/mysqld/mysqld.sock&charset=utf8mb4');
    expect(spec).toMatchObject({ options: { socketPath: '/run/mysqld/mysqld.sock', charset: 'UTF8MB4', user: 'root' } });
    expect(spec.dialect === 'mysql' && spec.options.host).toBeUndefined();
  });
  it('no host: localhost', () => {
    expect(parseConnection('mysql://cinder:pw@/cinder')).toMatchObject({ options: { host: 'localhost' } });
  });
});

describe('parseConnection: other engines', () => {
  it('is refused with one line naming the engine', () => {
    expect(() => parseConnection('postgresql+psycopg2://c:p@db/cinder')).toThrow(
      '[database] connection: unsupported engine postgresql+psycopg2 (sqlite:// or mysql+pymysql://)',
    );
  });
});

describe('isMysqlRetriable (wrap_db_retry on DBDeadlock, and a lost connection)', () => {
  const err = (props: Record<string, unknown>, message = 'x') => Object.assign(new Error(message), props);
  const wrapped = (cause: Error) => Object.assign(new Error('Failed query: update ...'), { cause });
  it('deadlock and lock wait timeout, also under a query wrapper', () => {
    expect(isMysqlRetriable(err({ errno: 1213, code: 'ER_LOCK_DEADLOCK' }))).toBe(true);
    expect(isMysqlRetriable(wrapped(err({ errno: 1205, code: 'ER_LOCK_WAIT_TIMEOUT' })))).toBe(true);
  });
  it('a lost, reset or refused connection, and a unix socket whose file is gone', () => {
    for (const code of ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ECONNREFUSED', 'ENOENT']) expect(isMysqlRetriable(err({ code, fatal: true }))).toBe(true);
    expect(isMysqlRetriable(err({ errno: 2013 }))).toBe(true);
  });
  it("a command on a connection the outage closed (mysql2's fatal error with no server errno)", () => {
    expect(isMysqlRetriable(wrapped(err({ fatal: true }, "Can't add new command when connection is in closed state")))).toBe(true);
  });
  it('not: a server answer, fatal or not (access denied, duplicate key, syntax)', () => {
    expect(isMysqlRetriable(err({ errno: 1045, code: 'ER_ACCESS_DENIED_ERROR', fatal: true }))).toBe(false);
    expect(isMysqlRetriable(err({ errno: 1062, code: 'ER_DUP_ENTRY' }))).toBe(false);
    expect(isMysqlRetriable(err({ errno: 1064, code: 'ER_PARSE_ERROR' }))).toBe(false);
    expect(isMysqlRetriable(new Error('plain'))).toBe(false);
  });
});
