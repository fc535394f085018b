#!/usr/bin/python3
"""Runs a REAL Cinder 21.3.1 service (Debian's python3-cinder, unmodified service code) for interop
tests: `cinder-volume` with the LVM driver on the project's stand-ins, or `cinder-scheduler`.

    python3 test/python/real_cinder.py {volume|scheduler|api|dbsync} --dir <workdir>
        --transport-url rabbit://guest:guest@127.0.0.1:5672/<vhost> --host <host>
        [--backend <name>]                  volume: the enabled_backends entry (default lvm); the
                                            service host is <host>@<backend>
        [--root-helper <abs path>]          volume: default <repo>/test/stand-ins/root-helper
        [--rtstool-path <abs path>]         volume: a cinder-rtstool (or its directory) put first on
                                            PATH; default <repo>/test/stand-ins/bin
        [--option section.key=value ...]    cinder.conf overrides (no section = DEFAULT; for the
                                            backend section use its name, e.g. lvm.volume_group=x)
        [--fake-service host@backend[,zone] ...]  scheduler: a cinder-volume `services` row kept up
        [--fake-heartbeat <s>]              how often those rows are refreshed (default 3)
        [--no-debug]                        log at INFO instead of DEBUG
        [--db-template <file>]              a freshly migrated cinder.sqlite to copy instead of
                                            running the migrations (~5 s); created there (atomic
                                            rename) when missing, so tests can share one per run
        [--database-connection <url>]       [database] connection instead of <workdir>/cinder.sqlite,
                                            e.g. mysql+pymysql://root@localhost/<db>?unix_socket=...
                                            so several services share one database (SQLite says
                                            "database is locked" under concurrent API clients)
        [--no-db-sync]                      with --database-connection: do not run the migrations
                                            (another process, e.g. the dbsync mode, ran them)
        [--port <n>] [--workers <n>]        api: osapi_volume_listen_port (127.0.0.1) and
                                            osapi_volume_workers (default 1)

Modes api and dbsync (for bench/vs-cinder.ts, which runs all three services on one database):
  api     cinder.cmd.api.main (the osapi_volume WSGI service) with auth_strategy=noauth and an
          api-paste.ini written to <workdir> (Debian's python3-cinder ships none): / answers the
          versions, /v3 goes through request id, fault wrapper and NoAuthMiddleware to the v3
          router. READY once a worker's WSGI server listens (printed by each worker).
  dbsync  writes the conf, runs the migrations on the database, prints READY {"db_sync_s": ...}
          and exits 0.

What it does, in order:
  1. <workdir>/cinder.conf: [DEFAULT] host, transport_url, auth_strategy=noauth, state_path
     <workdir>/state, log_file <workdir>/cinder-<service>.log, debug; [database] connection
     sqlite:///<workdir>/cinder.sqlite; [oslo_concurrency] lock_path <workdir>/locks;
     volume: enabled_backends=<backend> and a [<backend>] section (LVMVolumeDriver,
     volume_group=cinder-volumes, target_helper=lioadm, target_ip_address=127.0.0.1,
     lvm_type=default, volume_backend_name=<backend>, lvm_conf_file=None); then the --option values.
  2. Cinder's own schema: cinder.db.migration.db_sync() (what `cinder-manage db sync` runs), in a
     child process, on the SQLite file. Skipped when <workdir>/cinder.sqlite already exists with
     an alembic version (a restart in the same workdir keeps its DB, service row included), or
     copied from --db-template.
  3. The real service main: cinder.cmd.volume.main / cinder.cmd.scheduler.main with
     sys.argv = [..., '--config-file', <workdir>/cinder.conf].
     The only in-process changes: cinder.utils.get_root_helper() returns --root-helper (Cinder has
     no root_helper option; it always builds 'sudo cinder-rootwrap <rootwrap_config>'), and two
     wrappers that print the lines below and (scheduler) keep the --fake-service rows.

stdout (one line each, flushed; everything else goes to the log file):
  READY {"service": "cinder-volume"|"cinder-scheduler", "host": ..., "pid": ..., ...}
      printed when the service's RPC servers consume (just before manager.init_host_with_rpc).
      Volume: init_host (driver setup + the first update_service_capabilities fanout) has run.
      Scheduler: its fanout/topic queues exist; it then sends request_service_capabilities.
  STARTED {...}   printed when Service.start() returned. For the scheduler this is after
      init_host_with_rpc waited for the first capabilities of every up volume service, at most
      scheduler_driver_init_wait_time seconds (default 60, min 1; --option
      scheduler_driver_init_wait_time=1 to shorten). get_pools answers before that; create_volume
      etc. wait (manager._wait_for_scheduler) until every up backend reported or STARTED.
  FAILED <message>  and exit 1 when setup fails. The volume service exits 1 if the driver does
      not come up only after reinit_driver_count retries; look at the log.
Stop it with SIGTERM (the volume's oslo ProcessLauncher parent stops its worker child; the worker
also exits if the parent dies). SIGINT works too.

Environment: CINDER_TS_STANDIN_STATE (default <workdir>/standin-state, created) and the other
CINDER_TS_STANDIN_* variables are passed through to the root helper (test/stand-ins/README.md).

Proven by hand (one throwaway shell, as root, on a 2-CPU machine under load average ~8):
  V=rc-$RANDOM; rabbitmqctl add_vhost $V; rabbitmqctl set_permissions -p $V guest '.*' '.*' '.*'
  URL=rabbit://guest:guest@127.0.0.1:5672/$V; W=$(mktemp -d)
  # (a) real volume -> probe
  /usr/bin/python3 test/python/rpc_probe.py listen --transport-url $URL --topic cinder-scheduler --fanout \
      --out $W/fanout.jsonl &            # prints LISTENING {...} once its fanout queue is bound
  /usr/bin/python3 test/python/real_cinder.py volume --dir $W/vol --transport-url $URL --host realhost \
      --backend lvm --option periodic_interval=2 --option periodic_fuzzy_delay=0 \
      --option backend_stats_polling_interval=3 --option report_interval=2 &
  # -> READY {...}; $W/fanout.jsonl gets update_service_capabilities (version 3.3, args
  #    service_name/host/capabilities/cluster_name/timestamp) from init_host (just before READY),
  #    then one every ~2-4 s (test/fixtures/real-cinder/volume-capabilities.json is one of them).
  #    notify_service_capabilities (3.5) is a topic cast, not fanout: the probe does not see it.
  # (b) probe -> real scheduler -> get_pools
  /usr/bin/python3 test/python/real_cinder.py scheduler --dir $W/sch --transport-url $URL --host realsched \
      --fake-service tshost@lvm --option scheduler_driver_init_wait_time=1 &
  /usr/bin/python3 test/python/rpc_probe.py cast-capabilities --transport-url $URL --host tshost@lvm \
      --caps-file test/fixtures/real-cinder/volume-capabilities.json
  /usr/bin/python3 test/python/rpc_probe.py call --transport-url $URL --topic cinder-scheduler \
      --method get_pools --args '{"filters": null}'
  # -> [{"name": "tshost@lvm#lvm", "capabilities": {...}}]  (test/fixtures/real-cinder/
  #    scheduler-get-pools.json); a second cast with other numbers shows up in the next get_pools.
  # (c) both real: scheduler --fake-service realhost@lvm,zone1 + the volume of (a): get_pools
  #    lists realhost@lvm#lvm, and the scheduler's STARTED comes right after the first report.
  kill %1 %2 %3; rabbitmqctl delete_vhost $V

Notes (Debian python3-cinder 21.3.1):
  * Start-up is dominated by Python imports and so by CPU load. Measured here under load average
    7-8 on 2 CPUs (other test runs): migrations 5-10 s (db_sync_s in READY; --db-template pays them
    once), volume READY 9-12 s after exec with a template and 11-29 s without, scheduler READY
    11-33 s without; rpc_probe call / cast-capabilities 4-5 s each (imports). Give READY a 90 s
    timeout in tests; expect roughly a third of these numbers on an idle machine.
  * The volume sends its first capabilities from init_host, i.e. before READY; later ones come
    from the publish_service_capabilities periodic task (spacing backend_stats_polling_interval,
    default 60, min 3; read when cinder.volume.manager is imported, which is after the config is
    parsed, so the option works) on the periodic_interval timer (default 60) whose first run waits
    random(0, periodic_fuzzy_delay) (default 60) seconds. With 2 / 0 / 3: a report every 2-4 s.
  * Commands the real volume runs at start (all answered by the stand-ins): `cinder-rtstool verify`
    (no root helper, from PATH), `env LC_ALL=C lvm version` several times (no root helper: the `lvm` shim this
    script writes to <workdir>/bin), then through the root helper `env LC_ALL=C vgs --noheadings -o
    name cinder-volumes`, `pvs ... -o vg_name,name,size,free --separator | ... --ignoreskippedcluster`,
    `vgs ... -o name,size,free,lv_count,uuid --separator : ...`, `lvs ... -o vg_name,name,size
    --nosuffix --readonly cinder-volumes`; every stats refresh repeats the last vgs and lvs.
  * Running as root, oslo processutils would skip the root helper (it only prefixes it when
    euid != 0): this script makes processutils see a non-root euid, as in a real deployment.
  * The real scheduler only lists a backend in get_pools when its DB has an *up* cinder-volume
    service row (updated_at within service_down_time, default 60 s; created_at does not count)
    whose host (or cluster_name) is the reporting host: hence --fake-service. Nothing else is
    needed in its DB. Its get_pools shows storage_protocol as the list of variants
    (["iSCSI", "iscsi"]) and adds the report's timestamp to each pool's capabilities.
  * Stopping: SIGTERM ends the scheduler and the volume in ~5-10 s (graceful); SIGKILL of the
    volume's parent makes its worker child exit by itself within seconds (oslo's parent pipe);
    killing the process group is immediate.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

T0 = time.time()

# Debian's python3-cinder lives in /usr/bin/python3's dist-packages: re-exec there when started with
# another interpreter (e.g. a pyenv `python3` first on PATH).
DEBIAN_PY = '/usr/bin/python3'
if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PY) and os.access(DEBIAN_PY, os.X_OK):
    try:
        import cinder  # noqa: F401
    except ImportError:
        os.execv(DEBIAN_PY, [DEBIAN_PY, os.path.abspath(__file__)] + sys.argv[1:])

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STANDINS = os.path.join(REPO, 'test', 'stand-ins')


def emit(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def fail(msg):
    emit('FAILED ' + msg)
    sys.stderr.write('real_cinder: %s\n' % msg)
    sys.stderr.flush()
    os._exit(1)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('service', choices=['volume', 'scheduler', 'api', 'dbsync'])
    p.add_argument('--dir', required=True)
    p.add_argument('--transport-url', required=True)
    p.add_argument('--host', required=True)
    p.add_argument('--backend', default='lvm')
    p.add_argument('--root-helper', default=os.path.join(STANDINS, 'root-helper'))
    p.add_argument('--rtstool-path', default=os.path.join(STANDINS, 'bin'))
    p.add_argument('--option', action='append', default=[], metavar='SECTION.KEY=VALUE')
    p.add_argument('--fake-service', action='append', default=[], metavar='HOST@BACKEND[,ZONE]')
    p.add_argument('--fake-heartbeat', type=float, default=3.0)
    p.add_argument('--no-debug', action='store_true')
    p.add_argument('--db-template', metavar='FILE')
    p.add_argument('--database-connection', metavar='URL')
    p.add_argument('--no-db-sync', action='store_true')
    p.add_argument('--port', type=int, default=8776)
    p.add_argument('--workers', type=int, default=1)
    p.add_argument('--_db-sync-only', dest='db_sync_only', metavar='CONF', help=argparse.SUPPRESS)
    return p.parse_args(argv)


def write_conf(a, workdir):
    binary = 'cinder-' + a.service
    state = os.path.join(workdir, 'state')
    locks = os.path.join(workdir, 'locks')
    for d in (state, locks):
        os.makedirs(d, exist_ok=True)
    sections = {
        'DEFAULT': {
            'host': a.host,
            'transport_url': a.transport_url,
            'auth_strategy': 'noauth',
            'state_path': state,
            'log_file': os.path.join(workdir, binary + '.log'),
            'debug': 'false' if a.no_debug else 'true',
            'use_stderr': 'false',
            'my_ip': '127.0.0.1',
            'rootwrap_config': os.path.join(workdir, 'rootwrap.conf'),  # unused: see get_root_helper
        },
        'database': {'connection': a.database_connection or
                     'sqlite:///' + os.path.join(workdir, 'cinder.sqlite')},
        'oslo_concurrency': {'lock_path': locks},
        'coordination': {'backend_url': 'file://' + os.path.join(state, 'coordination')},
    }
    if a.service == 'volume':
        sections['DEFAULT']['enabled_backends'] = a.backend
        sections[a.backend] = {
            'volume_driver': 'cinder.volume.drivers.lvm.LVMVolumeDriver',
            'volume_group': 'cinder-volumes',
            'target_helper': 'lioadm',
            'target_ip_address': '127.0.0.1',
            'lvm_type': 'default',
            'lvm_conf_file': 'None',
            'volume_backend_name': a.backend,
        }
    if a.service == 'api':
        sections['DEFAULT'].update({
            'osapi_volume_listen': '127.0.0.1',
            'osapi_volume_listen_port': str(a.port),
            'osapi_volume_workers': str(a.workers),
            'api_paste_config': write_api_paste(workdir),
        })
    for o in a.option:
        if '=' not in o:
            fail('--option wants section.key=value: %r' % o)
        k, v = o.split('=', 1)
        sec, key = k.rsplit('.', 1) if '.' in k else ('DEFAULT', k)
        sections.setdefault(sec, {})[key] = v
    conf = os.path.join(workdir, 'cinder.conf')
    with open(conf, 'w') as f:
        for sec, kv in sections.items():
            f.write('[%s]\n' % sec)
            for k, v in kv.items():
                f.write('%s = %s\n' % (k, v))
            f.write('\n')
    return conf


def write_api_paste(workdir):
    """A paste.deploy file for the osapi_volume app (the package ships none). Only the pieces a
    noauth benchmark needs: the factories named are Cinder's own (cinder/api/__init__.py
    root_app_factory, cinder/api/middleware/auth.py pipeline_factory / NoAuthMiddleware,
    cinder/api/middleware/fault.py FaultWrapper, cinder/api/versions.py, cinder/api/v3/router.py)."""
    path = os.path.join(workdir, 'api-paste.ini')
    text = """[composite:osapi_volume]
