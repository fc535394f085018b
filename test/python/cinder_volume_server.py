#!/usr/bin/python3
"""A Python cinder-volume for cinder-ts's API to call: real oslo.messaging RPC servers built the way
cinder/service.py builds them (Debian's python3-cinder 21.3.1), with a fake manager.

* Transport and servers: `cinder.rpc.init(CONF)` on the given vhost, then `cinder.rpc.get_server`
  (eventlet executor, CinderObjectSerializer capped at this Cinder's objects version, Cinder's
  RequestContextSerializer) for the two targets cinder/service.py starts for a volume backend:
  topic `cinder-volume` server `<host>@<backend>`, and topic `cinder-volume.<host>@<backend>`
  server `<host>`. The endpoint has Cinder's VolumeManager target (version 3.18, no namespace) and
  its method signatures.
* The services table: like Service.start/report_state it registers `<host>@<backend>` (binary
  cinder-volume, rpc 3.18, objects 1.39) in cinder-ts's database (--db: its SQLite file or
  `sqlite:///` URL, or its MariaDB `mysql+pymysql://` URL; cinder_ts_db.py) and refreshes
  `updated_at`, so cinder-ts's API schedules volumes to it.
* The fake manager answers as Cinder's does: create_volume marks the volume available, attach_volume
  writes the attachment and returns a VolumeAttachment, initialize_connection returns an iSCSI
  connection_info, terminate_connection raises ISCSITargetDetachFailed for connector host
  --fail-host and VolumeBackendAPIException (what the real manager wraps driver errors in) for
  --vbe-host, detach_volume finishes the detach in the DB.
* Every call is appended to --record as one JSON line: what came off the wire (method, version,
  namespace, the serialized args, the context) and what the endpoint got after Cinder's
  deserialization (object class and version, fields).

Prints {"ready": true, ...} on stdout once both servers consume; stops cleanly on stdin EOF or
SIGTERM. A failure to start exits non-zero with a message on stderr.
"""
import eventlet
eventlet.monkey_patch()
import eventlet.tpool  # noqa: E402

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
import uuid  # noqa: E402


def die(msg, code=2):
    sys.stderr.write('cinder_volume_server: %s\n' % msg)
    sys.stderr.flush()
    os._exit(code)


try:
    from oslo_config import cfg
    import oslo_messaging as messaging
    from oslo_messaging.rpc import dispatcher as oslo_dispatcher

    from cinder import objects
    objects.register_all()
    from cinder.common import config as _cinder_config  # noqa: F401
    from cinder import exception
    from cinder import rpc
    from cinder.objects import base as objects_base
    from cinder.volume import rpcapi as volume_rpcapi
    from cinder import context as cinder_context
    from cinder.scheduler import rpcapi as scheduler_rpcapi
except Exception as e:  # pragma: no cover - environment problem
    die('cannot import Debian python3-cinder / oslo.messaging (run scripts/ensure-python-deps.sh): %r' % (e,))

sys.dont_write_bytecode = True  # no __pycache__ left in test/python
import cinder_ts_db  # noqa: E402  (beside this script)

RPC_API_VERSION = volume_rpcapi.VolumeAPI.RPC_API_VERSION  # 3.18
OBJ_VERSION = objects_base.OBJ_VERSIONS.get_current()  # 1.39

_current = threading.local()  # greenthread-local under eventlet
_record_lock = threading.Lock()
ARGS = None
TSDB = None  # cinder_ts_db.TsDb of --db


def now_db():
    # SQLite: SQLAlchemy's naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff'; MariaDB: whole seconds
    return TSDB.now()


def db():
    # autocommit; begin()/commit() around the multi-statement writes
    return TSDB.connect()


