// The volume types API of cinder-ts against the REAL Cinder 21.3.1 (Debian's python3-cinder: its v3
// router, controllers, views, schemas, policies, db api and FaultWrapper, in-process on its own
// SQLite, test/python/real_cinder_types_api.py): the same requests, in the same order, to both; every
// answer must have the same status and, JSON bodies, the same document (ids aside: every UUID is
// compared as "UUID"; key order included). The callers are the helper's: admin / member / writer
// (no reader role) of project P, other (member of O).
// Known difference, not in the script: `image_service:store_id` extra specs (Cinder asks Glance; this
// port has no image service and answers GlanceStoreNotFound).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openDb, type Db } from '../../src/db/client.js';
import { PyHelper, requirePythonModules } from '../python/py-helper.js';
import { testApp, tokenAuthenticator } from '../support/api.js';

const P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';
const O = '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b';

interface Step {
  method?: string;
  path: string;
  token?: string;
  version?: string;
  body?: unknown;
  raw?: string;
  /** name → dotted path into the answer: the value replaces `{name}` in later steps (per side). */
  save?: Record<string, string>;
}

/** One request per line (JSON); `${P}`/`${O}` are the projects. */
const SCRIPT = String.raw`
{"path": "/v3/${P}/types"}
{"path": "/v3/${P}/types/default"}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "gold", "description": "fast", "extra_specs": {"volume_backend_name": "lvm", "multiattach": "<is> True", "secret": "s", "n": null}}}, "save": {"gold": "volume_type.id"}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "gold"}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "priv", "os-volume-type-access:is_public": "false"}}, "save": {"priv": "volume_type.id"}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "   "}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": ""}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": null}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "x", "description": "a\u0001b"}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "x", "os-volume-type-access:is_public": "fals"}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "x", "extra_specs": {"bad key!": "v"}}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"type": "x", "volume_type": {"name": "x"}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "x"}}, "token": "member"}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": "string"}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"foo": 1}}
{"method": "POST", "path": "/v3/${P}/types"}
{"path": "/v3/${P}/types/{gold}"}
{"path": "/v3/${P}/types/{gold}", "token": "member"}
{"path": "/v3/${P}/types/{gold}", "token": "writer"}
{"path": "/v3/${P}/types/{priv}", "token": "member"}
{"path": "/v3/${P}/types/nope"}
{"path": "/v3/${P}/types/detail"}
{"path": "/v3/${P}/types"}
{"path": "/v3/${P}/types", "token": "member"}
{"path": "/v3/${P}/types?is_public=false"}
{"path": "/v3/${P}/types?is_public=none"}
{"path": "/v3/${P}/types?is_public=maybe"}
{"path": "/v3/${P}/types?limit=1&sort=name:asc"}
{"path": "/v3/${P}/types?sort_key=foo"}
{"path": "/v3/${P}/types?sort_dir=up"}
{"path": "/v3/${P}/types?name=gold", "version": "3.52"}
{"path": "/v3/${P}/types?foo=1", "version": "3.52"}
{"path": "/v3/${P}/types?name=gold&foo=1&all_tenants=1", "version": "3.52", "token": "member"}
{"path": "/v3/${P}/types?extra_specs={'secret':'s'}", "version": "3.52"}
{"path": "/v3/${P}/types?extra_specs={'secret':'s'}", "version": "3.52", "token": "member"}
{"path": "/v3/${P}/types?extra_specs={'multiattach':'<is> True'}", "version": "3.52", "token": "member"}
{"path": "/v3/${P}/types?extra_specs=oops", "version": "3.52"}
{"path": "/v3/${P}/types?extra_specs={}", "version": "3.52"}
{"path": "/v3/${P}/types?extra_specs=None", "version": "3.52"}
{"method": "PUT", "path": "/v3/${P}/types/{gold}", "body": {"volume_type": {"name": "gold2", "description": "d", "is_public": "true"}}}
{"method": "PUT", "path": "/v3/${P}/types/{gold}", "body": {"volume_type": {"name": "priv"}}}
{"method": "PUT", "path": "/v3/${P}/types/{gold}", "body": {"volume_type": {}}}
{"method": "PUT", "path": "/v3/${P}/types/{gold}", "body": {"volume_type": {"name": "  "}}}
{"method": "PUT", "path": "/v3/${P}/types/nope", "body": {"volume_type": {"name": "zz"}}}
{"method": "PUT", "path": "/v3/${P}/types/{gold}", "body": {"volume_type": {"name": "zz"}}, "token": "member"}
{"method": "POST", "path": "/v3/${P}/types/{gold}/action", "body": {"update": {"name": "x"}}}
{"method": "POST", "path": "/v3/${P}/types/{gold}/action", "body": {"create": {"name": "x"}}}
{"method": "POST", "path": "/v3/${P}/types/{gold}/action", "body": {"delete": null}}
{"method": "POST", "path": "/v3/${P}/types/{gold}/action", "body": {"addProjectAccess": {"project": "${O}"}}}
{"method": "POST", "path": "/v3/${P}/types/{priv}/action", "body": {"addProjectAccess": {"project": "${O}"}}}
{"method": "POST", "path": "/v3/${P}/types/{priv}/action", "body": {"addProjectAccess": {"project": "${O}"}}}
{"path": "/v3/${P}/types/{priv}/os-volume-type-access"}
{"path": "/v3/${P}/types/{gold}/os-volume-type-access"}
{"path": "/v3/${P}/types/{gold}/os-volume-type-access", "token": "member"}
{"method": "POST", "path": "/v3/${P}/types/{priv}/action", "body": {"removeProjectAccess": {"project": "${O}"}}}
{"method": "POST", "path": "/v3/${P}/types/{priv}/action", "body": {"removeProjectAccess": {"project": "${O}"}}}
{"method": "POST", "path": "/v3/${P}/types/{priv}/action", "body": {"removeProjectAccess": {"project": "nope"}}}
{"method": "POST", "path": "/v3/${P}/types/{priv}/action", "body": {"removeProjectAccess": {}}}
{"method": "POST", "path": "/v3/${P}/types/{priv}/os-volume-type-access", "body": {}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "t1", "extra_specs": {"multiattach": "<is> True"}}}, "save": {"t1": "volume_type.id"}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "t2"}}, "save": {"t2": "volume_type.id"}}
{"method": "POST", "path": "/v3/${P}/types/{t1}/extra_specs", "body": {"extra_specs": {"cacheable": "<is> True"}}}
{"method": "POST", "path": "/v3/${P}/types/{t2}/extra_specs", "body": {"extra_specs": {"key1": "value1", "key2": null, "replication_enabled": "<is> True"}}}
{"path": "/v3/${P}/types/{t2}/extra_specs"}
{"path": "/v3/${P}/types/{t2}/extra_specs", "token": "member"}
{"path": "/v3/${P}/types/{t2}/extra_specs/key1"}
{"path": "/v3/${P}/types/{t2}/extra_specs/key1", "token": "member"}
{"path": "/v3/${P}/types/{t2}/extra_specs/nokey"}
{"method": "PUT", "path": "/v3/${P}/types/{t2}/extra_specs/key1", "body": {"key1": "v2"}}
{"method": "PUT", "path": "/v3/${P}/types/{t2}/extra_specs/key1", "body": {"key2": "v2"}}
{"method": "PUT", "path": "/v3/${P}/types/{t2}/extra_specs/key1", "body": {"key1": "v2", "key2": "x"}}
{"method": "PUT", "path": "/v3/${P}/types/{t2}/extra_specs/key1", "body": {}}
{"method": "PUT", "path": "/v3/${P}/types/{t2}/extra_specs/key1", "body": {"key1": 5}}
{"method": "PUT", "path": "/v3/${P}/types/{t2}/extra_specs/extra_specs", "body": {"extra_specs": "x"}}
{"method": "PUT", "path": "/v3/${P}/types/{t2}/extra_specs/key1", "body": {"key1": "v3"}, "token": "member"}
{"method": "PUT", "path": "/v3/${P}/types/nope/extra_specs/key1", "body": {"key1": "v3"}}
{"method": "POST", "path": "/v3/${P}/types/nope/extra_specs", "body": {"extra_specs": {"a": "b"}}}
{"method": "POST", "path": "/v3/${P}/types/{t2}/extra_specs", "raw": "null"}
{"method": "POST", "path": "/v3/${P}/types/{t2}/extra_specs", "body": {"extra_specs": {"a b": "c"}}}
{"method": "POST", "path": "/v3/${P}/types/{t2}/extra_specs", "body": {"extra_specs": {"a": "b"}, "x": 1}}
{"method": "DELETE", "path": "/v3/${P}/types/{t2}/extra_specs/key1"}
{"method": "DELETE", "path": "/v3/${P}/types/{t2}/extra_specs/key1"}
{"method": "DELETE", "path": "/v3/${P}/types/{t2}/extra_specs/key1", "token": "member"}
{"method": "DELETE", "path": "/v3/${P}/types/nope/extra_specs/key1", "token": "member"}
{"method": "DELETE", "path": "/v3/${P}/types/{t2}/extra_specs/key2", "token": "member"}
{"path": "/v3/${P}/types/{t2}"}
{"path": "/v3/${P}/default-types", "version": "3.61"}
{"path": "/v3/${P}/default-types", "version": "3.62"}
{"method": "PUT", "path": "/v3/${P}/default-types/${P}", "version": "3.62", "body": {"default_type": {"volume_type": "t1"}}}
{"method": "PUT", "path": "/v3/${P}/default-types/${P}", "version": "3.62", "body": {"default_type": {"volume_type": "{t2}"}}}
{"method": "PUT", "path": "/v3/${P}/default-types/${O}", "version": "3.62", "body": {"default_type": {"volume_type": "t1"}}}
{"method": "PUT", "path": "/v3/${P}/default-types/${P}", "version": "3.62", "body": {"default_type": {"volume_type": "nope"}}}
{"method": "PUT", "path": "/v3/${P}/default-types/${P}", "version": "3.62", "body": {"default_type": {"volume_type": "99999999-9999-4999-8999-999999999999"}}}
{"method": "PUT", "path": "/v3/${P}/default-types/${P}", "version": "3.62", "body": {"default_type": {}}}
{"method": "PUT", "path": "/v3/${P}/default-types/${P}", "version": "3.62", "body": {"default_type": {"volume_type": "  "}}}
{"method": "PUT", "path": "/v3/${P}/default-types/${P}", "version": "3.62", "body": {}}
{"method": "PUT", "path": "/v3/${P}/default-types/${P}", "version": "3.62", "body": {"other": 1}}
{"method": "PUT", "path": "/v3/${P}/default-types/${P}", "version": "3.62", "body": {"default_type": {"volume_type": "t1"}}, "token": "member"}
{"path": "/v3/${P}/default-types/${P}", "version": "3.62"}
{"path": "/v3/${P}/default-types/${P}", "version": "3.62", "token": "member"}
{"path": "/v3/${P}/default-types", "version": "3.62"}
{"path": "/v3/${P}/default-types", "version": "3.62", "token": "member"}
{"path": "/v3/${P}/types/default", "token": "member"}
{"path": "/v3/${P}/types/default"}
{"method": "DELETE", "path": "/v3/${P}/types/{t2}"}
{"method": "DELETE", "path": "/v3/${P}/types/{t1}"}
{"method": "DELETE", "path": "/v3/${P}/default-types/${P}", "version": "3.62"}
{"method": "DELETE", "path": "/v3/${P}/default-types/${P}", "version": "3.62"}
{"method": "DELETE", "path": "/v3/${P}/default-types/${P}", "version": "3.62", "token": "member"}
{"path": "/v3/${P}/default-types/${P}", "version": "3.62"}
{"method": "DELETE", "path": "/v3/${P}/types/{t2}"}
{"method": "DELETE", "path": "/v3/${P}/types/{t2}"}
{"path": "/v3/${P}/types/{t2}"}
{"method": "DELETE", "path": "/v3/${P}/types/nope"}
{"method": "DELETE", "path": "/v3/${P}/types/{t1}", "token": "member"}
{"method": "DELETE", "path": "/v3/${P}/types/{t1}", "body": {}}
{"path": "/v3/${P}/types/default"}
{"path": "/v3/${O}/types", "token": "admin"}
{"path": "/v3/${P}/types/{t1}/os-volume-type-access/x"}
{"method": "POST", "path": "/v3/${P}/types/{t1}/action", "raw": "{\"a\": 1, \"b\": 2}"}
{"method": "POST", "path": "/v3/${P}/types/{t1}/action"}
{"method": "PUT", "path": "/v3/${P}/types/{t1}"}
{"method": "GET", "path": "/v3/${P}/types/{t1}", "body": {}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "1a", "extra_specs": {"key1": "value1", "RESKEY:availability_zones": "az1,az2"}}}, "save": {"a": "volume_type.id"}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "1b", "extra_specs": {"key2": "value2", "RESKEY:availability_zones": "az1,az3"}}}, "save": {"b": "volume_type.id"}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "1c", "extra_specs": {"key3": "value3"}, "os-volume-type-access:is_public": false}}, "save": {"c": "volume_type.id"}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "1d", "os-volume-type-access:is_public": false}}, "save": {"d": "volume_type.id"}}
{"method": "POST", "path": "/v3/${P}/types/{c}/action", "body": {"addProjectAccess": {"project": "${P}"}}}
{"path": "/v3/${P}/types?sort=name:asc"}
{"path": "/v3/${P}/types?sort=name:asc", "token": "member"}
{"path": "/v3/${O}/types?sort=name:asc", "token": "other"}
{"path": "/v3/${P}/types?sort=name:asc&is_public=false", "token": "member"}
{"path": "/v3/${P}/types?sort=name:asc&is_public=none", "token": "member", "version": "3.52"}
{"path": "/v3/${P}/types/{c}", "token": "member"}
{"path": "/v3/${P}/types/{d}", "token": "member"}
{"path": "/v3/${P}/types?sort=name:asc&limit=2"}
{"path": "/v3/${P}/types?sort=name:asc&limit=2&marker={a}"}
{"path": "/v3/${P}/types?sort=name&limit=2&offset=1"}
{"path": "/v3/${P}/types?sort=name:desc,id&limit=0"}
{"path": "/v3/${P}/types?sort=is_public:asc,name:asc"}
{"path": "/v3/${P}/types?sort=is_public:asc&marker={a}"}
{"path": "/v3/${P}/types?sort=description:asc,name:desc&marker={a}"}
{"path": "/v3/${P}/types?sort_key=name&sort_dir=asc&sort=name"}
{"path": "/v3/${P}/types?limit=-1"}
{"path": "/v3/${P}/types?offset=x"}
{"path": "/v3/${P}/types?marker=nope&sort=name:asc"}
{"path": "/v3/${P}/types?extra_specs={\"key1\":\"value1\"}", "version": "3.52"}
{"path": "/v3/${P}/types?extra_specs={\"key1\":\"value1\"}", "version": "3.51", "token": "member"}
{"path": "/v3/${P}/types?extra_specs={\"RESKEY:availability_zones\":\"az1\"}&sort=name:asc", "version": "3.52", "token": "member"}
{"path": "/v3/${P}/types?extra_specs={\"key1\":\"value1\"}", "version": "3.52", "token": "member"}
{"path": "/v3/${P}/types?extra_specs={\"key1\":\"value1\",\"key2\":\"value2\"}", "version": "3.52"}
{"path": "/v3/${P}/types?extra_specs=[1]", "version": "3.52"}
{"path": "/v3/${P}/types?extra_specs={'key1':1}", "version": "3.52"}
{"path": "/v3/${P}/types?is_public~=1", "version": "3.52", "token": "member"}
{"path": "/v3/${P}/types?is_public=1&is_public=0", "version": "3.52"}
{"path": "/v3/${P}/types?description=x&name=1a", "version": "3.52"}
{"path": "/v3/${P}/types?name~=1a", "version": "3.52"}
{"path": "/v3/${P}/types?projects=x", "version": "3.52"}
{"path": "/v3/${P}/types?created_at=x", "version": "3.52"}
{"path": "/v3/${P}/types?deleted=0", "version": "3.52"}
{"path": "/v3/${P}/types?id={a}", "version": "3.30"}
{"path": "/v3/types?sort=name:asc&limit=1"}
{"path": "/v3/types/{a}/extra_specs"}
{"method": "PUT", "path": "/v3/${P}/types/{a}", "body": {"volume_type": {"is_public": false}}}
{"path": "/v3/${P}/types/{a}/os-volume-type-access"}
{"method": "PUT", "path": "/v3/${P}/types/{a}", "body": {"volume_type": {"name": "1b"}}}
{"method": "PUT", "path": "/v3/${P}/types/{a}", "body": {"volume_type": {"name": "1a", "description": null}}}
{"method": "PUT", "path": "/v3/${P}/types/{a}", "body": {"volume_type": {"description": "x\n"}}}
{"method": "PUT", "path": "/v3/${P}/types/{a}", "body": {"volume_type": {"description": "\u00e9\u4e2d\ud83d\ude00"}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "dup\u00e9", "description": "\u00e9\u4e2d"}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": 5}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "x", "extra_specs": null}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "x", "extra_specs": {"k": "v"}, "os-volume-type-access:is_public": null}}}
{"method": "POST", "path": "/v3/${P}/types", "body": {"volume_type": {"name": "x2", "os-volume-type-access:is_public": true}}}
{"method": "POST", "path": "/v3/${P}/types", "raw": "{\"volume_type\": {\"name\": \"x3\", \"description\": 1.0}}"}
{"method": "POST", "path": "/v3/${P}/types", "raw": "[1]"}
{"method": "POST", "path": "/v3/${P}/types", "raw": "{\"volume_type\": {\"name\": \"x4\"}, \"volume_type\": {\"name\": \"x5\"}}"}
`;