use = call:cinder.api:root_app_factory
/: versions_app
/v3: v3_pipeline

[composite:v3_pipeline]
use = call:cinder.api.middleware.auth:pipeline_factory
noauth = req_id fault_wrap no_auth v3_router

[filter:req_id]
paste.filter_factory = oslo_middleware.request_id:RequestId.factory

[filter:fault_wrap]
paste.filter_factory = cinder.api.middleware.fault:FaultWrapper.factory

[filter:no_auth]
paste.filter_factory = cinder.api.middleware.auth:NoAuthMiddleware.factory

[app:v3_router]
paste.app_factory = cinder.api.v3.router:APIRouter.factory

[pipeline:versions_app]
pipeline = fault_wrap versions

[app:versions]
paste.app_factory = cinder.api.versions:Versions.factory
"""
    with open(path, 'w') as f:
        f.write(text)
    return path


def db_sync_only(conf):
    """Child process: Cinder's own migrations (cinder-manage db sync) on the conf's database."""
    from oslo_config import cfg
    from oslo_log import log as logging
    from cinder.common import config  # noqa: F401  (registers the options)
    from cinder.db import migration
    from cinder import objects
    objects.register_all()
    cfg.CONF(['--config-file', conf], project='cinder')
    logging.setup(cfg.CONF, 'cinder')
    migration.db_sync()


def run_db_sync(conf):
    t = time.time()
    r = subprocess.run([sys.executable, os.path.abspath(__file__), 'volume', '--dir', '.',
                        '--transport-url', 'x', '--host', 'x', '--_db-sync-only', conf],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        fail('db sync failed (rc %d): %s' % (r.returncode, r.stdout.strip()[-2000:]))
    return time.time() - t


def db_at_head(path):
    """True when the file has Cinder's alembic version row (a DB this script already synced)."""
    import sqlite3
    if not os.path.exists(path):
        return False
    try:
        c = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
        try:
            return bool(c.execute('select version_num from alembic_version').fetchall())
        finally:
            c.close()
    except sqlite3.Error:
        return False


