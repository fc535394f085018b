#!/usr/bin/python3
"""A small oslo.messaging tool (Debian's python3-cinder 21.3.1 / python3-oslo.messaging) for the
interop tests against real Cinder services (test/python/real_cinder.py).

  listen --transport-url URL --topic cinder-scheduler --fanout --out <file.jsonl> [--exchange cinder]
      Binds ONE fanout queue to <topic>_fanout exactly as oslo.messaging's rabbit driver does
      (Connection.declare_fanout_consumer: exchange '<topic>_fanout' type fanout, auto-delete; queue
      '<topic>_fanout_<uuid4 hex>', not durable), so the real scheduler's topic queue is never
      consumed from. Prints `LISTENING {"queue": ...}` once the queue is bound, then appends one
      JSON line per message to --out (and prints it with --echo):
        {"t": <unix s>, "method": ..., "version": ..., "namespace": ..., "args": {...},
         "context": {...}}
      Runs until SIGTERM/SIGINT, or --count messages, or --timeout seconds (exit 0 / 3).
      --method M keeps only messages of that method.
  call --transport-url URL --topic cinder-scheduler --method get_pools --args '{"filters": null}'
       [--version 3.0] [--server S] [--timeout 30]
      An RPC call with cinder's admin context and serializers; prints the result as one JSON line.
      Without --version, topic cinder-scheduler + method get_pools goes through the real
      cinder.scheduler.rpcapi.SchedulerAPI.get_pools (version 3.0). A remote exception prints
      `ERROR {"exc_type": ..., "message": ...}` and exits 1; no answer exits 2.
  cast-capabilities --transport-url URL --host h@b --caps-file <json> [--cluster-name c]
       [--service-name volume] [--timestamp 'YYYY-mm-ddTHH:MM:SS.ffffff'] [--also-notify]
      The real SchedulerAPI.update_service_capabilities (fanout cast, version 3.3, with
      cluster_name and timestamp, exactly what a cinder-volume's _publish_service_capabilities
      sends). --also-notify also sends notify_service_capabilities (3.5) like the volume does.
      Prints `SENT {...}`.

cinder.rpc is initialised from --transport-url only (no cinder.conf, no database): the RPC/object
version caps that cinder.rpc.RPCAPI would read from the services table are pinned to this Cinder's
own (SchedulerAPI 3.12, objects 1.39), which is what Cinder does when that table has no row.
"""
import argparse
import json
import os
import signal
import sys
import time

# Debian's python3-cinder lives in /usr/bin/python3's dist-packages: re-exec there when started with
# another interpreter (e.g. a pyenv `python3` first on PATH).
DEBIAN_PY = '/usr/bin/python3'
if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PY) and os.access(DEBIAN_PY, os.X_OK):
    try:
        import cinder  # noqa: F401
    except ImportError:
        os.execv(DEBIAN_PY, [DEBIAN_PY, os.path.abspath(__file__)] + sys.argv[1:])


def die(msg, code=2):
    sys.stderr.write('rpc_probe: %s\n' % msg)
    sys.stderr.flush()
    os._exit(code)


