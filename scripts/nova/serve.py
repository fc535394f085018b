"""Nova's os-compute API (Debian's python3-nova) in ONE process for scripts/nova/start.sh:
creates the SQLite databases when they are missing, then serves the API with Nova's own eventlet
WSGI server, exactly as nova-api-os-compute (nova.cmd.api_os_compute) does, with one worker.

usage: /usr/bin/python3 serve.py <dir>      (reads <dir>/nova.conf, writes <dir>/setup-times.json)

The database set-up is what these would do, run here to pay Nova's ~3 s of imports once:
  nova-manage api_db sync
  nova-manage cell_v2 map_cell0 --database_connection sqlite:///<dir>/nova_cell0.sqlite
  nova-manage cell_v2 create_cell --name cell1    (connection + transport_url from nova.conf)
  nova-manage db sync                             (cell0, then [database] = cell1)
"""
import json
import os
import sys
import time

t0 = time.time()
state_dir = os.path.abspath(sys.argv[1])
conf_file = os.path.join(state_dir, 'nova.conf')
conf_dir = os.path.join(state_dir, 'nova.conf.d')  # empty: keeps /etc/nova/nova.conf.d out

# nova.cmd (imported through nova.cmd.manage) monkey patches eventlet first, as every nova-* does.
from nova.cmd import manage  # noqa: E402
from oslo_log import log as logging  # noqa: E402

import nova.conf  # noqa: E402
from nova import config  # noqa: E402
from nova import context  # noqa: E402
from nova import objects  # noqa: E402
from nova import service  # noqa: E402

CONF = nova.conf.CONF
config.parse_args(['nova-api-os-compute', '--config-file', conf_file, '--config-dir', conf_dir])
# python3-oslo.messaging 14 warns "Using RPCClient manually ..." for each of Nova's ~650 RPC
# clients built while the API router loads: quiet that one logger.
logging.set_defaults(default_log_levels=logging.get_default_log_levels() + [
    'oslo_messaging.rpc.client=ERROR'])
logging.setup(CONF, 'nova')
objects.register_all()
times = {'import': round(time.time() - t0, 2)}
LOG = logging.getLogger('cinder-ts.nova.serve')


def step(label, fn, *args, **kw):
    t = time.time()
    rc = fn(*args, **kw)
    if rc not in (None, 0):
        raise SystemExit('nova-serve: %s returned %r' % (label, rc))
    times[label] = round(time.time() - t, 2)


t = time.time()
step('api_db_sync', manage.ApiDbCommands().sync)
cells = manage.CellV2Commands()
step('map_cell0', cells.map_cell0,
     database_connection='sqlite:///%s/nova_cell0.sqlite' % state_dir)
names = [c.name for c in objects.CellMappingList.get_all(context.get_admin_context())]
if 'cell1' not in names:
    step('create_cell1', cells.create_cell, name='cell1')
step('db_sync', manage.DbCommands().sync)
# WAL (kept in the file): scripts/nova/add-server-volume.py writes while this process reads.
import sqlite3  # noqa: E402
for db in ('nova_api', 'nova_cell0', 'nova_cell1'):
    c = sqlite3.connect('%s/%s.sqlite' % (state_dir, db))
    c.execute('PRAGMA journal_mode=WAL').fetchall()
    c.close()
times['db_setup'] = round(time.time() - t, 2)

t = time.time()
# As nova.cmd.api_os_compute.main: the min-version cache, then the paste app and the server.
objects.Service.enable_min_version_cache()
server = service.WSGIService('osapi_compute', use_ssl=False)
times['app_load'] = round(time.time() - t, 2)
with open(os.path.join(state_dir, 'setup-times.json'), 'w') as f:
    json.dump(times, f)
LOG.info('cinder-ts nova serve: %s', times)
service.serve(server, workers=1)
service.wait()