def prepare_db(a, conf, db):
    """Cinder's schema in <workdir>/cinder.sqlite; returns the seconds spent in db sync."""
    import shutil
    if db_at_head(db):
        return 0.0  # the workdir is reused (a restart): keep its DB
    tpl = os.path.abspath(a.db_template) if a.db_template else None
    if tpl and db_at_head(tpl):
        shutil.copyfile(tpl, db)
        return 0.0
    took = run_db_sync(conf)
    if tpl:
        tmp = '%s.tmp.%d' % (tpl, os.getpid())
        shutil.copyfile(db, tmp)
        os.replace(tmp, tpl)
    return took


def main():
    a = parse_args(sys.argv[1:])
    if a.db_sync_only:
        db_sync_only(a.db_sync_only)
        return
    workdir = os.path.abspath(a.dir)
    os.makedirs(workdir, exist_ok=True)
    conf = write_conf(a, workdir)
    if a.database_connection:
        # A shared server database: migrate it here unless told another process did.
        sync_s = 0.0 if a.no_db_sync else run_db_sync(conf)
        db_desc = a.database_connection
    else:
        sync_s = prepare_db(a, conf, os.path.join(workdir, 'cinder.sqlite'))
        db_desc = os.path.join(workdir, 'cinder.sqlite')

    binary = 'cinder-' + a.service
    info = {'service': binary, 'pid': os.getpid(), 'conf': conf,
            'log': os.path.join(workdir, binary + '.log'),
            'db': db_desc, 'db_sync_s': round(sync_s, 2)}
    if a.service == 'dbsync':
        info['t'] = round(time.time() - T0, 2)
        emit('READY ' + json.dumps(info))
        return
    if a.service == 'api':
        run_api(a, conf, info)
        return

    if a.service == 'volume':
        root_helper = os.path.abspath(a.root_helper)
        if not os.access(root_helper, os.X_OK):
            fail('root helper %s is not executable' % root_helper)
        rts = os.path.abspath(a.rtstool_path)
        rts_dir = os.path.dirname(rts) if os.path.isfile(rts) else rts
        # brick LVM runs `env LC_ALL=C lvm version` without the root helper: an `lvm` on PATH that
        # hands it to the stand-in (recorded with "root": false, like bin/cinder-rtstool).
        shim_dir = os.path.join(workdir, 'bin')
        os.makedirs(shim_dir, exist_ok=True)
        shim = os.path.join(shim_dir, 'lvm')
        with open(shim, 'w') as f:
            f.write('#!/bin/bash\nCINDER_TS_STANDIN_DIRECT=1 exec %s lvm "$@"\n' % shlex.quote(root_helper))
        os.chmod(shim, 0o755)
        os.environ['PATH'] = os.pathsep.join([rts_dir, shim_dir, os.environ.get('PATH', '/usr/bin:/bin')])
        state = os.environ.setdefault('CINDER_TS_STANDIN_STATE', os.path.join(workdir, 'standin-state'))
        os.makedirs(state, exist_ok=True)
        info.update(host='%s@%s' % (a.host, a.backend), root_helper=root_helper,
                    standin_state=state)
        import cinder.cmd.volume as cmd  # eventlet.monkey_patch() happens here
        from cinder import utils as cinder_utils
        # Cinder has no root_helper option: it always runs 'sudo cinder-rootwrap <conf>'.
        cinder_utils.get_root_helper = lambda: shlex.quote(root_helper)
        # processutils.execute skips the root helper when euid is 0 (this script may run as root):
        # make it see a non-root euid, as in a real deployment (cinder user + rootwrap).
        from oslo_concurrency import processutils

        class _NonRootOs(object):
            def __getattr__(self, name):
                return getattr(os, name)

            @staticmethod
            def geteuid():
                return os.geteuid() or 65534
        processutils.os = _NonRootOs()
        manager_cls_path = ('cinder.volume.manager', 'VolumeManager')
    else:
        info.update(host=a.host)
        import cinder.cmd.scheduler as cmd  # eventlet.monkey_patch() happens here
        manager_cls_path = ('cinder.scheduler.manager', 'SchedulerManager')

    from cinder import service as cinder_service

    # NOTE: the manager module must not be imported before the config is parsed (its periodic task
    # spacing reads CONF.backend_stats_polling_interval at import), so patch it lazily.
    orig_start = cinder_service.Service.start

    def start(self):
        import importlib
        mod = importlib.import_module(manager_cls_path[0])
        mcls = getattr(mod, manager_cls_path[1])
        if not getattr(mcls, '_real_cinder_patched', False):
            orig_ihwr = mcls.init_host_with_rpc

            def init_host_with_rpc(mself):
                info['pid'] = os.getpid()
                info['t'] = round(time.time() - T0, 2)
                emit('READY ' + json.dumps(info))
                return orig_ihwr(mself)
            mcls.init_host_with_rpc = init_host_with_rpc
            mcls._real_cinder_patched = True
        if a.fake_service:
            start_fake_services(a.fake_service, a.fake_heartbeat)
        orig_start(self)
        info['t'] = round(time.time() - T0, 2)
        emit('STARTED ' + json.dumps(info))
    cinder_service.Service.start = start

    sys.argv = [binary, '--config-file', conf]
    cmd.main()


