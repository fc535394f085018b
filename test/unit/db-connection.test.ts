// `[database] connection` as oslo.db hands it to SQLAlchemy (sqlalchemy.engine.url.make_url):
// the forms operators write in cinder.conf for SQLite and MariaDB, and the refusal of the rest.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConnection } from '../../src/db/client.js';

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
