"""End-to-end check of scripts/nova/ against a real Keystone (scripts/keystone/start.sh), without
the project's test suite:

  /usr/bin/python3 scripts/nova/selftest.py [--keep]

Starts Keystone (KEYSTONE_NOVA_PORT set, so a nova user and the compute endpoint are created) and
Nova on free loopback ports in a fresh /tmp/cinder-ts-nova-selftest-* folder, puts a server with a
volume attached into Nova (add-server-volume.py), and asks Nova, with member-a's project-scoped
token, GET /v2.1/servers/<server>/os-volume_attachments/<volume> at microversion 2.89, both raw
(headers X-OpenStack-Nova-API-Version and OpenStack-API-Version) and through python3-novaclient
as Cinder's cinder/compute/nova.py:get_server_volume does; then after --remove (404), for an
unknown server (404), as member-b of another project (404), as admin (200) and without a token
(401). Prints each answer and exits non-zero on the first unexpected one. Stops both services
(and removes the folder unless --keep) at the end.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
PY = '/usr/bin/python3'
keep = '--keep' in sys.argv[1:]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(cmd, env=None):
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        raise SystemExit('selftest: %s exited %d' % (' '.join(cmd[:3]), r.returncode))
    return r.stdout, round(time.time() - t, 2)


def token(ks, who):
    u = ks['users'][who]
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': u['name'], 'domain': {'id': 'default'}, 'password': u['password']}}},
        'scope': {'project': {'id': u['project_id']}}}}
    req = urllib.request.Request(ks['auth_url'] + '/auth/tokens', json.dumps(body).encode(),
                                 {'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers['X-Subject-Token'], json.load(r)['token']


def get(url, tok):
    headers = {'X-OpenStack-Nova-API-Version': '2.89', 'OpenStack-API-Version': 'compute 2.89',
               'Accept': 'application/json'}
    if tok:
        headers['X-Auth-Token'] = tok
    t = time.time()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
            status, body = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode()
    return status, body, round(time.time() - t, 3)


failures = []


def check(label, got, want, body, secs):
    print('%-44s %s (%.3f s) %s' % (label, got, secs, body))
    if got != want:
        failures.append('%s: %s, wanted %s' % (label, got, want))


base = tempfile.mkdtemp(prefix='cinder-ts-nova-selftest-')
ks_dir, nova_dir = os.path.join(base, 'keystone'), os.path.join(base, 'nova')
ks_port, nova_port = free_port(), free_port()
watch = {'KEYSTONE_WATCH_PID': str(os.getpid()), 'NOVA_WATCH_PID': str(os.getpid())}
try:
    out, ks_secs = run(['bash', os.path.join(SCRIPTS, 'keystone/start.sh'), ks_dir, str(ks_port)],
                       dict(watch, KEYSTONE_NOVA_PORT=str(nova_port)))
    ks = json.loads(out)
    print('keystone: %s in %.2f s %s' % (ks['url'], ks_secs, ks['seconds']))
    nv = ks['users']['nova']
    out, nova_secs = run(['bash', os.path.join(HERE, 'start.sh'), nova_dir, str(nova_port), ks['url'],
                          nv['name'], nv['password'], nv['project_name']], watch)
    nova = json.loads(out)
    print('nova: %s in %.2f s %s' % (nova['endpoint'], nova_secs, nova['seconds']))

    tok_a, data_a = token(ks, 'member')
    compute = [s for s in data_a['catalog'] if s['type'] == 'compute']
    print('member-a token catalog, compute:', json.dumps(compute))
    if not compute or compute[0]['endpoints'][0]['url'] != nova['endpoint']:
        failures.append('compute endpoint missing from the catalog')

    server, volume, attachment = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    add = [PY, os.path.join(HERE, 'add-server-volume.py'), nova_dir, '--server', server]
    out, secs = run(add + ['--project', ks['projects']['a'], '--user', ks['users']['member']['id'],
                           '--volume', volume, '--attachment', attachment, '--device', '/dev/vdb'])
    print('add-server-volume (%.2f s): %s' % (secs, out.strip()))
    url = '%s/servers/%s/os-volume_attachments/%s' % (nova['endpoint'], server, volume)

    st, body, secs = get(url, tok_a)
    check('member-a GET (first: token validated)', st, 200, body, secs)
    if st == 200 and json.loads(body)['volumeAttachment'].get('attachment_id') != attachment:
        failures.append('attachment_id is not %s' % attachment)
    st, body, secs = get(url, tok_a)
    check('member-a GET again (token cached)', st, 200, body, secs)

    try:
        # As cinder/compute/nova.py novaclient(context, api_version='2.89') with the user's token.
        from keystoneauth1 import identity, session as ks_session
        from novaclient import api_versions, client as nova_client, exceptions as nova_exc
        auth = identity.Token(auth_url=ks['auth_url'], token=tok_a, project_name='project-a',
                              project_domain_id='default')
        c = nova_client.Client(api_versions.APIVersion('2.89'), session=ks_session.Session(auth=auth),
                               endpoint_type='public')
        t = time.time()
        va = c.volumes.get_server_volume(server, volume)
        check('novaclient volumes.get_server_volume', getattr(va, 'attachment_id', None), attachment,
              json.dumps(va.to_dict()), round(time.time() - t, 3))
    except ImportError as e:
        print('novaclient check skipped: %s' % e)

    tok_b, _ = token(ks, 'member_b')
    st, body, secs = get(url, tok_b)
    check('member-b (project-b) GET', st, 404, body, secs)
    tok_adm, _ = token(ks, 'admin')
    st, body, secs = get(url, tok_adm)
    check('admin (project admin) GET', st, 200, body, secs)
    st, body, secs = get(url, None)
    check('no token GET', st, 401, body, secs)

    out, secs = run([PY, os.path.join(HERE, 'add-server-volume.py'), nova_dir, '--server', server,
                     '--volume', volume, '--remove'])
    print('add-server-volume --remove (%.2f s): %s' % (secs, out.strip()))
    st, body, secs = get(url, tok_a)
    check('member-a GET after --remove', st, 404, body, secs)
    try:
        c.volumes.get_server_volume(server, volume)
        failures.append('novaclient: no NotFound after --remove')
    except NameError:
        pass
    except nova_exc.NotFound as e:
        print('%-44s NotFound: %s' % ('novaclient after --remove', e))

    unknown = '%s/servers/%s/os-volume_attachments/%s' % (nova['endpoint'], uuid.uuid4(), volume)
    st, body, secs = get(unknown, tok_a)
    check('member-a GET unknown server', st, 404, body, secs)
finally:
    for d, script in ((nova_dir, os.path.join(HERE, 'stop.sh')),
                      (ks_dir, os.path.join(SCRIPTS, 'keystone/stop.sh'))):
        subprocess.run(['bash', script, d], capture_output=True)
    if keep:
        print('kept', base)
    else:
        shutil.rmtree(base, ignore_errors=True)

if failures:
    raise SystemExit('selftest FAILED:\n  ' + '\n  '.join(failures))
print('selftest passed')