def out(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def init_cinder_rpc(transport_url, rpc_timeout=None):
    from oslo_config import cfg
    from cinder.common import config  # noqa: F401 (registers cinder's options)
    from cinder import objects
    from cinder import rpc
    objects.register_all()
    import tempfile
    conf = cfg.CONF
    # transport_url is registered by oslo.messaging itself; a throwaway config file is the public way
    with tempfile.NamedTemporaryFile('w', suffix='.conf') as f:
        f.write('[DEFAULT]\ntransport_url = %s\n' % transport_url.replace('%', '%%'))
        if rpc_timeout:
            f.write('rpc_response_timeout = %d\n' % rpc_timeout)
        f.flush()
        conf(['--config-file', f.name], project='cinder', default_config_dirs=[])
    rpc.init(conf)
    return conf


def pin_versions(api_cls):
    """What cinder.rpc.RPCAPI.determine_*_version_cap pick when no such service is in the DB."""
    from cinder import rpc
    from cinder.objects import base as objects_base
    rpc.LAST_RPC_VERSIONS[api_cls.BINARY] = api_cls.RPC_API_VERSION
    rpc.LAST_OBJ_VERSIONS[api_cls.BINARY] = objects_base.OBJ_VERSIONS.get_current()


def to_json(o):
    from oslo_serialization import jsonutils
    return json.dumps(jsonutils.to_primitive(o, convert_instances=True), sort_keys=True)


# --------------------------------------------------------------------------------------------
def cmd_listen(a):
    from oslo_config import cfg
    import oslo_messaging as messaging
    from oslo_messaging._drivers import amqpdriver
    from oslo_messaging._drivers import common as rpc_common

    if not a.fanout:
        die('listen only supports --fanout (consuming from a topic queue would steal messages)')
    conf = cfg.CONF
    conf([], project='rpc_probe', default_config_files=[], default_config_dirs=[])
    transport = messaging.get_rpc_transport(conf, url=a.transport_url)
    driver = transport._driver
    conn = driver._get_connection(rpc_common.PURPOSE_LISTEN)
    listener = amqpdriver.RpcAMQPListener(driver, conn)
    # exactly oslo's fanout binding (what every RPC server of that topic also declares)
    conn.declare_fanout_consumer(a.topic, listener)
    try:
        queue = [c.queue_name for c in conn.connection._consumers]
    except Exception:
        queue = None
    out('LISTENING ' + json.dumps({'topic': a.topic, 'queues': queue, 'pid': os.getpid()}))

    stop = {'flag': False}

    def on_signal(signum, frame):
        stop['flag'] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    n = 0
    deadline = time.time() + a.timeout if a.timeout else None
    f = open(a.out, 'a') if a.out else None
    try:
        while not stop['flag']:
            if deadline and time.time() > deadline:
                return 3
            msgs = listener.poll(timeout=0.5)
            for m in msgs or []:
                try:
                    m.acknowledge()
                except Exception:
                    pass
                body = dict(m.message)
                rec = {'t': time.time(), 'method': body.get('method'),
                       'version': body.get('version'), 'namespace': body.get('namespace'),
                       'args': body.get('args'), 'context': m.ctxt}
                if a.method and rec['method'] != a.method:
                    continue
                line = json.dumps(rec, sort_keys=True, default=str)
                if f:
                    f.write(line + '\n')
                    f.flush()
                if a.echo or not f:
                    out(line)
                n += 1
                if a.count and n >= a.count:
                    return 0
        return 0
    finally:
        if f:
            f.close()
        try:
            listener.cleanup()
        except Exception:
            pass
        try:
            transport.cleanup()
        except Exception:
            pass


# --------------------------------------------------------------------------------------------
def cmd_call(a):
    init_cinder_rpc(a.transport_url, a.timeout)
    import oslo_messaging as messaging
    from cinder import context
    from cinder import rpc
    from cinder.objects import base as objects_base
    from cinder.scheduler import rpcapi as scheduler_rpcapi

    try:
        args = json.loads(a.args) if a.args else {}
    except ValueError as e:
        die('--args is not JSON: %s' % e)
    ctxt = context.get_admin_context()
    try:
        if a.topic == 'cinder-scheduler' and a.method == 'get_pools' and not a.version \
                and not a.server:
            pin_versions(scheduler_rpcapi.SchedulerAPI)
            api = scheduler_rpcapi.SchedulerAPI()
            result = api.get_pools(ctxt, **args)
        else:
            target = messaging.Target(topic=a.topic, server=a.server, version=a.version or '3.0')
            serializer = objects_base.CinderObjectSerializer(
                objects_base.OBJ_VERSIONS.get_current())
            client = rpc.get_client(target, serializer=serializer)
            result = client.prepare(timeout=a.timeout).call(ctxt, a.method, **args)
    except messaging.MessagingTimeout as e:
        out('TIMEOUT ' + json.dumps({'message': str(e)}))
        return 2
    except Exception as e:
        out('ERROR ' + json.dumps({'exc_type': type(e).__name__, 'message': str(e)}))
        return 1
    out(to_json(result))
    return 0


# --------------------------------------------------------------------------------------------
def cmd_cast_capabilities(a):
    init_cinder_rpc(a.transport_url)
    from cinder import context
    from cinder.scheduler import rpcapi as scheduler_rpcapi
    from oslo_utils import timeutils

    with open(a.caps_file) as f:
        caps = json.load(f)
    # a fixture may be a listen record or a whole update_service_capabilities args dict
    if isinstance(caps, dict) and 'args' in caps and 'method' in caps:
        caps = caps['args']
    if isinstance(caps, dict) and 'capabilities' in caps and 'host' in caps:
        caps = caps['capabilities']
    caps.pop('timestamp', None)  # never part of the published dict (scheduler adds its own)
    pin_versions(scheduler_rpcapi.SchedulerAPI)
    api = scheduler_rpcapi.SchedulerAPI()
    ctxt = context.get_admin_context()
    ts = timeutils.parse_isotime(a.timestamp).replace(tzinfo=None) if a.timestamp else None
    api.update_service_capabilities(ctxt, a.service_name, a.host, caps, a.cluster_name,
                                    timestamp=ts)
    if a.also_notify:
        backend = a.cluster_name or a.host
        api.notify_service_capabilities(ctxt, a.service_name, backend, caps, timestamp=ts)
    out('SENT ' + json.dumps({'host': a.host, 'cluster_name': a.cluster_name,
                              'service_name': a.service_name,
                              'pools': [p.get('pool_name') for p in caps.get('pools') or []]}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)

    lp = sub.add_parser('listen')
    lp.add_argument('--transport-url', required=True)
    lp.add_argument('--topic', default='cinder-scheduler')
    lp.add_argument('--fanout', action='store_true')
    lp.add_argument('--out')
    lp.add_argument('--echo', action='store_true')
    lp.add_argument('--method')
    lp.add_argument('--count', type=int, default=0)
    lp.add_argument('--timeout', type=float, default=0)

    cp = sub.add_parser('call')
    cp.add_argument('--transport-url', required=True)
    cp.add_argument('--topic', default='cinder-scheduler')
    cp.add_argument('--server')
    cp.add_argument('--method', required=True)
    cp.add_argument('--args', default='{}')
    cp.add_argument('--version')
    cp.add_argument('--timeout', type=int, default=30)

    kp = sub.add_parser('cast-capabilities')
    kp.add_argument('--transport-url', required=True)
    kp.add_argument('--host', required=True)
    kp.add_argument('--caps-file', required=True)
    kp.add_argument('--cluster-name')
    kp.add_argument('--service-name', default='volume')
    kp.add_argument('--timestamp')
    kp.add_argument('--also-notify', action='store_true')

    a = p.parse_args()
    if a.cmd == 'listen':
        return cmd_listen(a)
    if a.cmd == 'call':
        return cmd_call(a)
    return cmd_cast_capabilities(a)


if __name__ == '__main__':
    code = main()
    try:
        from cinder import rpc
        if rpc.initialized():
            rpc.cleanup()  # closes the AMQP connection cleanly (a cast is on the wire by then)
    except Exception:
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    # not sys.exit: oslo.messaging's metrics client leaves a non-daemon thread that lingers
    # metrics_thread_stop_timeout (10 s) after the last RPC
    os._exit(code or 0)
