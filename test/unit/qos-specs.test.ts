// /v3/{project_id}/qos-specs on a test database, through the Fastify app: what Cinder 21.3.1's
// QoSSpecsController (cinder/api/contrib/qos_specs_manage.py) answers, as its unit tests
// (cinder/tests/unit/api/contrib/test_qos_specs_manage.py, tests/unit/test_qos_specs.py) check it
// and as the real controller answered the same requests on its own SQLite database (the status
// codes and fault texts below are those answers).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eq, isNotNull } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../src/db/client.js';
import { qosSpecsGet } from '../../src/db/qos-specs.js';
import { appOnFreshDb, request, tokenAuthenticator } from '../support/api.js';
import { dbEngine } from '../support/db.js';

const P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';
const BASE = `/v3/${P}/qos-specs`;
const CONSUMER_TEXT =
  "Invalid qos specs: Valid consumer of QoS specs are: QoSConsumerValues(default=<class 'oslo_versionedobjects.fields.UnspecifiedDefault'>,nullable=False,valid_values=('back-end', 'front-end', 'both'))";

let db: Db;
let app: FastifyInstance;
let close: () => Promise<void>;
/** Tokens `admin` and `member` of project P; the database on CINDER_TS_DB_ENGINE's engine. */
beforeAll(async () => {
  ({ db, app, close } = await appOnFreshDb(tokenAuthenticator(P)));
});
afterAll(() => close());
beforeEach(async () => {
  await db.run(async (q) => {
    await q.update(db.t.volumeTypes).set({ qos_specs_id: null });
    // key rows first: specs_id is a foreign key to the root row (enforced on MariaDB)
    await q.delete(db.t.qualityOfServiceSpecs).where(isNotNull(db.t.qualityOfServiceSpecs.specs_id));
    await q.delete(db.t.qualityOfServiceSpecs);
  });
});

const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token = 'admin') => request(app, method, url, { body, token });

const bad = (message: string) => ({ badRequest: { code: 400, message } });
const notFound = (message: string) => ({ itemNotFound: { code: 404, message } });
const GENERIC_500 = { computeFault: { code: 500, message: 'The server has either erred or is incapable of performing the requested operation.' } };

async function create(name: string, specs: Record<string, unknown> = {}): Promise<string> {
  const r = await call('POST', BASE, { qos_specs: { name, ...specs } });
  expect(r.status).toBe(200);
  return r.json.qos_specs.id;
}

async function createType(name: string): Promise<string> {
  const id = crypto.randomUUID();
  await db.run((q) => q.insert(db.t.volumeTypes).values({ id, name, is_public: true, deleted: false, created_at: '2024-01-01 00:00:00.000000' }));
  return id;
}

async function typeQos(id: string): Promise<string | null> {
  const [row] = await db.run((q) => q.select({ qos: db.t.volumeTypes.qos_specs_id }).from(db.t.volumeTypes).where(eqId(id)));
  return row.qos;
}
const eqId = (id: string) => eq(db.t.volumeTypes.id, id);