def jsonable(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if hasattr(v, 'isoformat'):
        return v.isoformat()
    return repr(v)


def describe_volume(vol):
    if vol is None:
        return None
    d = {
        'py_class': type(vol).__name__,
        'obj_name': vol.obj_name(),
        'VERSION': vol.VERSION,
        'id': vol.id,
        'host': vol.host,
        'status': vol.status,
        'attach_status': vol.attach_status,
        'project_id': vol.project_id,
        'size': vol.size,
        'multiattach': vol.multiattach,
        'fields_set': sorted(f for f in vol.fields if vol.obj_attr_is_set(f)),
    }
    if vol.obj_attr_is_set('volume_attachment'):
        d['volume_attachment'] = {
            'py_class': type(vol.volume_attachment).__name__,
            'objects': [
                {'py_class': type(a).__name__, 'id': a.id, 'attach_status': a.attach_status,
                 'instance_uuid': a.instance_uuid, 'mountpoint': a.mountpoint}
                for a in vol.volume_attachment
            ],
        }
    if vol.obj_attr_is_set('admin_metadata'):
        d['admin_metadata'] = dict(vol.admin_metadata)
    return d


def record(method, **handled):
    raw = getattr(_current, 'raw', None) or {}
    rec = {
        'method': method,
        'wire': raw,
        'handled': jsonable(handled),
    }
    with _record_lock:
        with open(ARGS.record, 'a') as f:
            f.write(json.dumps(rec) + '\n')


_orig_dispatch = oslo_dispatcher.RPCDispatcher.dispatch


def _recording_dispatch(self, incoming):
    """Remember what came off the wire for the endpoint method (then dispatch as oslo does)."""
    msg = incoming.message
    ctxt = incoming.ctxt or {}
    _current.raw = {
        'method': msg.get('method'),
        'version': msg.get('version'),
        'namespace': msg.get('namespace'),
        'args': msg.get('args'),
        'context': {k: ctxt.get(k) for k in ('request_id', 'user_id', 'project_id', 'is_admin', 'roles',
                                             'read_deleted', 'auth_token', 'service_roles', 'timestamp')
                    if k in ctxt},
        'context_keys': sorted(ctxt.keys()),
        'is_call': incoming.msg_id is not None if hasattr(incoming, 'msg_id') else None,
    }
    try:
        return _orig_dispatch(self, incoming)
    finally:
        _current.raw = None


oslo_dispatcher.RPCDispatcher.dispatch = _recording_dispatch


class FakeVolumeManager(object):
    """Cinder's VolumeManager RPC surface (names and signatures of cinder/volume/manager.py)."""

    RPC_API_VERSION = RPC_API_VERSION
    target = messaging.Target(version=RPC_API_VERSION)

    def __init__(self, host):
        self.host = host

    def create_volume(self, context, volume, request_spec=None, filter_properties=None,
                      allow_reschedule=True):
        record('create_volume', volume=describe_volume(volume), request_spec=request_spec,
               filter_properties=filter_properties, allow_reschedule=allow_reschedule)
        host = volume.host if '#' in (volume.host or '') else '%s#%s' % (self.host, ARGS.backend)
        c = db()
        try:
            c.execute("UPDATE volumes SET status = 'available', host = ?, launched_at = ?, updated_at = ? WHERE id = ?",
                      (host, now_db(), now_db(), volume.id))
        finally:
            c.close()

    def delete_volume(self, context, volume, unmanage_only=False, cascade=False):
        record('delete_volume', volume=describe_volume(volume), unmanage_only=unmanage_only, cascade=cascade)
        c = db()
        try:
            c.execute("UPDATE volumes SET status = 'deleted', deleted = 1, deleted_at = ?, updated_at = ? WHERE id = ?",
                      (now_db(), now_db(), volume.id))
        finally:
            c.close()

    def initialize_connection(self, context, volume, connector):
        record('initialize_connection', volume=describe_volume(volume), connector=connector)
        return {
            'driver_volume_type': 'iscsi',
            'data': {
                'target_discovered': False,
                'target_portal': '192.0.2.30:3260',
                'target_iqn': 'iqn.2010-10.org.openstack:volume-%s' % volume.id,
                'target_lun': 1,
                'volume_id': volume.id,
                'auth_method': 'CHAP',
                'auth_username': 'pyuser',
                'auth_password': 'pysecret',
                'encrypted': False,
                'qos_specs': None,
                'access_mode': 'rw',
                'cacheable': False,
            },
        }

    def terminate_connection(self, context, volume_id, connector, force=False):
        record('terminate_connection', volume_id=volume_id, connector=connector, force=force)
        host = (connector or {}).get('host')
        if host == ARGS.fail_host:
            raise exception.ISCSITargetDetachFailed(volume_id=volume_id)
        if host == ARGS.vbe_host:
            raise exception.VolumeBackendAPIException(
                data='Terminate volume connection failed: fake backend refused %s' % host)
        return None

    def attach_volume(self, context, volume_id, instance_uuid, host_name, mountpoint, mode, volume=None):
        record('attach_volume', volume_id=volume_id, instance_uuid=instance_uuid, host_name=host_name,
               mountpoint=mountpoint, mode=mode, volume=describe_volume(volume))
        att_id = str(uuid.uuid4())
        t = now_db()
        c = db()
        try:
            c.begin()
            c.execute("INSERT INTO volume_attachment (id, volume_id, instance_uuid, attached_host, mountpoint, "
                      "attach_time, attach_mode, attach_status, created_at, deleted) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, 'attached', ?, 0)",
                      (att_id, volume_id, instance_uuid, host_name, mountpoint, t, mode, t))
            c.execute("UPDATE volumes SET status = 'in-use', attach_status = 'attached', updated_at = ? WHERE id = ?",
                      (t, volume_id))
            c.commit()
        finally:
            c.close()
        attachment = objects.VolumeAttachment(
            context, id=att_id, volume_id=volume_id, instance_uuid=instance_uuid,
            attached_host=host_name, mountpoint=mountpoint, attach_mode=mode,
            attach_status='attached',
            attach_time=datetime.datetime.utcnow().replace(microsecond=0, tzinfo=datetime.timezone.utc),
            detach_time=None, connection_info=None, connector=None, deleted=False)
        attachment.obj_reset_changes()
        return attachment

    def detach_volume(self, context, volume_id, attachment_id=None, volume=None):
        record('detach_volume', volume_id=volume_id, attachment_id=attachment_id, volume=describe_volume(volume))
        t = now_db()
        c = db()
        try:
            c.begin()
            c.execute("UPDATE volume_attachment SET attach_status = 'detached', detach_time = ?, deleted = 1, "
                      "deleted_at = ?, updated_at = ? WHERE id = ? AND deleted = 0", (t, t, t, attachment_id))
            left = c.execute("SELECT count(*) FROM volume_attachment WHERE volume_id = ? AND deleted = 0",
                             (volume_id,)).fetchone()[0]
            if left == 0:
                c.execute("UPDATE volumes SET status = 'available', attach_status = 'detached', updated_at = ? "
                          "WHERE id = ?", (t, volume_id))
            c.commit()
        finally:
            c.close()

    def remove_export(self, context, volume_id):
        record('remove_export', volume_id=volume_id)

    def publish_service_capabilities(self, context):
        record('publish_service_capabilities')
        publish_capabilities(self.host)


def capabilities():
    """A report shaped as the LVM driver's get_volume_stats plus the manager's additions."""
    return {
        'volume_backend_name': ARGS.backend, 'vendor_name': 'Open Source', 'driver_version': '3.0.0',
        'storage_protocol': 'iSCSI', 'shared_targets': False, 'sparse_copy_volume': False,
        'pools': [{
            'pool_name': ARGS.backend, 'total_capacity_gb': 1000.0, 'free_capacity_gb': 1000.0,
            'reserved_percentage': 0, 'location_info': 'LVMVolumeDriver:%s:cinder-volumes:default:0' % ARGS.host,
            'QoS_support': False, 'provisioned_capacity_gb': 0.0, 'max_over_subscription_ratio': '20.0',
            'thin_provisioning_support': False, 'thick_provisioning_support': True, 'total_volumes': 0,
            'filter_function': None, 'goodness_function': None, 'multiattach': True, 'backend_state': 'up',
            'allocated_capacity_gb': 0, 'cacheable': True,
        }],
    }


def publish_capabilities(backend_host):
    """SchedulerDependentManager._publish_service_capabilities, through Cinder's own SchedulerAPI."""
    # The version cap would be read from Cinder's services table; this peer has none, so pin it.
    rpc.LAST_RPC_VERSIONS['cinder-scheduler'] = scheduler_rpcapi.SchedulerAPI.RPC_API_VERSION
    rpc.LAST_OBJ_VERSIONS['cinder-scheduler'] = OBJ_VERSION
    scheduler_rpcapi.SchedulerAPI().update_service_capabilities(
        cinder_context.get_admin_context(), 'volume', backend_host, capabilities(), None)


def report_state(host, stop_event):
    """Service.report_state: register once, then refresh updated_at/report_count."""
    c = db()
    cols = set(c.columns('services'))
    if not cols:
        die('no services table in %s (has the API migrated the DB?)' % ARGS.db)
    row = c.execute("SELECT id FROM services WHERE host = ? AND `binary` = 'cinder-volume' AND deleted = 0",
                    (host,)).fetchone()
    if row is None:
        values = {
            'uuid': str(uuid.uuid4()), 'host': host, 'binary': 'cinder-volume', 'topic': 'cinder-volume',
            'report_count': 1, 'disabled': 0, 'availability_zone': 'nova', 'rpc_current_version': RPC_API_VERSION,
            'object_current_version': OBJ_VERSION, 'created_at': now_db(), 'updated_at': now_db(), 'deleted': 0,
        }
        values = {k: v for k, v in values.items() if k in cols}
        c.execute('INSERT INTO services (%s) VALUES (%s)' % (', '.join('`%s`' % k for k in values),
                                                            ', '.join('?' * len(values))),
                  list(values.values()))
    c.close()

    def beat():
        while not stop_event.wait(10):
            try:
                cc = db()
                cc.execute("UPDATE services SET updated_at = ?, report_count = report_count + 1 "
                           "WHERE host = ? AND `binary` = 'cinder-volume' AND deleted = 0", (now_db(), host))
                cc.close()
            except Exception as e:  # keep beating, as Cinder does
                sys.stderr.write('report_state failed: %r\n' % (e,))
    eventlet.spawn_n(beat)


def main():
    global ARGS, TSDB
    ap = argparse.ArgumentParser()
    ap.add_argument('--transport-url', required=True)
    ap.add_argument('--db', required=True,
                    help="cinder-ts's database: its SQLite file (path or sqlite:/// URL) or mysql+pymysql:// URL")
    ap.add_argument('--record', required=True, help='JSON-lines file receiving one line per call')
    ap.add_argument('--host', default='pyhost')
    ap.add_argument('--backend', default='lvm')
    ap.add_argument('--control-exchange', default='openstack')
    ap.add_argument('--fail-host', default='compute-fail')
    ap.add_argument('--vbe-host', default='compute-vbe')
    ARGS = ap.parse_args()
    TSDB = cinder_ts_db.open_db(ARGS.db)
    if not TSDB.exists():
        die('no such DB file: %s' % TSDB.path)

    workdir = tempfile.mkdtemp(prefix='cinder-py-volume-')
    conf_file = os.path.join(workdir, 'cinder.conf')
    with open(conf_file, 'w') as f:
        f.write('[DEFAULT]\ntransport_url = %s\ncontrol_exchange = %s\nhost = %s\n'
                % (ARGS.transport_url, ARGS.control_exchange, ARGS.host))
    conf = cfg.CONF
    conf(['--config-file', conf_file], project='cinder')
    rpc.init(conf)

    backend_host = '%s@%s' % (ARGS.host, ARGS.backend)
    manager = FakeVolumeManager(backend_host)
    serializer = objects_base.CinderObjectSerializer(OBJ_VERSION)
    # cinder/service.py Service.start() for a volume backend: two servers, one endpoint
    targets = [
        messaging.Target(topic='cinder-volume', server=backend_host),
        messaging.Target(topic='cinder-volume.%s' % backend_host, server=ARGS.host),
    ]
    servers = [rpc.get_server(t, [manager], serializer) for t in targets]
    for s in servers:
        s.start()

    stop_event = threading.Event()
    report_state(backend_host, stop_event)
    publish_capabilities(backend_host)
    print(json.dumps({'ready': True, 'host': backend_host, 'rpc_api_version': RPC_API_VERSION,
                      'obj_version': OBJ_VERSION,
                      'targets': [{'topic': t.topic, 'server': t.server} for t in targets]}), flush=True)

    done = eventlet.event.Event()

    def shutdown(*_):
        if not done.ready():
            done.send(True)
    signal.signal(signal.SIGTERM, shutdown)

    def watch_stdin():
        # sys.stdin is not green: read it in a native thread (eventlet's tpool), or the hub blocks.
        try:
            eventlet.tpool.execute(sys.stdin.buffer.read)
        except Exception:
            pass
        shutdown()
    eventlet.spawn_n(watch_stdin)
    done.wait()
    stop_event.set()
    for s in servers:
        s.stop()
    for s in servers:
        s.wait()
    rpc.cleanup()


if __name__ == '__main__':
    try:
        main()
    except SystemExit:
        raise
    except Exception:
        die('unexpected failure:\n%s' % traceback.format_exc(), 3)
    sys.exit(0)
