"""cinder-ts's database for the Python interop helpers, on either engine the process tier runs on.

`open_db(spec)`: spec is what the tests pass as --db, cinder.conf's `[database] connection`:
  * `sqlite:///<abs path>` or a plain path: cinder-ts's SQLite file (Python's sqlite3);
  * `mysql+pymysql://user[:pass]@host[:port]/db[?unix_socket=...&charset=...]` (or `mysql://`):
    the MariaDB database (Debian's python3-pymysql).
`TsDb.connect()` gives a connection with one API over both: `?` placeholders (rewritten to
pymysql's `%s`; no literal `?` or `%` in the SQL then), `begin()` (SQLite: BEGIN IMMEDIATE),
`commit()`, `columns(table)`, `now()` in the engine's DATETIME text (SQLite: microseconds, as
SQLAlchemy writes; MariaDB: whole seconds, as Cinder's DATETIME columns keep). Column names
MariaDB reserves (`binary`, `key`) go in backticks, which SQLite accepts too.
"""
import datetime
import os
import sqlite3
from urllib.parse import parse_qs, unquote, urlsplit


class SqliteConn(object):
    engine = 'sqlite'

    def __init__(self, path):
        self.raw = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.raw.execute('PRAGMA busy_timeout = 30000')

    def execute(self, sql, params=()):
        return self.raw.execute(sql, params)

    def begin(self):
        self.raw.execute('BEGIN IMMEDIATE')

    def commit(self):
        self.raw.execute('COMMIT')

    def columns(self, table):
        return [r[1] for r in self.raw.execute('PRAGMA table_info(%s)' % table)]

    def close(self):
        self.raw.close()


class MysqlConn(object):
    engine = 'mysql'

    def __init__(self, params):
        import pymysql  # Debian's python3-pymysql (scripts/ensure-python-deps.sh)
        self.raw = pymysql.connect(autocommit=True, **params)

    def execute(self, sql, params=()):
        cur = self.raw.cursor()
        if params:
            cur.execute(sql.replace('%', '%%').replace('?', '%s'), tuple(params))
        else:
            cur.execute(sql)  # no %-formatting without arguments
        return cur

    def begin(self):
        self.raw.begin()

    def commit(self):
        self.raw.commit()

    def columns(self, table):
        cur = self.execute('SELECT COLUMN_NAME FROM information_schema.COLUMNS '
                           'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', (table,))
        return [r[0] for r in cur.fetchall()]

    def close(self):
        self.raw.close()


class TsDb(object):
    def __init__(self, spec):
        self.spec = spec
        if spec.startswith('mysql://') or spec.startswith('mysql+'):
            self.engine = 'mysql'
            u = urlsplit(spec)
            q = parse_qs(u.query)
            params = {
                'user': unquote(u.username or 'root'),
                'password': unquote(u.password or ''),
                'database': u.path.lstrip('/'),
                # utf8mb4 whatever the URL's charset=utf8 (utf8mb3) says: the same text either way here.
                'charset': 'utf8mb4',
                'connect_timeout': 30,
            }
            if 'unix_socket' in q:
                params['unix_socket'] = q['unix_socket'][0]
            else:
                params['host'] = u.hostname or 'localhost'
                params['port'] = u.port or 3306
            self.params = params
            self.path = None
            self.name = params['database']
        else:
            self.engine = 'sqlite'
            self.path = spec[len('sqlite:///'):] if spec.startswith('sqlite:///') else spec
            self.name = self.path

    def exists(self):
        return self.engine == 'mysql' or os.path.exists(self.path)

    def connect(self):
        return MysqlConn(self.params) if self.engine == 'mysql' else SqliteConn(self.path)

    def now(self):
        t = datetime.datetime.utcnow()
        if self.engine == 'mysql':
            return t.strftime('%Y-%m-%d %H:%M:%S')
        # SQLAlchemy's DateTime on SQLite: naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff'
        return t.strftime('%Y-%m-%d %H:%M:%S.%f')


def open_db(spec):
    return TsDb(spec)
