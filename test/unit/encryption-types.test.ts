// /v3/{project_id}/types/{type_id}/encryption on a test database, through the Fastify app: what
// Cinder 21.3.1's VolumeTypeEncryptionController (cinder/api/contrib/volume_type_encryption.py)
// answers, as its unit tests (cinder/tests/unit/api/contrib/test_volume_type_encryption.py) check
// it and as the real controller answered the same requests on its own SQLite database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../src/db/client.js';
import { isEncrypted, volumeTypeEncryptionGet } from '../../src/db/encryption.js';
import { appOnFreshDb, request, tokenAuthenticator } from '../support/api.js';

const P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';

let db: Db;
let app: FastifyInstance;
let close: () => Promise<void>;
/** Tokens `admin` and `member` of project P; the database on CINDER_TS_DB_ENGINE's engine. */
beforeAll(async () => {
  ({ db, app, close } = await appOnFreshDb(tokenAuthenticator(P)));
});
afterAll(() => close());

const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token = 'admin') => request(app, method, url, { body, token });

const bad = (message: string) => ({ badRequest: { code: 400, message } });
const notFound = (message: string) => ({ itemNotFound: { code: 404, message } });
const GENERIC_500 = { computeFault: { code: 500, message: 'The server has either erred or is incapable of performing the requested operation.' } };
const good = { provider: 'luks', control_location: 'front-end', cipher: 'aes-xts-plain64', key_size: 256 };

async function createType(): Promise<string> {
  const id = randomUUID();
  await db.run((q) => q.insert(db.t.volumeTypes).values({ id, name: `t-${id}`, is_public: true, deleted: false, created_at: '2024-01-01 00:00:00.000000' }));
  return id;
}

/** A live volume of another project with the type (the in-use check looks at every project). */
async function addVolume(typeId: string): Promise<string> {
  const id = randomUUID();
  await db.run((q) =>
    q.insert(db.t.volumes).values({ id, project_id: 'otherproj', volume_type_id: typeId, status: 'available', size: 1, deleted: false, created_at: '2024-01-01 00:00:00.000000' }),
  );
  return id;
}
const setVolumeDeleted = (id: string, deleted: boolean) => db.run((q) => q.update(db.t.volumes).set({ deleted }).where(eq(db.t.volumes.id, id)));

const url = (typeId: string, rest = '') => `/v3/${P}/types/${typeId}/encryption${rest}`;

