// The volume types API as Cinder 21.3.1 answers it (cinder/tests/unit/api/contrib/test_types_manage.py,
// test_types_extra_specs.py, test_volume_type_access.py, api/v3/test_types.py, test_default_types.py,
// and Tempest's admin volume type tests): status codes, fault texts, policies, views, filters and
// pagination of GET /types, /default-types from 3.62.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '../../src/common/config.js';
import type { Db } from '../../src/db/client.js';
import * as dbapi from '../../src/db/api.js';
import { appOnFreshDb, request, testApp, tokenAuthenticator } from '../support/api.js';

const P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';
const OTHER = '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b';
const MISSING = '99999999-9999-4999-8999-999999999999';

/**
 * Tokens: `admin` (admin of P), `member` (member + reader of P), `writer` (member only: no reader
 * role, so no extra_specs in the views), `other` (member + reader of OTHER).
 */
const authenticator = tokenAuthenticator(P, { writer: { roles: ['member'] }, other: { project: OTHER } });

let db: Db;
let app: FastifyInstance;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ db, app, close } = await appOnFreshDb(authenticator, 'sqlite'));
});
afterAll(() => close());

/** Every test starts from the migration's state: only `__DEFAULT__`. */
beforeEach(async () => {
  await db.run(async (q) => {
    const t = db.t;
    await q.delete(t.volumeTypeExtraSpecs);
    await q.delete(t.volumeTypeProjects);
    await q.delete(t.defaultVolumeTypes);
    await q.delete(t.volumes);
  });
  const { ne } = await import('drizzle-orm');
  await db.run((q) => q.delete(db.t.volumeTypes).where(ne(db.t.volumeTypes.name, '__DEFAULT__')));
});

const call = (method: string, url: string, opts: Parameters<typeof request>[3] = {}) => request(app, method, url, opts);

const U = `/v3/${P}`;
const bad = (message: string) => ({ badRequest: { code: 400, message } });
const notFound = (message: string) => ({ itemNotFound: { code: 404, message } });
const forbidden = (message: string) => ({ forbidden: { code: 403, message } });
const conflict = (message: string) => ({ conflictingRequest: { code: 409, message } });

async function createType(body: Record<string, unknown>, token = 'admin') {
  return call('POST', `${U}/types`, { token, body: { volume_type: body } });
}
async function mkType(name: string, extra: Record<string, unknown> = {}) {
  const r = await createType({ name, ...extra });
  expect(r.status).toBe(200);
  return r.json.volume_type as { id: string; name: string };
}
async function defaultTypeId(): Promise<string> {
  return (await call('GET', `${U}/types/default`)).json.volume_type.id;
}