describe('create (POST /qos-specs)', () => {
  it('answers the detail view with links; the consumer defaults to back-end', async () => {
    const r = await call('POST', BASE, { qos_specs: { name: 'noc', a: 'b' } });
    expect(r.status).toBe(200);
    const id = r.json.qos_specs.id;
    expect(r.json).toEqual({
      qos_specs: { id, name: 'noc', consumer: 'back-end', specs: { a: 'b' } },
      links: [
        { rel: 'self', href: `http://localhost/v3/${P}/qos-specs/${id}` },
        { rel: 'bookmark', href: `http://localhost/${P}/qos-specs/${id}` },
      ],
    });
    // The lead's reader (volume manager connection_info) sees the same.
    expect(await qosSpecsGet(db, id)).toMatchObject({ id, name: 'noc', consumer: 'back-end', specs: { a: 'b' } });
  });

  it('takes the consumer out of the specs, strips the name, drops null values', async () => {
    const r = await call('POST', BASE, { qos_specs: { name: '  spaced  ', consumer: 'both', k: null, total_iops_sec: '100' } });
    expect(r.status).toBe(200);
    expect(r.json.qos_specs).toMatchObject({ name: 'spaced', consumer: 'both', specs: { total_iops_sec: '100' } });
    const n = await call('POST', BASE, { qos_specs: { name: 'cn', consumer: null } });
    expect(n.json.qos_specs).toMatchObject({ consumer: 'back-end', specs: {} });
  });

  it('refuses an invalid consumer, a name in use and bad spec strings', async () => {
    await create('noc');
    expect((await call('POST', BASE, { qos_specs: { name: 'x', consumer: 'bogus' } })).json).toEqual(bad(CONSUMER_TEXT));
    expect((await call('POST', BASE, { qos_specs: { name: 'x', consumer: '' } })).json).toEqual(bad(CONSUMER_TEXT));
    const dup = await call('POST', BASE, { qos_specs: { name: '  noc  ' } });
    expect(dup.status).toBe(409);
    expect(dup.json).toEqual({ conflictingRequest: { code: 409, message: 'QoS Specs noc already exists.' } });
    expect((await call('POST', BASE, { qos_specs: { name: 'x', k: 5 } })).json).toEqual(
      bad('Invalid input received: Value for key "k" is not a string or unicode'),
    );
    expect((await call('POST', BASE, { qos_specs: { name: 'x', consumer: 5 } })).json).toEqual(
      bad('Invalid input received: Value for key "consumer" is not a string or unicode'),
    );
    expect((await call('POST', BASE, { qos_specs: { name: 'x', specs: { a: 'b' } } })).json).toEqual(
      bad('Invalid input received: Value for key "specs" is not a string or unicode'),
    );
    expect((await call('POST', BASE, { qos_specs: { name: 'x', '': 'v' } })).json).toEqual(
      bad('Invalid input received: Key "" has 0 characters, less than 1.'),
    );
    expect((await call('POST', BASE, { qos_specs: { name: 'x', ['a'.repeat(256)]: 'v' } })).json).toEqual(
      bad(`Invalid input received: Key "${'a'.repeat(256)}" has 256 characters, more than 255.`),
    );
    expect((await call('POST', BASE, { qos_specs: { name: 'x', a: 'v'.repeat(256) } })).json).toEqual(
      bad('Invalid input received: Value for key "a" has 256 characters, more than 255.'),
    );
  });

  it('validates the body with the schema’s texts', async () => {
    const cases: [unknown, string][] = [
      [{ qos_specs: { name: null } }, "Invalid input for field/attribute name. Value: None. None is not of type 'string'"],
      [{ qos_specs: { name: '' } }, "An invalid 'name' value was provided. The 'name' can not be None."],
      [{ qos_specs: { name: '   ' } }, "An invalid 'name' value was provided. The 'name' can not be empty."],
      [{ qos_specs: { name: 'n'.repeat(256) } }, "An invalid 'name' value was provided. The 'name' can not be greater than 255 characters."],
      [{ qos_specs: { name: 5 } }, "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'"],
      [{ qos_specs: 'string' }, "Invalid input for field/attribute qos_specs. Value: string. 'string' is not of type 'object'"],
      [{ foo: { a: 'b' } }, "'qos_specs' is a required property"],
      [{ qos_specs: { a: 'b' } }, "Invalid input for field/attribute qos_specs. Value: {'a': 'b'}. 'name' is a required property"],
      // the name's format is checked before the root's additionalProperties
      [{ qos_specs: { name: '' }, zz: 1 }, "An invalid 'name' value was provided. The 'name' can not be None."],
    ];
    for (const [body, message] of cases) {
      const r = await call('POST', BASE, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json).toEqual(bad(message));
    }
    const long = await call('POST', BASE, { qos_specs: { name: ` ${'n'.repeat(255)} ` } });
    expect(long.status).toBe(200);
    // Cinder's schema has a stray `type` property schema: a `type` key is a 500; no body is a KeyError.
    expect((await call('POST', BASE, { qos_specs: { name: 'tk' }, type: 'x' })).json).toEqual(GENERIC_500);
    expect((await call('POST', BASE)).json).toEqual(GENERIC_500);
  });
});

