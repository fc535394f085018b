"""Creates the test identities in a freshly bootstrapped Keystone and prints them as JSON.

usage: provision.py <keystone-url> <admin-password> <pid> <dir> <t0> <t_setup> <t_up>

Run with /usr/bin/python3 (standard library only). Creates:
  project-a + user member-a (role member), project-b + user member-b (role member),
  project service + user service (role service, created here: bootstrap makes only
  admin/member/reader).
With KEYSTONE_NOVA_PORT=<port> in the environment (passed on by start.sh), also: user nova in
project service (role service, enough for keystonemiddleware to validate tokens), and a compute
service named nova with a public endpoint http://127.0.0.1:<port>/v2.1 in RegionOne, for
scripts/nova/start.sh; the JSON then also has users.nova and a "nova" object.
"""
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request

url, admin_pw, pid, state_dir = sys.argv[1:5]
t0, t_setup, t_up = (float(x) for x in sys.argv[5:8])
V3 = url + '/v3'


def call(method, path, body=None, token=None, expect=(200, 201, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(V3 + path, data=data, method=method)
    req.add_header('Content-Type', 'application/json')
    if token:
        req.add_header('X-Auth-Token', token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            status, headers = r.status, r.headers
    except urllib.error.HTTPError as e:
        raise SystemExit('keystone-provision: %s %s -> %s %s' % (method, path, e.code, e.read()[:300]))
    if status not in expect:
        raise SystemExit('keystone-provision: %s %s -> %s' % (method, path, status))
    return (json.loads(raw) if raw else None), headers


def password_token(name, password, project):
    body = {'auth': {
        'identity': {'methods': ['password'], 'password': {
            'user': {'name': name, 'domain': {'id': 'default'}, 'password': password}}},
        'scope': {'project': {'name': project, 'domain': {'id': 'default'}}}}}
    data, headers = call('POST', '/auth/tokens', body)
    return headers['X-Subject-Token'], data['token']


admin_tok, admin_data = password_token('admin', admin_pw, 'admin')


def role_id(name):
    data, _ = call('GET', '/roles?name=' + name, token=admin_tok)
    if data['roles']:
        return data['roles'][0]['id']
    data, _ = call('POST', '/roles', {'role': {'name': name}}, token=admin_tok)
    return data['role']['id']


def project(name):
    data, _ = call('POST', '/projects', {'project': {'name': name, 'domain_id': 'default'}}, token=admin_tok)
    return data['project']['id']


def user(name, project_id, project_name, role):
    password = name + '-' + secrets.token_hex(8)
    data, _ = call('POST', '/users', {'user': {
        'name': name, 'password': password, 'domain_id': 'default',
        }}, token=admin_tok)
    uid = data['user']['id']
    call('PUT', '/projects/%s/users/%s/roles/%s' % (project_id, uid, role_id(role)), token=admin_tok)
    return {'id': uid, 'name': name, 'password': password, 'domain_id': 'default',
            'project_id': project_id, 'project_name': project_name}


pa, pb, ps = project('project-a'), project('project-b'), project('service')
users = {
    'admin': {'id': admin_data['user']['id'], 'name': 'admin', 'password': admin_pw, 'domain_id': 'default',
              'project_id': admin_data['project']['id'], 'project_name': 'admin'},
    'member': user('member-a', pa, 'project-a', 'member'),
    'member_b': user('member-b', pb, 'project-b', 'member'),
    'service': user('service', ps, 'service', 'service'),
}
nova = None
nova_port = os.environ.get('KEYSTONE_NOVA_PORT', '').strip()
if nova_port:
    users['nova'] = user('nova', ps, 'service', 'service')
    endpoint = 'http://127.0.0.1:%d/v2.1' % int(nova_port)
    data, _ = call('POST', '/services', {'service': {
        'name': 'nova', 'type': 'compute', 'description': 'Nova (scripts/nova/start.sh)'}}, token=admin_tok)
    service_id = data['service']['id']
    data, _ = call('POST', '/endpoints', {'endpoint': {
        'service_id': service_id, 'interface': 'public', 'region_id': 'RegionOne', 'url': endpoint}},
        token=admin_tok)
    nova = {'port': int(nova_port), 'url': 'http://127.0.0.1:%d' % int(nova_port), 'endpoint': endpoint,
            'service_id': service_id, 'endpoint_id': data['endpoint']['id']}
done = time.time()
out = {
    'url': url,
    'auth_url': V3,
    'pid': int(pid),
    'dir': state_dir,
    'log': state_dir + '/keystone.log',
    'domain': {'id': 'default', 'name': 'Default'},
    'projects': {'admin': users['admin']['project_id'], 'a': pa, 'b': pb, 'service': ps},
    'users': users,
    'seconds': {'setup': round(t_setup - t0, 2), 'server_start': round(t_up - t_setup, 2),
                'provision': round(done - t_up, 2), 'total': round(done - t0, 2)},
}
if nova:
    out['nova'] = nova
print(json.dumps(out, indent=1))
