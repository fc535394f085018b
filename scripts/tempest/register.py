"""Registers cinder-ts in the Keystone that scripts/keystone/start.sh started, for Tempest.

usage: register.py <provision.json> <cinder-api port>

Tempest finds the volume API only through the service catalog of its tokens: it looks for a
service of type `volumev3` (its [volume] catalog_type) with a `public` endpoint in RegionOne.
This creates that service (name cinderv3, as devstack names it) and its endpoint
http://127.0.0.1:<port>/v3/%(project_id)s (Keystone substitutes the token's project id).

Run with /usr/bin/python3; standard library only, the same way provision.py talks to Keystone
(one admin token, a few POSTs), so nothing beyond Debian's keystone package is needed.
"""
import json
import sys
import urllib.error
import urllib.request

info_path, port = sys.argv[1], int(sys.argv[2])
with open(info_path) as f:
    ks = json.load(f)
V3 = ks['auth_url']
admin = ks['users']['admin']


def call(method, path, body=None, token=None):
    req = urllib.request.Request(V3 + path, data=json.dumps(body).encode() if body is not None else None,
                                 method=method)
    req.add_header('Content-Type', 'application/json')
    if token:
        req.add_header('X-Auth-Token', token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return (json.loads(raw) if raw else None), r.headers
    except urllib.error.HTTPError as e:
        raise SystemExit('tempest-register: %s %s -> %s %s' % (method, path, e.code, e.read()[:300]))


_, headers = call('POST', '/auth/tokens?nocatalog', {'auth': {
    'identity': {'methods': ['password'], 'password': {
        'user': {'name': admin['name'], 'domain': {'id': 'default'}, 'password': admin['password']}}},
    'scope': {'project': {'id': admin['project_id']}}}})
token = headers['X-Subject-Token']

data, _ = call('POST', '/services', {'service': {
    'name': 'cinderv3', 'type': 'volumev3', 'description': 'cinder-ts (scripts/tempest/run.sh)'}}, token)
service_id = data['service']['id']
url = 'http://127.0.0.1:%d/v3/%%(project_id)s' % port
data, _ = call('POST', '/endpoints', {'endpoint': {
    'service_id': service_id, 'interface': 'public', 'region_id': 'RegionOne', 'url': url}}, token)
print(json.dumps({'service_id': service_id, 'endpoint_id': data['endpoint']['id'], 'url': url}))