describe('show, update, delete_keys', () => {
  it('shows one; an unknown id is QoSSpecsNotFound, a key row’s id a 500', async () => {
    const id = await create('main', { consumer: 'front-end', read_iops_sec: '10', k2: 'v2' });
    const r = await call('GET', `${BASE}/${id}`);
    expect(r.json.qos_specs).toEqual({ id, name: 'main', consumer: 'front-end', specs: { read_iops_sec: '10', k2: 'v2' } });
    expect((await call('GET', `${BASE}/nope`)).json).toEqual(notFound('No such QoS spec nope.'));
    const [child] = await db.run((q) =>
      q.select({ id: db.t.qualityOfServiceSpecs.id }).from(db.t.qualityOfServiceSpecs).where(eq(db.t.qualityOfServiceSpecs.key, 'k2')),
    );
    expect((await call('GET', `${BASE}/${child.id}`)).json).toEqual(GENERIC_500);
    expect((await call('PUT', `${BASE}/${child.id}`, { qos_specs: { a: 'b' } })).json).toEqual(GENERIC_500);
    // A body on a method that takes none: webob's 400.
    expect((await call('GET', `${BASE}/${id}`, { a: 1 })).json).toEqual(
      bad('The server could not comply with the request since it is either malformed or otherwise incorrect.'),
    );
  });

  it('sets keys and the consumer, answering the request body; null values are kept for existing keys', async () => {
    const id = await create('main', { consumer: 'front-end', read_iops_sec: '10', k2: 'v2' });
    const u = await call('PUT', `${BASE}/${id}`, { qos_specs: { consumer: 'both', k2: null, k3: 'v3', newnull: null } });
    expect(u.status).toBe(200);
    expect(u.json).toEqual({ qos_specs: { consumer: 'both', k2: null, k3: 'v3', newnull: null } });
    expect((await call('GET', `${BASE}/${id}`)).json.qos_specs).toEqual({
      id, name: 'main', consumer: 'both', specs: { read_iops_sec: '10', k2: null, k3: 'v3' },
    });
    // consumer null: the field's default
    expect((await call('PUT', `${BASE}/${id}`, { qos_specs: { consumer: null } })).json).toEqual({ qos_specs: { consumer: null } });
    expect((await call('GET', `${BASE}/${id}`)).json.qos_specs.consumer).toBe('back-end');
    expect((await call('PUT', `${BASE}/${id}`, { qos_specs: { consumer: 'bogus' } })).json).toEqual(bad(CONSUMER_TEXT));
    expect((await call('PUT', `${BASE}/${id}`, { qos_specs: {} })).json).toEqual({ qos_specs: {} });
  });

  it('validates update bodies and finds the specs first', async () => {
    const id = await create('main');
    const cases: [unknown, string][] = [
      [{ qos_specs: { 'a b!': 'x' } }, "Invalid input for field/attribute qos_specs. Value: {'a b!': 'x'}. 'a b!' does not match any of the regexes: '^[a-zA-Z0-9-_:. /]{1,255}$'"],
      [{ qos_specs: { a: 5 } }, "Invalid input for field/attribute a. Value: 5. 5 is not of type 'string', 'null'"],
      [{ qos_specs: { a: 'x'.repeat(256) } }, `Invalid input for field/attribute a. Value: ${'x'.repeat(256)}. '${'x'.repeat(256)}' is too long`],
      [{ qos_specs: 'x' }, "Invalid input for field/attribute qos_specs. Value: x. 'x' is not of type 'object'"],
    ];
    for (const [body, message] of cases) expect((await call('PUT', `${BASE}/${id}`, body)).json).toEqual(bad(message));
    expect((await call('PUT', `${BASE}/nope`, { qos_specs: { a: 'b' } })).json).toEqual(notFound('No such QoS spec nope.'));
    expect((await call('PUT', `${BASE}/${id}`)).json).toEqual(GENERIC_500);
  });

  it('deletes keys in order up to the first one that is not set', async () => {
    const id = await create('main', { read_iops_sec: '10', k2: 'v2', k3: 'v3' });
    const r = await call('PUT', `${BASE}/${id}/delete_keys`, { keys: ['k3', 'foo', 'read_iops_sec'] });
    expect(r.status).toBe(404);
    expect(r.json).toEqual(notFound(`QoS spec ${id} has no spec with key foo.`));
    expect((await call('GET', `${BASE}/${id}`)).json.qos_specs.specs).toEqual({ read_iops_sec: '10', k2: 'v2' });
    expect((await call('PUT', `${BASE}/${id}/delete_keys`, { keys: ['consumer'] })).json).toEqual(
      notFound(`QoS spec ${id} has no spec with key consumer.`),
    );
    const ok = await call('PUT', `${BASE}/${id}/delete_keys`, { keys: ['read_iops_sec'] });
    expect(ok.status).toBe(202);
    expect(ok.body).toBe('');
    expect(ok.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect((await call('PUT', `${BASE}/${id}/delete_keys`, { keys: ['read_iops_sec'] })).status).toBe(404);
    expect((await call('PUT', `${BASE}/${id}/delete_keys`, { keys: [] })).status).toBe(202);
    // a deleted key set again is a new row
    expect((await call('PUT', `${BASE}/${id}`, { qos_specs: { read_iops_sec: '20' } })).status).toBe(200);
    expect((await call('GET', `${BASE}/${id}`)).json.qos_specs.specs).toEqual({ k2: 'v2', read_iops_sec: '20' });
  });

  it('validates delete_keys bodies', async () => {
    const id = await create('main');
    expect((await call('PUT', `${BASE}/${id}/delete_keys`, { keys: ['', null] })).json).toEqual(
      bad("Invalid input for field/attribute 0. Value: . '' is too short"),
    );
    expect((await call('PUT', `${BASE}/${id}/delete_keys`, { keys: ['a', 'a'] })).json).toEqual(
      bad("Invalid input for field/attribute keys. Value: ['a', 'a']. ['a', 'a'] has non-unique elements"),
    );
    expect((await call('PUT', `${BASE}/${id}/delete_keys`, {})).json).toEqual(bad("'keys' is a required property"));
    expect((await call('PUT', `${BASE}/nope/delete_keys`, { keys: ['a'] })).json).toEqual(notFound('No such QoS spec nope.'));
  });
});

describe('associations', () => {
  it('associates, lists, refuses another spec’s type, disassociates', async () => {
    const id = await create('main');
    const other = await create('other');
    const t1 = await createType('qt1');
    const t2 = await createType('qt2');
    const noType = bad('Volume Type id must not be None.');
    expect((await call('GET', `${BASE}/${id}/associate`)).json).toEqual(noType);
    expect((await call('GET', `${BASE}/${id}/associate?vol_type_id=`)).json).toEqual(noType);
    expect((await call('GET', `${BASE}/${id}/associate?vol_type_id=nope`)).json).toEqual(notFound('Volume type nope could not be found.'));
    expect((await call('GET', `${BASE}/nope/associate?vol_type_id=${t1}`)).json).toEqual(notFound('No such QoS spec nope.'));
    const a = await call('GET', `${BASE}/${id}/associate?vol_type_id=${t1}`);
    expect(a.status).toBe(202);
    expect(a.body).toBe('');
    expect((await call('GET', `${BASE}/${id}/associate?vol_type_id=${t1}`)).status).toBe(202);
    expect(await typeQos(t1)).toBe(id);
    expect((await call('GET', `${BASE}/${other}/associate?vol_type_id=${t1}`)).json).toEqual(
      bad(`Invalid volume type: Type ${t1} is already associated with another qos specs: ${id}`),
    );
    expect((await call('GET', `${BASE}/${id}/associations`)).json).toEqual({
      qos_associations: [{ association_type: 'volume_type', name: 'qt1', id: t1 }],
    });
    expect((await call('GET', `${BASE}/nope/associations`)).json).toEqual(notFound('No such QoS spec nope.'));

    expect((await call('GET', `${BASE}/${id}/disassociate`)).json).toEqual(noType);
    expect((await call('GET', `${BASE}/${id}/disassociate?vol_type_id=nope`)).json).toEqual(notFound('Volume type nope could not be found.'));
    expect((await call('GET', `${BASE}/nope/disassociate?vol_type_id=${t2}`)).json).toEqual(notFound('No such QoS spec nope.'));
    expect((await call('GET', `${BASE}/${id}/disassociate?vol_type_id=${t2}`)).status).toBe(202);
    expect(await typeQos(t1)).toBe(id);
    expect((await call('GET', `${BASE}/${id}/disassociate?vol_type_id=${t1}`)).status).toBe(202);
    expect((await call('GET', `${BASE}/${id}/associations`)).json).toEqual({ qos_associations: [] });

    await call('GET', `${BASE}/${id}/associate?vol_type_id=${t1}`);
    await call('GET', `${BASE}/${id}/associate?vol_type_id=${t2}`);
    expect((await call('GET', `${BASE}/${id}/disassociate_all`)).status).toBe(202);
    expect([await typeQos(t1), await typeQos(t2)]).toEqual([null, null]);
    expect((await call('GET', `${BASE}/nope/disassociate_all`)).json).toEqual(notFound('No such QoS spec nope.'));
  });
});

describe('delete', () => {
  it('refuses specs in use unless forced; force takes them off the types', async () => {
    const id = await create('main');
    const t1 = await createType('dt1');
    await call('GET', `${BASE}/${id}/associate?vol_type_id=${t1}`);
    expect((await call('DELETE', `${BASE}/${id}`)).json).toEqual(bad('Qos specs still in use.'));
    expect((await call('DELETE', `${BASE}/${id}?force=false`)).json).toEqual(bad('Qos specs still in use.'));
    expect((await call('DELETE', `${BASE}/${id}?force=maybe`)).json).toEqual(bad("Value 'maybe' for 'force' is not a boolean."));
    const r = await call('DELETE', `${BASE}/${id}?force=True`);
    expect(r.status).toBe(202);
    expect(r.body).toBe('');
    expect(await typeQos(t1)).toBeNull();
    expect((await call('GET', `${BASE}/${id}`)).json).toEqual(notFound(`No such QoS spec ${id}.`));
    expect((await call('DELETE', `${BASE}/${id}`)).json).toEqual(notFound(`No such QoS spec ${id}.`));
    expect(await qosSpecsGet(db, id)).toBeNull();
    expect(await qosSpecsGet(db, id, { inactive: true })).toMatchObject({ id, name: 'main' });
  });

  it('deletes specs nobody uses', async () => {
    const id = await create('free');
    expect((await call('DELETE', `${BASE}/${id}`)).status).toBe(202);
    expect((await call('GET', BASE)).json).toEqual({ qos_specs: [] });
  });
});

describe('index (GET /qos-specs)', () => {
  async function four(): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, n] of ['Qos_test_1', 'Qos_test_2', 'Qos_test_3', 'Qos_test_4'].entries()) {
      const id = await create(n, { consumer: 'back-end', key1: 'value1', key2: 'value2' });
      // distinct created_at, also on MariaDB's whole seconds
      await db.run((q) => q.update(db.t.qualityOfServiceSpecs).set({ created_at: `2024-01-0${i + 1} 00:00:00` }).where(eq(db.t.qualityOfServiceSpecs.id, id)));
      ids.push(id);
    }
    return ids;
  }

  it('lists newest first, pages with limit/offset/marker and links the next page', async () => {
    const [id1, id2, id3, id4] = await four();
    const all = await call('GET', BASE);
    expect(all.json.qos_specs.map((s: { id: string }) => s.id)).toEqual([id4, id3, id2, id1]);
    expect(all.json.qos_specs[0]).toEqual({ id: id4, name: 'Qos_test_4', consumer: 'back-end', specs: { key1: 'value1', key2: 'value2' } });
    expect(all.json.qos_specs_links).toBeUndefined();

    const lim = await call('GET', `${BASE}?limit=2`);
    expect(lim.json.qos_specs.map((s: { id: string }) => s.id)).toEqual([id4, id3]);
    expect(lim.json.qos_specs_links).toEqual([{ rel: 'next', href: `http://localhost/v3/${P}/qos-specs?limit=2&marker=${id3}` }]);
    expect((await call('GET', `${BASE}?offset=1`)).json.qos_specs).toHaveLength(3);
    expect((await call('GET', `${BASE}?limit=2&offset=1`)).json.qos_specs.map((s: { id: string }) => s.id)).toEqual([id3, id2]);
    expect((await call('GET', `${BASE}?marker=${id4}`)).json.qos_specs.map((s: { id: string }) => s.id)).toEqual([id3, id2, id1]);
    const asc = await call('GET', `${BASE}?limit=2&sort=created_at:asc`);
    expect(asc.json.qos_specs_links[0].href).toBe(`http://localhost/v3/${P}/qos-specs?limit=2&sort=created_at%3Aasc&marker=${id2}`);
    expect((await call('GET', `${BASE}?offset=356576877698707`)).json).toEqual(bad('offset must be <= 2147483647'));
    expect((await call('GET', `${BASE}?marker=nope`)).json).toEqual(notFound('No such QoS spec nope.'));
    expect((await call('GET', `${BASE}?marker=&limit=1`)).json).toEqual(notFound('No such QoS spec .'));
    expect((await call('GET', `${BASE}?limit=0`)).json).toEqual({ qos_specs: [] });
  });

  it('sorts by columns only and filters by columns only', async () => {
    const ids = await four();
    const sorted = [...ids].sort();
    expect((await call('GET', `${BASE}?sort=id`)).json.qos_specs.map((s: { id: string }) => s.id)).toEqual([...sorted].reverse());
    expect((await call('GET', `${BASE}?sort=id:asc`)).json.qos_specs.map((s: { id: string }) => s.id)).toEqual(sorted);
    expect((await call('GET', `${BASE}?sort=value:asc`)).json.qos_specs.map((s: { name: string }) => s.name)).toEqual([
      'Qos_test_1', 'Qos_test_2', 'Qos_test_3', 'Qos_test_4',
    ]);
    expect((await call('GET', `${BASE}?sort=name`)).json).toEqual(bad('Invalid input received: Invalid sort key'));
    expect((await call('GET', `${BASE}?sort=value:up`)).json).toEqual(bad("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'."));
    // filters: model columns compare; `name` and `consumer` are no columns, so nothing matches
    const byId = await call('GET', `${BASE}?id=${ids[3]}`);
    expect(byId.json.qos_specs.map((s: { id: string }) => s.id)).toEqual([ids[3]]);
    expect((await call('GET', `${BASE}?value=Qos_test_2`)).json.qos_specs.map((s: { id: string }) => s.id)).toEqual([ids[1]]);
    expect((await call('GET', `${BASE}?key=QoS_Specs_Name`)).json.qos_specs).toHaveLength(4);
    expect((await call('GET', `${BASE}?deleted=0`)).json.qos_specs).toHaveLength(4);
    for (const q of ['name=Qos_test_1', 'consumer=back-end', 'bogus=1', 'created_at=x', 'limit=1&limit=2']) {
      expect((await call('GET', `${BASE}?${q}`)).json, q).toEqual({ qos_specs: [] });
    }
    // the query's text is compared by the engine: SQLite keeps 'false' a string, MariaDB makes it 0
    expect((await call('GET', `${BASE}?deleted=false`)).json.qos_specs).toHaveLength(dbEngine() === 'mysql' ? 4 : 0);
    expect((await call('GET', `${BASE}?specs=x`)).json).toEqual(GENERIC_500);
    expect((await call('GET', `${BASE}?value~=Q`)).json).toEqual(GENERIC_500);
  });
});