def run_api(a, conf, info):
    """cinder-api (cinder/cmd/api.py main): READY when a worker's WSGI server has started."""
    info.update(port=a.port, workers=a.workers, url='http://127.0.0.1:%d' % a.port)
    import cinder.cmd.api as cmd  # eventlet.monkey_patch() happens here
    from cinder import service as cinder_service
    orig_start = cinder_service.WSGIService.start

    def start(self):
        orig_start(self)
        info['pid'] = os.getpid()
        info['t'] = round(time.time() - T0, 2)
        emit('READY ' + json.dumps(info))
    cinder_service.WSGIService.start = start
    sys.argv = ['cinder-api', '--config-file', conf]
    cmd.main()


def start_fake_services(specs, interval):
    """Keeps cinder-volume rows in this (scheduler) DB up, as Service.report_state would."""
    import eventlet
    from oslo_log import log as logging
    from cinder import context
    from cinder import exception
    from cinder import objects
    from cinder.objects import base as objects_base
    from cinder.volume import rpcapi as volume_rpcapi
    log = logging.getLogger('real_cinder.fake_service')
    ctxt = context.get_admin_context()
    rows = []
    for spec in specs:
        host, _, zone = spec.partition(',')
        try:
            svc = objects.Service.get_by_args(ctxt, host, 'cinder-volume')
        except exception.NotFound:
            svc = objects.Service(context=ctxt, host=host, binary='cinder-volume',
                                  topic='cinder-volume', report_count=0)
        svc.availability_zone = zone or 'nova'
        svc.rpc_current_version = volume_rpcapi.VolumeAPI.RPC_API_VERSION
        svc.object_current_version = objects_base.OBJ_VERSIONS.get_current()
        svc.disabled = False
        if 'id' in svc and svc.obj_attr_is_set('id'):
            svc.save()
        else:
            svc.create()
        svc.report_count += 1
        svc.save()  # sets updated_at: Service.is_up looks only at updated_at
        log.info('fake cinder-volume service %s (zone %s, uuid %s) registered',
                 host, svc.availability_zone, svc.uuid)
        rows.append(svc)

    def beat():
        while True:
            eventlet.sleep(interval)
            for svc in rows:
                try:
                    svc.report_count += 1
                    svc.save()
                except Exception:
                    log.exception('fake service heartbeat for %s failed', svc.host)
    eventlet.spawn(beat)


if __name__ == '__main__':
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # noqa
        import traceback
        traceback.print_exc()
        fail('%s: %s' % (type(e).__name__, e))