describe('POST /types (types_manage _create)', () => {
  it('creates a type and answers the view with os-volume-type-access:is_public', async () => {
    const r = await createType({ name: 'gold', description: 'fast', extra_specs: { volume_backend_name: 'lvm', multiattach: '<is> True' } });
    expect(r.status).toBe(200);
    const vt = r.json.volume_type;
    // the manage actions answer with cinder/api/views/types.py: every spec, no qos_specs_id
    expect(vt).toEqual({
      id: expect.any(String),
      name: 'gold',
      is_public: true,
      extra_specs: { volume_backend_name: 'lvm', multiattach: '<is> True' },
      description: 'fast',
      'os-volume-type-access:is_public': true,
    });
    expect(Object.keys(vt)).toEqual(['id', 'name', 'is_public', 'extra_specs', 'description', 'os-volume-type-access:is_public']);
  });

  it('keeps an extra spec of null, takes is_public as a bool string, description absent is null', async () => {
    const r = await createType({ name: 'priv', extra_specs: { k: null }, 'os-volume-type-access:is_public': 'False' });
    expect(r.status).toBe(200);
    expect(r.json.volume_type).toMatchObject({ is_public: false, description: null, extra_specs: { k: null }, 'os-volume-type-access:is_public': false });
  });

  it('409 for a name a live type has', async () => {
    await mkType('dup');
    const r = await createType({ name: 'dup' });
    expect(r.status).toBe(409);
    expect(r.json).toEqual(conflict('Volume Type dup already exists.'));
  });

  it('validates the body as Cinder’s schema does', async () => {
    const long = 'a'.repeat(256);
    expect((await createType({ name: long })).json).toEqual(bad(`Invalid input for field/attribute name. Value: ${long}. '${long}' is too long`));
    expect((await createType({ name: '' })).json).toEqual(bad("Invalid input for field/attribute name. Value: . '' is too short"));
    expect((await createType({ name: '   ' })).json).toEqual(bad("An invalid 'name' value was provided. The 'name' can not be empty."));
    expect((await createType({ name: 'x', 'os-volume-type-access:is_public': 'fals' })).json.badRequest.message).toMatch(
      /^Invalid input for field\/attribute os-volume-type-access:is_public\. Value: fals\. 'fals' is not one of \[True, 'True'/,
    );
    expect((await createType({ name: 'x', description: 'd'.repeat(256) })).json.badRequest.message).toMatch(/is too long$/);
    expect((await createType({ name: 'x', extra_specs: { 'bad key!': 'v' } })).json).toEqual(
      bad("Invalid input for field/attribute extra_specs. Value: {'bad key!': 'v'}. 'bad key!' does not match any of the regexes: '^[a-zA-Z0-9-_:. /]{1,255}$'"),
    );
    expect((await createType({ name: 'x', extra_specs: { k: 1 } })).json).toEqual(bad("Invalid input for field/attribute k. Value: 1. 1 is not of type 'string', 'null'"));
    expect((await createType({ name: 'x', foo: 1 })).json).toEqual(
      bad("Invalid input for field/attribute volume_type. Value: {'name': 'x', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)"),
    );
    expect((await call('POST', `${U}/types`, { body: { foo: { a: 'b' } } })).json).toEqual(bad("'volume_type' is a required property"));
    expect((await call('POST', `${U}/types`, { body: { volume_type: 'string' } })).json).toEqual(
      bad("Invalid input for field/attribute volume_type. Value: string. 'string' is not of type 'object'"),
    );
  });

  it('a description with a non-printable character fails the printable-characters pattern', async () => {
    const r = await createType({ name: 'x', description: 'a\u0001b' });
    expect(r.status).toBe(400);
    expect(r.json.badRequest.message).toMatch(/^Invalid input for field\/attribute description\. Value: a\u0001b\. 'a\\x01b' does not match '\^\[\\\\ -\\\\~\\xa0-/);
    // A final newline is allowed ($ matches before it, as Python's re.search does).
    expect((await createType({ name: 'nl', description: 'line\n' })).status).toBe(200);
  });

  it('the stray `type` property of Cinder’s schema: a body with a top-level "type" is a 500', async () => {
    const r = await call('POST', `${U}/types`, { body: { type: 'x', volume_type: { name: 'x' } } });
    expect(r.status).toBe(500);
  });

  it('validates before the policy: a member gets 400 for a bad body, 403 for a good one', async () => {
    expect((await createType({ name: '' }, 'member')).status).toBe(400);
    const r = await createType({ name: 'x' }, 'member');
    expect(r.status).toBe(403);
    expect(r.json).toEqual(forbidden("Policy doesn't allow volume_extension:type_create to be performed."));
  });

  it('no body is a KeyError (500)', async () => {
    expect((await call('POST', `${U}/types`)).status).toBe(500);
  });
});

describe('GET /types and /types/{id} (VolumeTypesController)', () => {
  it('the admin view: extra_specs, qos_specs_id, os-volume-type-access:is_public', async () => {
    const gold = await mkType('gold', { extra_specs: { secret: 'x', replication_enabled: '<is> True' } });
    const r = await call('GET', `${U}/types/${gold.id}`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      volume_type: {
        id: gold.id, name: 'gold', is_public: true, description: null,
        extra_specs: { secret: 'x', replication_enabled: '<is> True' }, qos_specs_id: null, 'os-volume-type-access:is_public': true,
      },
    });
  });

  it('a member sees the user-visible specs only and no qos_specs_id; without the reader role no extra_specs', async () => {
    const gold = await mkType('gold', { extra_specs: { secret: 'x', multiattach: '<is> True', 'RESKEY:availability_zones': 'az1' } });
    const r = await call('GET', `${U}/types/${gold.id}`, { token: 'member' });
    expect(r.json.volume_type).toEqual({
      id: gold.id, name: 'gold', is_public: true, description: null,
      extra_specs: { multiattach: '<is> True', 'RESKEY:availability_zones': 'az1' }, 'os-volume-type-access:is_public': true,
    });
    const w = await call('GET', `${U}/types/${gold.id}`, { token: 'writer' });
    expect(w.json.volume_type).toEqual({ id: gold.id, name: 'gold', is_public: true, description: null, 'os-volume-type-access:is_public': true });
  });

  it('404 for an unknown id, and for a private type the project has no access to', async () => {
    expect((await call('GET', `${U}/types/${MISSING}`)).json).toEqual(notFound(`Volume type ${MISSING} could not be found.`));
    const priv = await mkType('priv', { 'os-volume-type-access:is_public': false });
    expect((await call('GET', `${U}/types/${priv.id}`, { token: 'member' })).status).toBe(404);
    await call('POST', `${U}/types/${priv.id}/action`, { body: { addProjectAccess: { project: P } } });
    expect((await call('GET', `${U}/types/${priv.id}`, { token: 'member' })).status).toBe(200);
    expect((await call('GET', `/v3/${OTHER}/types/${priv.id}`, { token: 'other' })).status).toBe(404);
  });

  it('GET /types/default: the configured default (no os-volume-type-access:is_public), or the project default', async () => {
    const r = await call('GET', `${U}/types/default`);
    expect(r.status).toBe(200);
    expect(r.json.volume_type).toMatchObject({ name: '__DEFAULT__', description: 'Default Volume Type', is_public: true });
    expect('os-volume-type-access:is_public' in r.json.volume_type).toBe(false);
    const gold = await mkType('gold');
    await call('PUT', `/v3/default-types/${P}`, { version: '3.62', body: { default_type: { volume_type: 'gold' } } });
    expect((await call('GET', `${U}/types/default`, { token: 'member' })).json.volume_type.id).toBe(gold.id);
    expect((await call('GET', `/v3/${OTHER}/types/default`, { token: 'other' })).json.volume_type.name).toBe('__DEFAULT__');
  });

  it('the list: every type for the admin (public filter default true), links when limit is reached', async () => {
    const a = await mkType('a');
    const b = await mkType('b');
    const r = await call('GET', `${U}/types`);
    expect(r.status).toBe(200);
    expect(r.json.volume_types.map((t: { name: string }) => t.name).sort()).toEqual(['__DEFAULT__', 'a', 'b']);
    expect(r.json.volume_type_links).toBeUndefined();
    const page = await call('GET', `${U}/types?limit=1&sort=name:asc`);
    expect(page.json.volume_types.map((t: { name: string }) => t.name)).toEqual(['__DEFAULT__']);
    expect(page.json.volume_type_links).toEqual([{ rel: 'next', href: `http://localhost/v3/${P}/types?limit=1&sort=name%3Aasc&marker=${page.json.volume_types[0].id}` }]);
    const next = await call('GET', `${U}/types?limit=1&sort=name:asc&marker=${page.json.volume_types[0].id}`);
    expect(next.json.volume_types.map((t: { id: string }) => t.id)).toEqual([a.id]);
    const desc = await call('GET', `${U}/types?sort_key=name&sort_dir=desc`);
    expect(desc.json.volume_types.map((t: { id: string }) => t.id).slice(0, 2)).toEqual([b.id, a.id]);
    // an unknown marker is no marker (_volume_type_get_db_object returns None)
    expect((await call('GET', `${U}/types?marker=${MISSING}`)).json.volume_types).toHaveLength(3);
    expect((await call('GET', `${U}/types?sort_key=foo`)).json).toEqual(bad('Invalid input received: Invalid sort key'));
    expect((await call('GET', `${U}/types?sort_dir=up`)).json).toEqual(bad("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'."));
    expect((await call('GET', `${U}/types?limit=x`)).json).toEqual(bad('limit param must be an integer'));
    expect((await call('GET', `${U}/types?offset=1&sort=name:asc`)).json.volume_types.map((t: { name: string }) => t.name)).toEqual(['a', 'b']);
  });

  it('is_public: admins filter true (public + own project’s private) / false / none; members always true', async () => {
    const priv = await mkType('priv', { 'os-volume-type-access:is_public': false });
    const shared = await mkType('shared', { 'os-volume-type-access:is_public': false });
    await call('POST', `${U}/types/${shared.id}/action`, { body: { addProjectAccess: { project: P } } });
    const names = async (url: string, token = 'admin') => ((await call('GET', url, { token })).json.volume_types as { name: string }[]).map((t) => t.name).sort();
    expect(await names(`${U}/types`)).toEqual(['__DEFAULT__', 'shared']);
    expect(await names(`${U}/types?is_public=false`)).toEqual(['priv', 'shared']);
    expect(await names(`${U}/types?is_public=None`)).toEqual(['__DEFAULT__', 'priv', 'shared']);
    expect(await names(`${U}/types?is_public=false`, 'member')).toEqual(['__DEFAULT__', 'shared']);
    expect(await names(`/v3/${OTHER}/types?is_public=none`, 'other')).toEqual(['__DEFAULT__']);
    expect((await call('GET', `${U}/types?is_public=maybe`)).json).toEqual(bad('Invalid is_public filter [maybe]'));
    expect(priv.id).toBeTruthy();
  });

  it('extra_specs filter (3.52): exact match, availability zones as a substring, sensitive keys hidden from members', async () => {
    await mkType('volume_type1', { extra_specs: { key1: 'value1', 'RESKEY:availability_zones': 'az1,az2' } });
    await mkType('volume_type2', { extra_specs: { key2: 'value2', 'RESKEY:availability_zones': 'az1,az3' } });
    await mkType('volume_type3', { extra_specs: { key3: 'value3' }, 'os-volume-type-access:is_public': false });
    const list = async (q: string, token = 'admin', version = '3.52') =>
      (await call('GET', `${U}/types?extra_specs=${encodeURIComponent(q)}`, { token, version })).json.volume_types as { name: string; extra_specs?: unknown }[];
    // below 3.52 a member's filters are dropped: all 3 visible types
    expect(await list('{"key1":"value1"}', 'member', '3.51')).toHaveLength(3);
    const one = await list('{"key1":"value1"}');
    expect(one.map((t) => t.name)).toEqual(['volume_type1']);
    expect(one[0].extra_specs).toEqual({ key1: 'value1', 'RESKEY:availability_zones': 'az1,az2' });
    expect((await list("{'RESKEY:availability_zones': 'az1'}")).map((t) => t.name).sort()).toEqual(['volume_type1', 'volume_type2']);
    expect((await list('{"RESKEY:availability_zones":"az1"}', 'member')).map((t) => t.name).sort()).toEqual(['volume_type1', 'volume_type2']);
    expect(await list('{"key1":"value1"}', 'member')).toEqual([]);
    // admins keep their filters below 3.52 too
    expect((await list('{"key1":"value1"}', 'admin', '3.0')).map((t) => t.name)).toEqual(['volume_type1']);
    // not a dict: Cinder's .items() on a str is an AttributeError (500)
    expect((await call('GET', `${U}/types?extra_specs=oops`, { version: '3.52' })).status).toBe(500);
  });

  it('filters a member may not use are a 400 from 3.52 (all_tenants dropped); admin filters are model columns', async () => {
    expect((await call('GET', `${U}/types?name=x&foo=1`, { token: 'member', version: '3.52' })).json).toEqual(bad('Invalid filters name,foo are found in query options.'));
    expect((await call('GET', `${U}/types?all_tenants=1`, { token: 'member', version: '3.52' })).status).toBe(200);
    expect((await call('GET', `${U}/types?name=x`, { token: 'member', version: '3.51' })).json.volume_types).toHaveLength(1);
    await mkType('gold');
    expect((await call('GET', `${U}/types?name=gold`, { version: '3.52' })).json.volume_types.map((t: { name: string }) => t.name)).toEqual(['gold']);
    // a key that is no attribute of the model: no types at all
    expect((await call('GET', `${U}/types?foo=1`, { version: '3.52' })).json.volume_types).toEqual([]);
  });

  it('routes without the project in the path; another project in the path is a 400', async () => {
    expect((await call('GET', '/v3/types')).status).toBe(200);
    expect((await call('GET', `/v3/${OTHER}/types`)).json).toEqual(bad('Malformed request url'));
  });
});

describe('PUT /types/{id} (types_manage _update)', () => {
  it('updates name, description and is_public; the answer (views/types.py) has no qos_specs_id nor os-volume-type-access:is_public', async () => {
    const t = await mkType('old');
    const r = await call('PUT', `${U}/types/${t.id}`, { body: { volume_type: { name: 'new', description: 'd', is_public: 'false' } } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ volume_type: { id: t.id, name: 'new', is_public: false, extra_specs: {}, description: 'd' } });
    const d = await call('PUT', `${U}/types/${t.id}`, { body: { volume_type: { description: '' } } });
    expect(d.json.volume_type).toMatchObject({ name: 'new', description: '', is_public: false });
  });

  it('400 texts: empty name, nothing to change, bad is_public; 409 for another type’s name; 404; 403', async () => {
    const t = await mkType('one');
    await mkType('two');
    expect((await call('PUT', `${U}/types/${t.id}`, { body: { volume_type: { name: '  ' } } })).json).toEqual(bad('Volume type name can not be empty.'));
    const none = bad('Specify volume type name, description, is_public or a combination thereof.');
    expect((await call('PUT', `${U}/types/${t.id}`, { body: { volume_type: {} } })).json).toEqual(none);
    expect((await call('PUT', `${U}/types/${t.id}`, { body: { volume_type: { name: null } } })).json).toEqual(none);
    expect((await call('PUT', `${U}/types/${t.id}`, { body: { volume_type: { name: 'x', is_public: 'fake' } } })).status).toBe(400);
    expect((await call('PUT', `${U}/types/${t.id}`, { body: { volume_type: { name: 'two' } } })).json).toEqual(conflict('Volume Type two already exists.'));
    // its own name is no conflict
    expect((await call('PUT', `${U}/types/${t.id}`, { body: { volume_type: { name: 'one' } } })).status).toBe(200);
    expect((await call('PUT', `${U}/types/${MISSING}`, { body: { volume_type: { name: 'z' } } })).json).toEqual(notFound(`Volume type ${MISSING} could not be found.`));
    expect((await call('PUT', `${U}/types/${t.id}`, { token: 'member', body: { volume_type: { name: 'z' } } })).json).toEqual(
      forbidden("Policy doesn't allow volume_extension:type_update to be performed."),
    );
  });

  it('{"update": …} on /action runs the update schema (volume_type is required)', async () => {
    const t = await mkType('one');
    expect((await call('POST', `${U}/types/${t.id}/action`, { body: { update: { name: 'x' } } })).json).toEqual(bad("'volume_type' is a required property"));
    expect((await call('POST', `${U}/types/${t.id}/action`, { body: { create: { name: 'x' } } })).json).toEqual(bad("'volume_type' is a required property"));
    expect((await call('POST', `${U}/types/${t.id}/action`, { body: { delete: null } })).status).toBe(400);
    expect((await call('POST', `${U}/types/${t.id}/action`, { body: { foo: null } })).json).toEqual(
      bad('There is no such action: foo. Verify the request body and Content-Type header and try again.'),
    );
  });
});

describe('DELETE /types/{id} (types_manage _delete)', () => {
  it('202 with no body, then the type is gone (404)', async () => {
    const t = await mkType('gone');
    const r = await call('DELETE', `${U}/types/${t.id}`);
    expect(r.status).toBe(202);
    expect(r.body).toBe('');
    expect((await call('GET', `${U}/types/${t.id}`)).status).toBe(404);
    expect((await call('DELETE', `${U}/types/${t.id}`)).json).toEqual(notFound(`Volume type ${t.id} could not be found.`));
    // the name is free again
    expect((await createType({ name: 'gone' })).status).toBe(200);
  });

  it('400 while a volume has the type; 400 for the default type and a project default; 403 for a member', async () => {
    const t = await mkType('used');
    await dbapi.volumeCreate(db, { id: '11111111-2222-4333-8444-555555555555', project_id: P, user_id: 'u', size: 1, status: 'available', volume_type_id: t.id });
    expect((await call('DELETE', `${U}/types/${t.id}`)).json).toEqual(bad('Target volume type is still in use.'));
    const dflt = await defaultTypeId();
    expect((await call('DELETE', `${U}/types/${dflt}`)).json).toEqual(bad(`The volume type ${dflt} is a default volume type and cannot be deleted.`));
    const pd = await mkType('project-default');
    await call('PUT', `/v3/default-types/${OTHER}`, { version: '3.62', body: { default_type: { volume_type: pd.id } } });
    expect((await call('DELETE', `${U}/types/${pd.id}`)).json).toEqual(bad(`The volume type ${pd.id} is a default volume type and cannot be deleted.`));
    expect((await call('DELETE', `${U}/types/${pd.id}`, { token: 'member' })).json).toEqual(forbidden("Policy doesn't allow volume_extension:type_delete to be performed."));
  });

  it('a body on DELETE is a TypeError (400)', async () => {
    const t = await mkType('x');
    expect((await call('DELETE', `${U}/types/${t.id}`, { body: {} })).status).toBe(400);
  });
});

describe('volume type access (volume_type_access.py)', () => {
  it('add, list, duplicate, remove, remove again', async () => {
    const t = await mkType('priv', { 'os-volume-type-access:is_public': false });
    const add = await call('POST', `${U}/types/${t.id}/action`, { body: { addProjectAccess: { project: OTHER } } });
    expect(add.status).toBe(202);
    expect(add.body).toBe('');
    expect((await call('POST', `${U}/types/${t.id}/action`, { body: { addProjectAccess: { project: OTHER } } })).json).toEqual(
      conflict(`Volume type access for ${t.id} / ${OTHER} combination already exists.`),
    );
    const list = await call('GET', `${U}/types/${t.id}/os-volume-type-access`);
    expect(list.json).toEqual({ volume_type_access: [{ volume_type_id: t.id, project_id: OTHER }] });
    expect((await call('GET', `/v3/${OTHER}/types/${t.id}`, { token: 'other' })).status).toBe(200);
    expect((await call('POST', `${U}/types/${t.id}/action`, { body: { removeProjectAccess: { project: OTHER } } })).status).toBe(202);
    expect((await call('POST', `${U}/types/${t.id}/action`, { body: { removeProjectAccess: { project: OTHER } } })).json).toEqual(
      notFound(`Volume type access not found for ${t.id} / ${OTHER} combination.`),
    );
    expect((await call('GET', `${U}/types/${t.id}/os-volume-type-access`)).json).toEqual({ volume_type_access: [] });
    // added again after a removal (the old row is soft-deleted with deleted = its id)
    expect((await call('POST', `${U}/types/${t.id}/action`, { body: { addProjectAccess: { project: OTHER } } })).status).toBe(202);
  });

  it('public types: 400 for add/remove, 404 for the list; unknown types 404; bad project 400; members 403', async () => {
    const pub = await mkType('pub');
    const invalid = bad('Invalid volume type: Type access modification is not applicable to public volume type.');
    expect((await call('POST', `${U}/types/${pub.id}/action`, { body: { addProjectAccess: { project: OTHER } } })).json).toEqual(invalid);
    expect((await call('POST', `${U}/types/${pub.id}/action`, { body: { removeProjectAccess: { project: OTHER } } })).json).toEqual(invalid);
    expect((await call('GET', `${U}/types/${pub.id}/os-volume-type-access`)).json).toEqual(notFound('Access list not available for public volume types.'));
    expect((await call('POST', `${U}/types/${MISSING}/action`, { body: { addProjectAccess: { project: OTHER } } })).json).toEqual(
      notFound(`Volume type ${MISSING} could not be found.`),
    );
    expect((await call('GET', `${U}/types/${MISSING}/os-volume-type-access`)).status).toBe(404);
    expect((await call('POST', `${U}/types/${pub.id}/action`, { body: { addProjectAccess: { project: 'nope' } } })).json).toEqual(
      bad("Invalid input for field/attribute project. Value: nope. 'nope' is not a 'uuid'"),
    );
    expect((await call('POST', `${U}/types/${pub.id}/action`, { body: { addProjectAccess: {} } })).json).toEqual(
      bad("Invalid input for field/attribute addProjectAccess. Value: {}. 'project' is a required property"),
    );
    expect((await call('POST', `${U}/types/${pub.id}/action`, { token: 'member', body: { addProjectAccess: { project: OTHER } } })).json).toEqual(
      forbidden("Policy doesn't allow volume_extension:volume_type_access:addProjectAccess to be performed."),
    );
    expect((await call('GET', `${U}/types/${pub.id}/os-volume-type-access`, { token: 'member' })).json).toEqual(
      forbidden("Policy doesn't allow volume_extension:volume_type_access:get_all_for_type to be performed."),
    );
    // the resource has no other methods: a 404 fault
    expect((await call('POST', `${U}/types/${pub.id}/os-volume-type-access`, { body: {} })).json).toEqual(notFound('The resource could not be found.'));
  });
});

describe('extra specs (types_extra_specs.py)', () => {
  it('create, index, show, update, delete', async () => {
    const t = await mkType('t');
    const c = await call('POST', `${U}/types/${t.id}/extra_specs`, { body: { extra_specs: { key1: 'value1', key2: null } } });
    expect(c.status).toBe(200);
    expect(c.json).toEqual({ extra_specs: { key1: 'value1', key2: null } });
    expect((await call('GET', `${U}/types/${t.id}/extra_specs`)).json).toEqual({ extra_specs: { key1: 'value1', key2: null } });
    expect((await call('GET', `${U}/types/${t.id}/extra_specs/key1`)).json).toEqual({ key1: 'value1' });
    const u = await call('PUT', `${U}/types/${t.id}/extra_specs/key1`, { body: { key1: 'value2' } });
    expect(u.status).toBe(200);
    expect(u.json).toEqual({ key1: 'value2' });
    expect((await call('GET', `${U}/types/${t.id}`)).json.volume_type.extra_specs).toEqual({ key1: 'value2', key2: null });
    const d = await call('DELETE', `${U}/types/${t.id}/extra_specs/key1`);
    expect(d.status).toBe(202);
    expect(d.body).toBe('');
    expect((await call('GET', `${U}/types/${t.id}/extra_specs/key1`)).json).toEqual(notFound(`Volume Type ${t.id} has no extra specs with key key1.`));
    expect((await call('DELETE', `${U}/types/${t.id}/extra_specs/key1`)).json).toEqual(notFound(`Volume Type ${t.id} has no extra specs with key key1.`));
  });

  it('Tempest’s negatives: URI mismatch, several keys, unknown types, bad bodies', async () => {
    const t = await mkType('t');
    expect((await call('PUT', `${U}/types/${t.id}/extra_specs/spec1`, { body: { spec2: 'v' } })).json).toEqual(bad('Request body and URI mismatch'));
    expect((await call('PUT', `${U}/types/${t.id}/extra_specs/spec1`, { body: { spec1: 'v', spec2: 'v' } })).json).toEqual(
      bad("{'spec1': 'v', 'spec2': 'v'} has too many properties"),
    );
    expect((await call('PUT', `${U}/types/${t.id}/extra_specs/spec1`, { body: {} })).json).toEqual(bad('{} does not have enough properties'));
    expect((await call('PUT', `${U}/types/${MISSING}/extra_specs/spec1`, { body: { spec1: 'v' } })).status).toBe(404);
    expect((await call('POST', `${U}/types/${MISSING}/extra_specs`, { body: { extra_specs: { a: 'b' } } })).status).toBe(404);
    expect((await call('GET', `${U}/types/${MISSING}/extra_specs`)).status).toBe(404);
    expect((await call('GET', `${U}/types/${MISSING}/extra_specs/a`)).status).toBe(404);
    expect((await call('DELETE', `${U}/types/${MISSING}/extra_specs/a`)).status).toBe(404);
    expect((await call('POST', `${U}/types/${t.id}/extra_specs`, { raw: 'null' })).json).toEqual(bad("None is not of type 'object'"));
    expect((await call('POST', `${U}/types/${t.id}/extra_specs`, { body: { extra_specs: 'x' } })).json).toEqual(
      bad("Invalid input for field/attribute extra_specs. Value: x. 'x' is not of type 'object'"),
    );
    expect((await call('POST', `${U}/types/${t.id}/extra_specs`, { body: { extra_specs: { 'a b': 'c' } } })).json).toEqual(
      bad("Invalid input for field/attribute extra_specs. Value: {'a b': 'c'}. 'a b' does not match any of the regexes: '^[a-zA-Z0-9-_:.]{1,255}$'"),
    );
  });

  it('no changes while a volume has the type; cacheable cannot go with multiattach', async () => {
    const t = await mkType('t', { extra_specs: { multiattach: '<is> True' } });
    expect((await call('POST', `${U}/types/${t.id}/extra_specs`, { body: { extra_specs: { cacheable: '<is> True' } } })).json).toEqual(
      bad('cacheable cannot be set with multiattach.'),
    );
    expect((await call('POST', `${U}/types/${t.id}/extra_specs`, { body: { extra_specs: { cacheable: '<is> True', multiattach: '<is> False' } } })).status).toBe(400);
    await dbapi.volumeCreate(db, { id: '11111111-2222-4333-8444-555555555555', project_id: P, user_id: 'u', size: 1, status: 'available', volume_type_id: t.id });
    const inUse = bad('Volume Type is currently in use.');
    expect((await call('POST', `${U}/types/${t.id}/extra_specs`, { body: { extra_specs: { a: 'b' } } })).json).toEqual(inUse);
    expect((await call('PUT', `${U}/types/${t.id}/extra_specs/a`, { body: { a: 'b' } })).json).toEqual(inUse);
    expect((await call('DELETE', `${U}/types/${t.id}/extra_specs/multiattach`)).json).toEqual(inUse);
  });

  it('members: read the user-visible specs, may not write; delete looks the type up before the policy', async () => {
    const t = await mkType('t', { extra_specs: { secret: 's', multiattach: '<is> True' } });
    expect((await call('GET', `${U}/types/${t.id}/extra_specs`, { token: 'member' })).json).toEqual({ extra_specs: { multiattach: '<is> True' } });
    expect((await call('GET', `${U}/types/${t.id}/extra_specs/secret`, { token: 'member' })).status).toBe(404);
    expect((await call('POST', `${U}/types/${t.id}/extra_specs`, { token: 'member', body: { extra_specs: { a: 'b' } } })).json).toEqual(
      forbidden("Policy doesn't allow volume_extension:types_extra_specs:create to be performed."),
    );
    expect((await call('DELETE', `${U}/types/${t.id}/extra_specs/secret`, { token: 'member' })).status).toBe(403);
    expect((await call('DELETE', `${U}/types/${MISSING}/extra_specs/secret`, { token: 'member' })).status).toBe(404);
  });

  it('image_service:store_id: no image service, so no store is enabled (404)', async () => {
    const t = await mkType('t');
    expect((await call('POST', `${U}/types/${t.id}/extra_specs`, { body: { extra_specs: { 'image_service:store_id': 'fast' } } })).json).toEqual(
      notFound('Store fast not enabled in glance.'),
    );
  });
});

describe('/default-types (default_types.py, 3.62)', () => {
  it('exists only without a project in the path (plain mapper.connect routes)', async () => {
    const r = await call('GET', `${U}/default-types`, { version: '3.62' });
    expect(r.status).toBe(404);
    expect(r.json).toBeUndefined();
  });

  it('does not exist below 3.62', async () => {
    expect((await call('GET', `/v3/default-types`, { version: '3.61' })).json).toEqual(notFound('The resource could not be found.'));
    expect((await call('PUT', `/v3/default-types/${P}`, { version: '3.61', body: { default_type: { volume_type: 'x' } } })).status).toBe(404);
  });

  it('set (by name or id), detail, index, unset', async () => {
    const gold = await mkType('gold');
    const set = await call('PUT', `/v3/default-types/${P}`, { version: '3.62', body: { default_type: { volume_type: 'gold' } } });
    expect(set.status).toBe(200);
    expect(set.json).toEqual({ default_type: { project_id: P, volume_type_id: gold.id } });
    const silver = await mkType('silver');
    expect((await call('PUT', `/v3/default-types/${P}`, { version: '3.62', body: { default_type: { volume_type: silver.id } } })).json).toEqual({
      default_type: { project_id: P, volume_type_id: silver.id },
    });
    expect((await call('GET', `/v3/default-types/${P}`, { version: '3.62' })).json).toEqual({ default_type: { project_id: P, volume_type_id: silver.id } });
    await call('PUT', `/v3/default-types/${OTHER}`, { version: '3.62', body: { default_type: { volume_type: 'gold' } } });
    const all = await call('GET', `/v3/default-types`, { version: '3.62' });
    expect(all.json.default_types).toHaveLength(2);
    const unset = await call('DELETE', `/v3/default-types/${P}`, { version: '3.62' });
    expect(unset.status).toBe(204);
    expect(unset.body).toBe('');
    expect((await call('GET', `/v3/default-types/${P}`, { version: '3.62' })).json).toEqual(notFound(`Default type for project ${P} not found.`));
    // unsetting twice is fine
    expect((await call('DELETE', `/v3/default-types/${P}`, { version: '3.62' })).status).toBe(204);
  });

  it('400 for an unknown type, 403 for a member, KeyError without default_type', async () => {
    expect((await call('PUT', `/v3/default-types/${P}`, { version: '3.62', body: { default_type: { volume_type: 'nope' } } })).json).toEqual(
      bad('Volume type with name nope could not be found.'),
    );
    expect((await call('PUT', `/v3/default-types/${P}`, { version: '3.62', body: { default_type: { volume_type: MISSING } } })).json).toEqual(
      bad(`Volume type ${MISSING} could not be found.`),
    );
    const denied = forbidden('You are not authorized to perform this operation.');
    expect((await call('PUT', `/v3/default-types/${P}`, { token: 'member', version: '3.62', body: { default_type: { volume_type: '__DEFAULT__' } } })).json).toEqual(denied);
    expect((await call('GET', `/v3/default-types/${P}`, { token: 'member', version: '3.62' })).json).toEqual(denied);
    expect((await call('GET', `/v3/default-types`, { token: 'member', version: '3.62' })).json).toEqual(denied);
    expect((await call('DELETE', `/v3/default-types/${P}`, { token: 'member', version: '3.62' })).json).toEqual(denied);
    expect((await call('PUT', `/v3/default-types/${P}`, { version: '3.62', body: {} })).status).toBe(500);
    expect((await call('PUT', `/v3/default-types/${P}`, { version: '3.62', body: { default_type: {} } })).json).toEqual(
      bad("Invalid input for field/attribute default_type. Value: {}. 'volume_type' is a required property"),
    );
  });
});

describe('[DEFAULT] default_volume_type naming no type (VolumeTypeDefaultMisconfiguredError)', () => {
  let misconfigured: FastifyInstance;
  beforeAll(() => {
    misconfigured = testApp({ config: parseConfig('[DEFAULT]\nauth_strategy = keystone\ndefault_volume_type = missing\n'), authenticator, db });
  });
  afterAll(async () => {
    await misconfigured.close();
  });

  it('GET /types/default is a plain 500; DELETE /types/{id} a 500 with the text (types_manage _delete)', async () => {
    const t = await mkType('t1');
    const headers = { host: 'localhost', 'x-auth-token': 'admin' };
    const show = await misconfigured.inject({ method: 'GET', url: `${U}/types/default`, headers });
    expect(show.statusCode).toBe(500);
    expect(JSON.parse(show.body)).toEqual({
      computeFault: { code: 500, message: 'The server has either erred or is incapable of performing the requested operation.' },
    });
    const del = await misconfigured.inject({ method: 'DELETE', url: `${U}/types/${t.id}`, headers });
    expect(JSON.parse(del.body)).toEqual({
      computeFault: { code: 500, message: 'The request cannot be fulfilled as the default volume type missing cannot be found.' },
    });
  });
});

describe('more list filters', () => {
  it('deleted= compares the column as the database does; extra_specs=None lists the types without specs', async () => {
    await mkType('with', { extra_specs: { a: 'b' } });
    const names = async (q: string) => ((await call('GET', `${U}/types?${q}`, { version: '3.52' })).json.volume_types as { name: string }[]).map((t) => t.name).sort();
    expect(await names('deleted=0')).toEqual(['__DEFAULT__', 'with']);
    expect(await names('deleted=1')).toEqual([]);
    expect(await names('extra_specs=None')).toEqual(['__DEFAULT__']);
    expect((await call('GET', `${U}/types?projects=x`, { version: '3.52' })).status).toBe(500);
  });
});

describe('pyLiteralEval (ast.literal_eval of the extra_specs filter)', () => {
  it('reads Python literals and refuses the rest', async () => {
    const { pyLiteralEval } = await import('../../src/api/literal-eval.js');
    expect(pyLiteralEval(`{'a': "b", 'n': 1, 'f': -1.5, 't': True, 'x': None, 'l': [1, (2, 3)],}`)).toEqual(
      new Map<unknown, unknown>([['a', 'b'], ['n', 1], ['f', -1.5], ['t', true], ['x', null], ['l', [1, [2, 3]]]]),
    );
    expect(pyLiteralEval(`'a' "b"`)).toBe('ab');
    expect(pyLiteralEval(`'\\x41\\u00e9\\n'`)).toBe('Aé\n');
    expect(pyLiteralEval('{1, 2}')).toEqual([1, 2]);
    expect(pyLiteralEval('{}')).toEqual(new Map());
    for (const bad of ['oops', '{a: 1}', "{'a': 1", '1 +', '__import__("os")']) expect(() => pyLiteralEval(bad)).toThrow();
  });
});
