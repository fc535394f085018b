#!/usr/bin/python3
"""Drives cinder-ts through Debian's python-cinderclient (9.1.0) library, the way Nova does.

Nova builds `cinderclient.client.Client(<microversion>, session=<keystoneauth Session>, auth=...)`
(nova/volume/cinder.py), i.e. cinderclient's SessionClient on a keystoneauth session. Here the
session's auth plugin is cinderclient's own `cinderclient.contrib.noauth.CinderNoAuthPlugin`, which
is what `auth_strategy = noauth` on the Cinder side expects: token `<user>:<project>`, endpoint
`<endpoint>/<project_id>`. With --service, the session adds `X-Service-Roles: service`, which is
what keystonemiddleware would derive from the service token Nova sends (noauth reads the header,
as Cinder does).

Protocol: one JSON request per stdin line, one JSON answer per stdout line:
  {"call": "volumes.reserve", "args": [V], "kwargs": {}, "version": "3.0", "service": false}
Answer: {"outcome": "ok", "type": ..., "status": <HTTP status if known>, "body": ..., "value": ...,
"request_ids": [...]} or {"outcome": "exception", "exc_class", "code", "message", "request_id"}.
A malformed request or a failure of this script itself exits non-zero with a message on stderr.
"""
import argparse
import json
import sys
import traceback


def die(msg, code=2):
    sys.stderr.write('cinderclient_driver: %s\n' % msg)
    sys.stderr.flush()
    sys.exit(code)


try:
    from keystoneauth1 import session as ks_session
    from cinderclient import api_versions
    from cinderclient import client as cinder_client
    from cinderclient import exceptions as cinder_exc
    from cinderclient.contrib import noauth
    import cinderclient
except Exception as e:  # pragma: no cover
    die('cannot import Debian python3-cinderclient (run scripts/ensure-python-deps.sh): %r' % (e,))


def jsonable(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if hasattr(v, '_info'):
        return jsonable(v._info)
    return repr(v)


def describe(value):
    out = {'outcome': 'ok', 'type': type(value).__name__}
    rids = getattr(value, 'request_ids', None)
    if rids is not None:
        out['request_ids'] = list(rids)
    if isinstance(value, tuple) and len(value) == 2 and hasattr(value[0], 'status_code'):
        resp, body = value
        out.update({'status': resp.status_code, 'body': jsonable(body),
                    'content_type': resp.headers.get('Content-Type')})
    elif hasattr(value, 'status_code'):  # a bare requests.Response (attachments.complete)
        out.update({'status': value.status_code, 'body': value.text or None})
    elif isinstance(value, list):
        out['value'] = [jsonable(x) for x in value]
    else:
        out['value'] = jsonable(value)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--endpoint', required=True, help='http://host:port/v3 (the project id is appended)')
    ap.add_argument('--project-id', required=True)
    ap.add_argument('--user-id', default='nova')
    args = ap.parse_args()

    clients = {}

    def client_for(version, service):
        key = (version, service)
        if key not in clients:
            auth = noauth.CinderNoAuthPlugin(args.user_id, args.project_id, endpoint=args.endpoint)
            headers = {'X-Service-Roles': 'service'} if service else None
            sess = ks_session.Session(auth=auth, additional_headers=headers)
            clients[key] = cinder_client.Client(api_versions.APIVersion(version), session=sess, auth=auth)
        return clients[key]

    print(json.dumps({'ready': True, 'cinderclient': cinderclient.__version__}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            manager_name, method_name = req['call'].split('.')
        except Exception as e:
            die('malformed request %r: %r' % (line, e))
        c = client_for(req.get('version', '3.0'), bool(req.get('service')))
        manager = getattr(c, manager_name, None)
        method = getattr(manager, method_name, None) if manager is not None else None
        if method is None:
            die('cinderclient %s client has no %s' % (req.get('version', '3.0'), req['call']))
        try:
            answer = describe(method(*req.get('args', []), **req.get('kwargs', {})))
        except cinder_exc.ClientException as e:
            answer = {'outcome': 'exception', 'exc_class': type(e).__name__, 'code': e.code,
                      'message': e.message, 'request_id': getattr(e, 'request_id', None)}
        except Exception as e:
            answer = {'outcome': 'exception', 'exc_class': type(e).__name__, 'code': None, 'message': str(e),
                      'traceback': traceback.format_exc()}
        print(json.dumps(answer), flush=True)


if __name__ == '__main__':
    try:
        main()
    except SystemExit:
        raise
    except Exception:
        die('unexpected failure:\n%s' % traceback.format_exc(), 3)