const STEPS: Step[] = SCRIPT.split('\n')
  .map((l) => l.trim())
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Step);

/** Tokens: admin / member / writer (no reader role) of P, other (member of O). */
const authenticator = tokenAuthenticator(P, { writer: { roles: ['member'] }, other: { project: O } });

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** The answer as compared: JSON re-serialised (key order kept) with every UUID replaced. */
function normalise(status: number, body: string): string {
  let doc: string;
  try {
    doc = JSON.stringify(JSON.parse(body));
  } catch {
    doc = '<not JSON>';
  }
  return `${status} ${doc.replace(UUID_RE, 'UUID')}`;
}

function dig(doc: unknown, dotted: string): string {
  let v: any = doc;
  for (const part of dotted.split('.')) v = /^\d+$/.test(part) ? v[Number(part)] : v[part];
  return String(v);
}

let dir: string;
let db: Db;
let app: FastifyInstance;
let real: PyHelper;

beforeAll(async () => {
  requirePythonModules('cinder.api.openstack.wsgi', 'webob');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-ts-types-interop-'));
  real = new PyHelper('real_cinder_types_api.py', ['--dir', path.join(dir, 'real')]);
  db = await openDb(`sqlite:///${dir}/cinder.sqlite`);
  app = testApp({ authenticator, db });
  expect(await real.next(180_000)).toEqual({ ready: true });
}, 200_000);

