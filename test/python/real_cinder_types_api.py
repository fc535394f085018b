#!/usr/bin/python3
"""Answers HTTP requests with the REAL Cinder 21.3.1 v3 API (Debian's python3-cinder, unmodified
controllers, router and FaultWrapper) in-process, for comparing cinder-ts's volume types API with it.

    python3 test/python/real_cinder_types_api.py --dir <workdir>

Setup: [database] connection sqlite:///<workdir>/cinder.sqlite migrated by Cinder's own db_sync
(cinder-manage db sync); resource_query_filters_file holding the `volume_type` entry of Cinder's
stock etc/cinder/resource_filters.json ("is_public", "extra_specs"); no notification driver
(oslo.messaging sends nothing).
Instead of an auth middleware, the X-Auth-Token header names the caller:
  admin   roles admin, member, reader of project 0a0a…0a (is_admin)
  member  roles member, reader of project 0a0a…0a
  writer  role member of project 0a0a…0a
  other   roles member, reader of project 0b0b…0b

stdin: one JSON object per line {"method", "path" (with /v3), "headers"?, "body"? (raw text)};
stdout: {"ready": true} once, then one {"status", "body", "content_type"} per request. Stops at EOF.
"""
import argparse
import json
import os
import sys
import warnings

sys.path.insert(0, '/usr/lib/python3/dist-packages')
warnings.simplefilter('ignore')

P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a'
O = '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--default-volume-type')
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    # Cinder logs to stderr; keep stdout for the answers.
    real_stdout = sys.stdout
    sys.stdout = sys.stderr

    from oslo_config import cfg
    from cinder.common import config  # noqa: F401  (registers the options)
    from cinder import objects
    objects.register_all()
    conf = cfg.CONF
    conf([], project='cinder', default_config_files=[])
    db_file = os.path.join(a.dir, 'cinder.sqlite')
    filters = os.path.join(a.dir, 'resource_filters.json')
    with open(filters, 'w') as f:
        json.dump({'volume_type': ['is_public', 'extra_specs']}, f)
    conf.set_override('connection', 'sqlite:///' + db_file, group='database')
    conf.set_override('auth_strategy', 'noauth')
    conf.set_override('resource_query_filters_file', filters)
    conf.set_override('lock_path', os.path.join(a.dir, 'locks'), group='oslo_concurrency')
    if a.default_volume_type:
        conf.set_override('default_volume_type', a.default_volume_type)
    from cinder.db import migration
    if not os.path.exists(db_file):
        migration.db_sync()
    from cinder import rpc
    if not rpc.initialized():
        rpc.init(conf)

    import webob
    from cinder.api.middleware import fault
    from cinder.api.v3 import router
    from cinder import context

    class Caller(object):
        def __init__(self, app):
            self.app = app

        def __call__(self, environ, start_response):
            who = environ.get('HTTP_X_AUTH_TOKEN', 'admin')
            if who == 'admin':
                roles = ['admin', 'member', 'reader']
            elif who == 'writer':
                roles = ['member']
            else:
                roles = ['member', 'reader']
            project = O if who == 'other' else P
            environ['cinder.context'] = context.RequestContext(
                who, project, roles=roles, is_admin=(who == 'admin'))
            return self.app(environ, start_response)

    app = fault.FaultWrapper(Caller(router.APIRouter()))
    real_stdout.write(json.dumps({'ready': True}) + '\n')
    real_stdout.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        spec = json.loads(line)
        path = spec['path']
        req = webob.Request.blank(path, method=spec.get('method', 'GET'))
        # paste's urlmap hands /v3 to the router as SCRIPT_NAME
        req.script_name = '/v3'
        req.path_info = path[3:].split('?')[0]
        for k, v in (spec.get('headers') or {}).items():
            req.headers[k] = v
        if spec.get('body') is not None:
            req.body = spec['body'].encode('utf-8')
            req.content_type = 'application/json'
        res = req.get_response(app)
        real_stdout.write(json.dumps({'status': res.status_int, 'body': res.body.decode('utf-8'),
                                      'content_type': res.content_type}) + '\n')
        real_stdout.flush()


if __name__ == '__main__':
    main()
