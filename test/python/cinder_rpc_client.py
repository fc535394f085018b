#!/usr/bin/python3
"""Real Python Cinder (Debian's python3-cinder 21.3.1) calling cinder-ts's volume manager.

This is cinder-api's side of the RPC: `cinder.volume.rpcapi.VolumeAPI`, set up as cinder-api sets
it up (`cinder.rpc.init(CONF)` on our vhost, CinderObjectSerializer, allowed_remote_exmods =
cinder.exception), sending to the volume-manager process of cinder-ts through RabbitMQ.

Cinder's DB: Cinder code reads the DB twice on this path, and both reads go through Cinder's own DB
API (SQLAlchemy models, `objects.Volume.get_by_id`, `objects.Service.get_minimum_*_version`), not
through a re-implementation here:
  * the version caps (`RPCAPI.determine_rpc_version_cap` / `determine_obj_version_cap`: the minimum
    rpc/object version of the `cinder-volume` rows in `services`), and
  * the Volume object passed to the RPC (`objects.Volume.get_by_id`: volume_get with its joined
    volume_metadata / volume_admin_metadata / volume_attachment rows).
Cinder's DB API cannot open cinder-ts's SQLite file as it is: `volume_get` joins tables cinder-ts
does not have (volume_types, consistencygroups, groups, attachment_specs ...). So CONF.database
points at a scratch SQLite file with Cinder's full schema (`models.BASE.metadata.create_all`), and
before every call the rows of the tables cinder-ts shares with Cinder (volumes,
volume_attachment, volume_metadata, volume_admin_metadata, services) are copied from cinder-ts's
file, column by column (the columns both schemas have). Cinder then reads what cinder-ts wrote.
With cinder-ts on MariaDB (--db mysql+pymysql://...; cinder_ts_db.py), the same mirror is filled
from the MariaDB database through pymysql, the five tables read in one consistent snapshot.

Protocol: one JSON request per stdin line, one JSON answer per stdout line:
  {"op": "caps"}
  {"op": "terminate_connection", "volume_id": V, "connector": {...}, "force": false}
  {"op": "detach_volume", "volume_id": V, "attachment_id": A}
  {"op": "attachment_delete", "volume_id": V, "attachment_id": A}
  {"op": "attachment_update", "volume_id": V, "attachment_id": A, "connector": {...}}
  {"op": "initialize_connection", "volume_id": V, "connector": {...}}
  {"op": "attach_volume", "volume_id": V, "instance_uuid": I, "host_name": H, "mountpoint": M, "mode": "rw"}
Every request may carry "expect": "<cinder.exception class>": the call then runs inside
`except cinder.exception.<expect>` and the answer says whether that clause caught it.
Answers: {"op", "outcome": "ok", "result", "volume": {...what was sent...}, "request_id"}
or {"op", "outcome": "exception", "exc_class", "exc_module", "exc_mro", "exc_kwargs", "exc_msg",
"caught_by_expect", "isinstance": {...}, "request_id"}. A setup failure, a malformed request or a
failure of this script itself (not of the RPC) exits non-zero with a message on stderr.
"""
import argparse
import json
import os
import sqlite3
import sys
import tempfile
import traceback


def die(msg, code=2):
    sys.stderr.write('cinder_rpc_client: %s\n' % msg)
    sys.stderr.flush()
    sys.exit(code)


try:
    from oslo_config import cfg
    from oslo_utils import versionutils
    import oslo_messaging as messaging

    from cinder import objects
    objects.register_all()
    from cinder.common import config as _cinder_config  # noqa: F401  (registers [DEFAULT] options)
    from cinder import context as cinder_context
    from cinder import exception
    from cinder import rpc
    from cinder.db.sqlalchemy import models
    from cinder.volume import rpcapi as volume_rpcapi
except Exception as e:  # pragma: no cover - environment problem
    die('cannot import Debian python3-cinder / oslo.messaging (run scripts/ensure-python-deps.sh): %r' % (e,))