describe('create and show', () => {
  it('creates, answering the body with key_size as int and the ids Cinder fills in', async () => {
    const t = await createType();
    expect((await call('GET', url(t))).json).toEqual({});
    expect(await isEncrypted(db, t)).toBe(false);
    expect((await call('GET', url(t, '/provider'))).json).toEqual(notFound(`Volume type encryption for type ${t} does not exist.`));

    const r = await call('POST', url(t), { encryption: { ...good, key_size: '256', extra: 'e' } });
    expect(r.status).toBe(200);
    const row = await volumeTypeEncryptionGet(db, t);
    expect(row).not.toBeNull();
    expect(r.json).toEqual({
      encryption: { ...good, key_size: 256, extra: 'e', volume_type_id: t, encryption_id: row!.encryption_id },
    });
    expect(Object.keys(r.json.encryption)).toEqual(['provider', 'control_location', 'cipher', 'key_size', 'extra', 'volume_type_id', 'encryption_id']);
    expect(await isEncrypted(db, t)).toBe(true);

    const index = await call('GET', url(t));
    expect(index.status).toBe(200);
    expect(Object.keys(index.json)).toEqual([
      'created_at', 'updated_at', 'deleted_at', 'deleted', 'encryption_id', 'cipher', 'key_size', 'provider', 'control_location', 'volume_type_id',
    ]);
    expect(index.json).toMatchObject({ updated_at: null, deleted_at: null, deleted: false, encryption_id: row!.encryption_id, ...good, volume_type_id: t });
    expect(index.json.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);

    expect((await call('GET', url(t, '/provider'))).json).toEqual({ provider: 'luks' });
    expect((await call('GET', url(t, '/key_size'))).json).toEqual({ key_size: 256 });
    expect((await call('GET', url(t, '/deleted'))).json).toEqual({ deleted: false });
    expect((await call('GET', url(t, '/created_at'))).json).toEqual({ created_at: index.json.created_at });
    for (const k of ['extra', 'foo', 'volume_type', row!.encryption_id]) {
      expect((await call('GET', url(t, `/${k}`))).json).toEqual(notFound(`Volume type encryption for type ${t} does not exist.`));
    }
    expect((await call('POST', url(t), { encryption: good })).json).toEqual(bad(`Volume type encryption for type ${t} already exists.`));
  });

  it('checks the type exists (VolumeTypeNotFound)', async () => {
    const gone = notFound('Volume type nope could not be found.');
    expect((await call('GET', url('nope'))).json).toEqual(gone);
    expect((await call('GET', url('nope', '/provider'))).json).toEqual(gone);
    expect((await call('POST', url('nope'), { encryption: good })).json).toEqual(gone);
    expect((await call('PUT', url('nope', '/x'), { encryption: { provider: 'a' } })).json).toEqual(gone);
    // delete does not look at the type
    expect((await call('DELETE', url('nope', '/x'))).json).toEqual(notFound('Volume type encryption for type nope does not exist.'));
  });

  it('validates bodies with the schema’s texts', async () => {
    const t = await createType();
    const cases: [unknown, string][] = [
      [{ encryption: { control_location: 'front-end' } }, "Invalid input for field/attribute encryption. Value: {'control_location': 'front-end'}. 'provider' is a required property"],
      [{ encryption: { provider: 'luks' } }, "Invalid input for field/attribute encryption. Value: {'provider': 'luks'}. 'control_location' is a required property"],
      [{ encryption: { provider: 'luks', control_location: 'middle' } }, "Invalid input for field/attribute control_location. Value: middle. 'middle' is not one of ['front-end', 'back-end']"],
      [{ encryption: { provider: 'luks', control_location: null } }, "Invalid input for field/attribute control_location. Value: None. None is not one of ['front-end', 'back-end']"],
      [{ encryption: { provider: 5, control_location: 'front-end' } }, "Invalid input for field/attribute provider. Value: 5. 5 is not of type 'string'"],
      [{ encryption: { ...good, key_size: 'abc' } }, 'Invalid input received: key_size must be an integer.'],
      [{ encryption: { ...good, key_size: -1 } }, 'Invalid input for field/attribute key_size. Value: -1. -1 is less than the minimum of 0'],
      [{ encryption: { ...good, key_size: '-1' } }, 'Invalid input for field/attribute key_size. Value: -1. -1 is less than the minimum of 0'],
      [{ encryption: { ...good, key_size: 1.5 } }, "Invalid input for field/attribute key_size. Value: 1.5. 1.5 is not of type 'string', 'integer', 'null'"],
      [{ encryption: { ...good, key_size: '1.5' } }, 'Invalid input received: key_size must be an integer.'],
      [{ encryption: { ...good, key_size: ' 5' } }, 'Invalid input received: key_size must be an integer.'],
      [{ encryption: { ...good, key_size: true } }, "Invalid input for field/attribute key_size. Value: True. True is not of type 'string', 'integer', 'null'"],
      [{ encryption: { ...good, key_size: 2 ** 31 } }, 'Invalid input for field/attribute key_size. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647'],
      [{ encryption: { ...good, cipher: 5 } }, "Invalid input for field/attribute cipher. Value: 5. 5 is not of type 'string', 'null'"],
      [{ encryption: 'x' }, "Invalid input for field/attribute encryption. Value: x. 'x' is not of type 'object'"],
      [{ encryption: good, x: 1 }, "Additional properties are not allowed ('x' was unexpected)"],
      [{ x: 1 }, "'encryption' is a required property"],
    ];
    for (const [body, message] of cases) {
      const r = await call('POST', url(t), body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json).toEqual(bad(message));
    }
    expect((await call('POST', url(t))).json).toEqual(GENERIC_500);
    expect((await call('PUT', url(t, '/x'))).json).toEqual(GENERIC_500);
    expect((await call('PUT', url(t, '/x'), { encryption: { control_location: 'x' } })).json).toEqual(
      bad("Invalid input for field/attribute control_location. Value: x. 'x' is not one of ['front-end', 'back-end']"),
    );
  });
});