afterAll(async () => {
  await real?.close();
  await app?.close();
  await db?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the types API answers as the real Cinder', () => {
  it(`${STEPS.length} requests`, async () => {
    const mine: Record<string, string> = {};
    const theirs: Record<string, string> = {};
    const sub = (s: string, vars: Record<string, string>) => Object.entries(vars).reduce((acc, [k, v]) => acc.split(`{${k}}`).join(v), s);
    const mismatches: string[] = [];
    for (const [i, step] of STEPS.entries()) {
      const method = step.method ?? 'GET';
      const headers: Record<string, string> = { 'X-Auth-Token': step.token ?? 'admin' };
      if (step.version) headers['OpenStack-API-Version'] = `volume ${step.version}`;
      const rawOf = (vars: Record<string, string>) =>
        step.raw !== undefined ? step.raw : step.body !== undefined ? sub(JSON.stringify(step.body), vars) : undefined;

      const realBody = rawOf(theirs);
      const r = await real.request({ method, path: sub(step.path, theirs), headers, body: realBody ?? null });
      const myBody = rawOf(mine);
      const m = await app.inject({
        method: method as 'GET',
        url: sub(step.path, mine),
        headers: { host: 'localhost', ...headers, ...(myBody !== undefined ? { 'content-type': 'application/json' } : {}) },
        payload: myBody,
      });
      for (const [name, p] of Object.entries(step.save ?? {})) {
        theirs[name] = dig(JSON.parse(r.body), p);
        mine[name] = dig(JSON.parse(m.body), p);
      }
      const a = normalise(r.status, r.body);
      const b = normalise(m.statusCode, m.body);
      if (a !== b) mismatches.push(`#${i} ${method} ${step.path}\n  cinder:    ${a}\n  cinder-ts: ${b}`);
    }
    expect(mismatches).toEqual([]);
  }, 120_000);
});