sys.dont_write_bytecode = True  # no __pycache__ left in test/python
import cinder_ts_db  # noqa: E402  (beside this script)

DEFAULT_TYPE_ID = '00000000-0000-4000-8000-00000000de1a'
SHARED_TABLES = ['volumes', 'volume_attachment', 'volume_metadata', 'volume_admin_metadata', 'services']


class CinderDbMirror(object):
    """A scratch SQLite file with Cinder's schema, refreshed from cinder-ts's DB before each call."""

    def __init__(self, source, workdir):
        self.src = source  # cinder_ts_db.TsDb
        self.source = source.name  # the SQLite file, or the MariaDB database's name
        self.path = os.path.join(workdir, 'cinder-schema.sqlite')
        self.columns = {}

    def _source_columns(self, t):
        if self.src.engine == 'sqlite':
            src = sqlite3.connect('file:%s?mode=ro' % self.source, uri=True)
            try:
                return [r[1] for r in src.execute('PRAGMA table_info(%s)' % t)]
            finally:
                src.close()
        c = self.src.connect()
        try:
            return c.columns(t)
        finally:
            c.close()

    def create(self):
        import sqlalchemy
        engine = sqlalchemy.create_engine('sqlite:///%s' % self.path)
        # Every Cinder table but `workers` (its composite autoincrement key is MySQL-only in the
        # models; Cinder's migrations build it differently). Nothing on this path reads it.
        tables = [t for t in models.BASE.metadata.sorted_tables if t.name != 'workers']
        models.BASE.metadata.create_all(engine, tables=tables)
        engine.dispose()
        conn = sqlite3.connect(self.path)
        for t in SHARED_TABLES:
            ours = self._source_columns(t)
            theirs = [r[1] for r in conn.execute('PRAGMA main.table_info(%s)' % t)]
            if not ours:
                die('table %s missing in %s (has the API migrated it?)' % (t, self.source))
            self.columns[t] = {
                'shared': [c for c in theirs if c in ours],
                'cinder_only': [c for c in theirs if c not in ours],
                'ts_only': [c for c in ours if c not in theirs],
            }
        # Cinder (since Train) gives every volume a type, `__DEFAULT__` at least, and its schema
        # makes volumes.volume_type_id NOT NULL; cinder-ts has no volume types yet (README), so
        # its NULL becomes Cinder's default type in the mirror.
        with conn:
            conn.execute(
                "INSERT INTO volume_types (id, name, description, is_public, deleted, created_at) "
                "VALUES (?, '__DEFAULT__', 'Default Volume Type', 1, 0, '2024-01-01 00:00:00.000000')",
                (DEFAULT_TYPE_ID,))
        conn.close()

    def refresh(self):
        if self.src.engine == 'mysql':
            return self._refresh_from_mysql()
        conn = sqlite3.connect('file:%s' % self.path, uri=True, timeout=30)
        try:
            conn.execute('ATTACH DATABASE ? AS src', ('file:%s?mode=ro' % self.source,))
            with conn:
                for t in SHARED_TABLES:
                    shared = self.columns[t]['shared']
                    cols = ', '.join('"%s"' % c for c in shared)
                    exprs = ', '.join(
                        "COALESCE(volume_type_id, '%s')" % DEFAULT_TYPE_ID
                        if (t, c) == ('volumes', 'volume_type_id') else '"%s"' % c
                        for c in shared)
                    conn.execute('DELETE FROM main.%s' % t)
                    conn.execute('INSERT INTO main.%s (%s) SELECT %s FROM src.%s' % (t, cols, exprs, t))
        finally:
            conn.close()

    def _refresh_from_mysql(self):
        # The five tables in one consistent snapshot (the SQLite path copies them in one transaction).
        src = self.src.connect()
        rows = {}
        try:
            src.execute('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
            for t in SHARED_TABLES:
                shared = self.columns[t]['shared']
                rows[t] = src.execute('SELECT %s FROM `%s`' % (', '.join('`%s`' % c for c in shared), t)).fetchall()
            src.commit()
        finally:
            src.close()

        def value(t, c, v):
            if (t, c) == ('volumes', 'volume_type_id') and v is None:
                return DEFAULT_TYPE_ID
            if hasattr(v, 'strftime') and hasattr(v, 'hour'):
                # as SQLAlchemy's DateTime stores it on SQLite
                return v.strftime('%Y-%m-%d %H:%M:%S.%f')
            return v

        conn = sqlite3.connect('file:%s' % self.path, uri=True, timeout=30)
        try:
            with conn:
                for t in SHARED_TABLES:
                    shared = self.columns[t]['shared']
                    conn.execute('DELETE FROM main.%s' % t)
                    conn.executemany(
                        'INSERT INTO main.%s (%s) VALUES (%s)' % (
                            t, ', '.join('"%s"' % c for c in shared), ', '.join('?' * len(shared))),
                        [tuple(value(t, c, v) for c, v in zip(shared, r)) for r in rows[t]])
        finally:
            conn.close()


def jsonable(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if hasattr(v, 'obj_to_primitive'):
        return v.obj_to_primitive()
    if hasattr(v, 'isoformat'):
        return v.isoformat()
    return repr(v)


def volume_summary(vol):
    return {
        'obj_name': vol.obj_name(),
        'VERSION': vol.VERSION,
        'id': vol.id,
        'host': vol.host,
        'service_topic_queue': vol.service_topic_queue,
        'status': vol.status,
        'attach_status': vol.attach_status,
        'admin_metadata': dict(vol.admin_metadata) if vol.obj_attr_is_set('admin_metadata') else None,
        'attachments': [
            {'id': a.id, 'attach_status': a.attach_status, 'instance_uuid': a.instance_uuid, 'connector': a.connector}
            for a in vol.volume_attachment
        ],
    }


EXC_NAMES = ['VolumeBackendAPIException', 'VolumeAttachmentNotFound', 'RemoveExportException',
             'ISCSITargetDetachFailed', 'VolumeDriverException', 'NotFound', 'InvalidVolume',
             'CinderException']


def describe_exception(e, expect_caught):
    cls = type(e)
    return {
        'outcome': 'exception',
        'exc_class': cls.__name__,
        'exc_module': cls.__module__,
        'exc_mro': ['%s.%s' % (c.__module__, c.__name__) for c in cls.__mro__],
        'exc_kwargs': jsonable(getattr(e, 'kwargs', None)),
        'exc_msg': getattr(e, 'msg', None) or str(e).split('\n')[0],
        'exc_args': jsonable(list(e.args)),
        'is_remote_error': isinstance(e, messaging.RemoteError),
        'isinstance': {n: isinstance(e, getattr(exception, n)) for n in EXC_NAMES},
        'caught_by_expect': expect_caught,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--transport-url', required=True)
    ap.add_argument('--db', required=True,
                    help="cinder-ts's database: its SQLite file (path or sqlite:/// URL) or mysql+pymysql:// URL")
    ap.add_argument('--control-exchange', default='openstack')
    ap.add_argument('--timeout', type=int, default=30)
    ap.add_argument('--project-id', default='c0ffee0000000000000000000000beef')
    ap.add_argument('--user-id', default='python-cinder-api')
    args = ap.parse_args()

    source = cinder_ts_db.open_db(args.db)
    if not source.exists():
        die('no such DB file: %s' % source.path)
    workdir = tempfile.mkdtemp(prefix='cinder-py-rpc-')
    mirror = CinderDbMirror(source, workdir)
    try:
        mirror.create()
        mirror.refresh()
    except SystemExit:
        raise
    except Exception as e:
        die('cannot build the Cinder-schema mirror of %s: %r' % (source.name, e))

    # A cinder.conf as cinder-api would read it (the transport options are registered by
    # oslo.messaging only when the transport is built, so they come from the file).
    conf_file = os.path.join(workdir, 'cinder.conf')
    with open(conf_file, 'w') as f:
        f.write('[DEFAULT]\ntransport_url = %s\ncontrol_exchange = %s\nrpc_response_timeout = %d\n'
                '\n[database]\nconnection = sqlite:///%s\n'
                % (args.transport_url, args.control_exchange, args.timeout, mirror.path))
    conf = cfg.CONF
    conf(['--config-file', conf_file], project='cinder')
    rpc.init(conf)

    # cinder-api computes these once (and caches them in cinder.rpc.LAST_*_VERSIONS): real
    # Service.get_minimum_*_version over the services rows cinder-ts's manager registered.
    admin = cinder_context.get_admin_context()
    api = volume_rpcapi.VolumeAPI()
    caps = {
        'rpc_version_cap': api.client.version_cap,
        'obj_version_cap': api.client.serializer._base.version_cap,
        'services': [
            {'host': s.host, 'binary': s.binary, 'rpc_current_version': s.rpc_current_version,
             'object_current_version': s.object_current_version, 'is_up': bool(s.is_up)}
            for s in objects.ServiceList.get_all_by_binary(admin, 'cinder-volume')
        ],
        'mirror_columns': mirror.columns,
    }
    print(json.dumps({'ready': True, 'caps': caps}), flush=True)

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req['op']
        except Exception as e:
            die('malformed request %r: %r' % (line, e))
        if op == 'caps':
            print(json.dumps({'op': op, 'outcome': 'ok', 'caps': caps}), flush=True)
            continue
        if op == 'quit':
            break
        ctxt = cinder_context.RequestContext(
            user_id=args.user_id, project_id=req.get('project_id', args.project_id), is_admin=True,
            roles=['admin', 'member', 'reader'])
        try:
            mirror.refresh()
            volume = objects.Volume.get_by_id(ctxt, req['volume_id'])
        except Exception as e:
            die('cannot load volume %s through Cinder\'s DB API: %s' % (req.get('volume_id'), traceback.format_exc()))
        answer = {'op': op, 'request_id': ctxt.request_id, 'volume': volume_summary(volume)}
        expect = req.get('expect')
        if expect is not None and not hasattr(exception, expect):
            die('no such class cinder.exception.%s' % expect)
        expect_cls = getattr(exception, expect) if expect else ()
        try:
            try:
                if op == 'terminate_connection':
                    result = api.terminate_connection(ctxt, volume, req['connector'], force=req.get('force', False))
                elif op == 'detach_volume':
                    result = api.detach_volume(ctxt, volume, req.get('attachment_id'))
                elif op == 'attachment_delete':
                    result = api.attachment_delete(ctxt, req['attachment_id'], volume)
                elif op == 'attachment_update':
                    result = api.attachment_update(ctxt, volume, req['connector'], req['attachment_id'])
                elif op == 'initialize_connection':
                    result = api.initialize_connection(ctxt, volume, req['connector'])
                elif op == 'attach_volume':
                    result = api.attach_volume(ctxt, volume, req.get('instance_uuid'), req.get('host_name'),
                                               req['mountpoint'], req.get('mode', 'rw'))
                else:
                    die('unknown op %r' % op)
                answer.update({'outcome': 'ok', 'result_type': type(result).__name__, 'result': jsonable(result)})
            except expect_cls as e:  # the `except cinder.exception.X` clause a Python caller writes
                answer.update(describe_exception(e, True))
        except messaging.MessagingTimeout as e:
            answer.update({'outcome': 'timeout', 'exc_msg': str(e)})
        except Exception as e:
            answer.update(describe_exception(e, False if expect else None))
        print(json.dumps(answer), flush=True)


if __name__ == '__main__':
    try:
        main()
    except SystemExit:
        raise
    except Exception:
        die('unexpected failure:\n%s' % traceback.format_exc(), 3)