describe('update and delete', () => {
  it('updates given columns and answers the body', async () => {
    const t = await createType();
    await call('POST', url(t), { encryption: good });
    const r = await call('PUT', url(t, '/whatever'), { encryption: { key_size: '512', cipher: null } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ encryption: { key_size: 512, cipher: null } });
    const index = (await call('GET', url(t))).json;
    expect(index).toMatchObject({ key_size: 512, cipher: null, provider: 'luks' });
    expect(index.updated_at).not.toBeNull();
    expect((await call('PUT', url(t, '/x'), { encryption: {} })).json).toEqual({ encryption: {} });
    // a key that is no column: SQLAlchemy's error
    expect((await call('PUT', url(t, '/x'), { encryption: { foo: 'bar' } })).json).toEqual(GENERIC_500);
  });

  it('refuses create, update and delete while the type has live volumes (any project’s)', async () => {
    const t = await createType();
    await call('POST', url(t), { encryption: good });
    const v = await addVolume(t);
    expect((await call('PUT', url(t, '/x'), { encryption: { provider: 'p3' } })).json).toEqual(bad('Cannot update encryption specs. Volume type in use.'));
    expect((await call('DELETE', url(t, '/x'))).json).toEqual(bad('Cannot delete encryption specs. Volume type in use.'));
    // in use is checked before the existing encryption
    expect((await call('POST', url(t), { encryption: good })).json).toEqual(bad('Cannot create encryption specs. Volume type in use.'));
    // the schema is checked first
    expect((await call('POST', url(t), { encryption: {} })).json).toEqual(
      bad("Invalid input for field/attribute encryption. Value: {}. 'provider' is a required property"),
    );
    await setVolumeDeleted(v, true);
    const d = await call('DELETE', url(t, '/provider'));
    expect(d.status).toBe(202);
    expect(d.body).toBe('');
    expect(d.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect((await call('DELETE', url(t, '/provider'))).json).toEqual(notFound(`Volume type encryption for type ${t} does not exist.`));
    expect((await call('GET', url(t))).json).toEqual({});
    expect(await isEncrypted(db, t)).toBe(false);
    expect((await call('PUT', url(t, '/x'), { encryption: { provider: 'p4' } })).json).toEqual(
      notFound(`Volume type encryption for type ${t} does not exist.`),
    );
    const again = await call('POST', url(t), { encryption: { provider: 'luks', control_location: 'back-end' } });
    expect(again.status).toBe(200);
    expect((await call('GET', url(t))).json).toMatchObject({ provider: 'luks', control_location: 'back-end', cipher: null, key_size: null });

    const t2 = await createType();
    await addVolume(t2);
    expect((await call('POST', url(t2), { encryption: good })).json).toEqual(bad('Cannot create encryption specs. Volume type in use.'));
  });
});

describe('policy and routing', () => {
  it('is admin only', async () => {
    const t = await createType();
    const forbidden = (rule: string) => ({ forbidden: { code: 403, message: `Policy doesn't allow volume_extension:volume_type_encryption:${rule} to be performed.` } });
    expect((await call('GET', url(t), undefined, 'member')).json).toEqual(forbidden('get'));
    expect((await call('GET', url(t, '/provider'), undefined, 'member')).json).toEqual(forbidden('get'));
    expect((await call('POST', url(t), { encryption: good }, 'member')).json).toEqual(forbidden('create'));
    expect((await call('POST', url(t), { encryption: {} }, 'member')).status).toBe(400);
    expect((await call('PUT', url(t, '/provider'), { encryption: {} }, 'member')).json).toEqual(forbidden('update'));
    expect((await call('DELETE', url(t, '/provider'), undefined, 'member')).json).toEqual(forbidden('delete'));
  });

  it('answers without the project in the URL; new/edit and a body on GET are Cinder’s errors', async () => {
    const t = await createType();
    expect((await call('GET', `/v3/types/${t}/encryption`)).json).toEqual({});
    expect((await call('GET', url(t, '/new'))).json).toEqual(notFound('The resource could not be found.'));
    expect((await call('GET', url(t, '/provider/edit'))).json).toEqual(notFound('The resource could not be found.'));
    expect((await call('GET', url(t), { a: 1 })).json).toEqual(
      bad('The server could not comply with the request since it is either malformed or otherwise incorrect.'),
    );
  });
});