describe('policy and routing', () => {
  it('every method is admin only (403 after the body is validated)', async () => {
    const id = await create('p');
    const forbidden = (rule: string) => ({ forbidden: { code: 403, message: `Policy doesn't allow volume_extension:qos_specs_manage:${rule} to be performed.` } });
    expect((await call('GET', BASE, undefined, 'member')).json).toEqual(forbidden('get_all'));
    expect((await call('GET', `${BASE}/${id}`, undefined, 'member')).json).toEqual(forbidden('get'));
    expect((await call('POST', BASE, { qos_specs: { name: 'm' } }, 'member')).json).toEqual(forbidden('create'));
    expect((await call('POST', BASE, { qos_specs: {} }, 'member')).status).toBe(400);
    expect((await call('PUT', `${BASE}/${id}`, { qos_specs: {} }, 'member')).json).toEqual(forbidden('update'));
    expect((await call('DELETE', `${BASE}/${id}`, undefined, 'member')).json).toEqual(forbidden('delete'));
    expect((await call('PUT', `${BASE}/${id}/delete_keys`, { keys: [] }, 'member')).json).toEqual(forbidden('delete'));
    expect((await call('GET', `${BASE}/${id}/associations`, undefined, 'member')).json).toEqual(forbidden('get_all'));
    for (const a of ['associate', 'disassociate', 'disassociate_all']) {
      expect((await call('GET', `${BASE}/${id}/${a}`, undefined, 'member')).json).toEqual(forbidden('update'));
    }
  });

  it('answers without the project in the URL, and 404s routes.Mapper’s new/edit', async () => {
    const id = await create('r');
    const r = await call('GET', `/v3/qos-specs/${id}`);
    expect(r.status).toBe(200);
    expect(r.json.links[0].href).toBe(`http://localhost/v3/qos-specs/${id}`);
    expect((await call('GET', '/v3/aaaa/qos-specs')).json).toEqual(bad('Malformed request url'));
    const gone = notFound('The resource could not be found.');
    expect((await call('GET', `${BASE}/new`)).json).toEqual(gone);
    expect((await call('GET', `${BASE}/${id}/edit`)).json).toEqual(gone);
  });
});
