// Request-body validation: Cinder's exact 400 texts (first jsonschema error in keyword order, Python
// repr of the values). Every expected text below was produced by Cinder 21.3.1's own validator on
// the same body. The schema runs before the volume lookup, so the volume API given to the app
// throws on any call: a 400 here also proves nothing was looked up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { parseConfig } from '../../src/common/config.js';
import type { VolumeApiSurface } from '../../src/volume-api/api.js';
import { VolumeTypeNotFound, VolumeTypeNotFoundByName } from '../../src/common/exceptions.js';
import { isUuidLike } from '../../src/common/uuid.js';

const V = '4b1e8f6c-1111-2222-3333-444455556666';
const HDRS = { host: 'localhost', 'x-auth-token': 'u:abc', 'content-type': 'application/json' };

function unreachableApi(): VolumeApiSurface {
  const fail = () => {
    throw new Error('must not be reached');
  };
  return {
    // An unknown type is all a type lookup can find here (the 404s the controller gives).
    getVolumeType: async (_ctx, n) => {
      throw isUuidLike(n) ? new VolumeTypeNotFound({ volume_type_id: n }) : new VolumeTypeNotFoundByName({ volume_type_name: n });
    },
    get: fail, getAll: fail, create: fail, delete: fail, reserveVolume: fail, unreserveVolume: fail,
    beginDetaching: fail, rollDetaching: fail, attach: fail, detach: fail, initializeConnection: fail,
    terminateConnection: fail,
  };
}

let app: FastifyInstance;
beforeAll(() => {
  app = buildApp({ volumeApi: unreachableApi(), config: parseConfig('[DEFAULT]\nauth_strategy = noauth\n'), logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await app.close();
});

async function badRequest(url: string, raw: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await app.inject({ method: 'POST', url, headers: { ...HDRS, ...headers }, payload: raw });
  expect(res.statusCode, res.body).toBe(400);
  const body = JSON.parse(res.body);
  expect(Object.keys(body)).toEqual(['badRequest']);
  expect(body.badRequest.code).toBe(400);
  return body.badRequest.message;
}

const action = (raw: string) => badRequest(`/v3/abc/volumes/${V}/action`, raw);
const create = (raw: string, headers?: Record<string, string>) => badRequest('/v3/abc/volumes', raw, headers);

describe('spec 1.0 verified examples, verbatim', () => {
  it.each([
    ['{"os-detach": {"attachment_id": "bogus"}}', "Invalid input for field/attribute attachment_id. Value: bogus. 'bogus' is not valid under any of the given schemas"],
    ['{"os-detach": {"foo": 1}}', "Invalid input for field/attribute os-detach. Value: {'foo': 1}. Additional properties are not allowed ('foo' was unexpected)"],
    ['{"os-detach": "x"}', "Invalid input for field/attribute os-detach. Value: x. 'x' is not of type 'object', 'null'"],
    ['{"os-terminate_connection": {}}', "Invalid input for field/attribute os-terminate_connection. Value: {}. 'connector' is a required property"],
    ['{"os-terminate_connection": {"connector": 5}}', "Invalid input for field/attribute connector. Value: 5. 5 is not of type 'string', 'object', 'null'"],
    ['{"os-attach": {"mountpoint": "/dev/vdb"}}', "Invalid input for field/attribute os-attach. Value: {'mountpoint': '/dev/vdb'}. {'mountpoint': '/dev/vdb'} is not valid under any of the given schemas"],
    ['{"os-attach": {"mountpoint": "/dev/vdb", "instance_uuid": "x"}}', "Invalid input for field/attribute instance_uuid. Value: x. 'x' is not a 'uuid'"],
  ])('%s', async (raw, message) => {
    expect(await action(raw)).toBe(message);
  });
});

describe('os-attach', () => {
  it.each([
    ['{"os-attach": {}}', "Invalid input for field/attribute os-attach. Value: {}. 'mountpoint' is a required property"],
    ['{"os-attach": {"mountpoint": "", "host_name": "h"}}', "Invalid input for field/attribute mountpoint. Value: . '' is too short"],
    ['{"os-attach": {"mountpoint": "/d", "host_name": "h", "mode": "rx"}}', "Invalid input for field/attribute mode. Value: rx. 'rx' is not one of ['rw', 'ro']"],
    // anyOf is satisfied, additionalProperties comes next
    ['{"os-attach": {"mountpoint": "/d", "host_name": "h", "foo": 1}}', "Invalid input for field/attribute os-attach. Value: {'mountpoint': '/d', 'host_name': 'h', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)"],
    // anyOf is checked before additionalProperties
    ['{"os-attach": {"mountpoint": "/d", "foo": 1}}', "Invalid input for field/attribute os-attach. Value: {'mountpoint': '/d', 'foo': 1}. {'mountpoint': '/d', 'foo': 1} is not valid under any of the given schemas"],
    // properties (schema order: instance_uuid first) before required
    ['{"os-attach": {"mountpoint": "", "instance_uuid": "x"}}', "Invalid input for field/attribute instance_uuid. Value: x. 'x' is not a 'uuid'"],
    ['{"os-attach": {"mountpoint": "/d", "host_name": null}}', "Invalid input for field/attribute host_name. Value: None. None is not of type 'string'"],
    ['{"os-attach": {"mountpoint": "it\'s", "host_name": 5}}', "Invalid input for field/attribute host_name. Value: 5. 5 is not of type 'string'"],
    ['{"os-attach": null}', "Invalid input for field/attribute os-attach. Value: None. None is not of type 'object'"],
    ['{"os-attach": []}', "Invalid input for field/attribute os-attach. Value: []. [] is not of type 'object'"],
  ])('%s', async (raw, message) => {
    expect(await action(raw)).toBe(message);
  });

  it('reports a 256-character mountpoint as too long', async () => {
    const mp = 'x'.repeat(256);
    expect(await action(`{"os-attach": {"mountpoint": "${mp}", "host_name": "h"}}`)).toBe(
      `Invalid input for field/attribute mountpoint. Value: ${mp}. '${mp}' is too long`,
    );
  });

  it('counts characters, not UTF-16 units (255 emoji fit)', async () => {
    const mp = '\u{1F600}'.repeat(255);
    const res = await app.inject({
      method: 'POST',
      url: `/v3/abc/volumes/${V}/action`,
      headers: HDRS,
      payload: JSON.stringify({ 'os-attach': { mountpoint: mp, host_name: 'h' } }),
    });
    // valid body: the lookup is reached, and the stand-in throws (500)
    expect(res.statusCode).toBe(500);
  });
});

describe('os-detach', () => {
  it.each([
    ['{"os-detach": {"b": 1, "1": 2}}', "Invalid input for field/attribute os-detach. Value: {'b': 1, '1': 2}. Additional properties are not allowed ('1', 'b' were unexpected)"],
    ['{"os-detach": {"1": 1, "b": 2, "a": 3}}', "Invalid input for field/attribute os-detach. Value: {'1': 1, 'b': 2, 'a': 3}. Additional properties are not allowed ('1', 'a', 'b' were unexpected)"],
    ['{"os-detach": {"x": 1.0, "a": 1}}', "Invalid input for field/attribute os-detach. Value: {'x': 1.0, 'a': 1}. Additional properties are not allowed ('a', 'x' were unexpected)"],
    ['{"os-detach": []}', "Invalid input for field/attribute os-detach. Value: []. [] is not of type 'object', 'null'"],
    ['{"os-detach": [1, "a"]}', "Invalid input for field/attribute os-detach. Value: [1, 'a']. [1, 'a'] is not of type 'object', 'null'"],
    ['{"os-detach": 5}', "Invalid input for field/attribute os-detach. Value: 5. 5 is not of type 'object', 'null'"],
    ['{"os-detach": true}', "Invalid input for field/attribute os-detach. Value: True. True is not of type 'object', 'null'"],
    ['{"os-detach": "it\'s"}', 'Invalid input for field/attribute os-detach. Value: it\'s. "it\'s" is not of type \'object\', \'null\''],
    ['{"os-detach": {"attachment_id": 5}}', 'Invalid input for field/attribute attachment_id. Value: 5. 5 is not valid under any of the given schemas'],
    ['{"os-detach": {"attachment_id": true}}', 'Invalid input for field/attribute attachment_id. Value: True. True is not valid under any of the given schemas'],
    ['{"os-detach": {"attachment_id": ""}}', "Invalid input for field/attribute attachment_id. Value: . '' is not valid under any of the given schemas"],
    ['{"os-detach": {"attachment_id": "it\'s \\"q\\""}}', 'Invalid input for field/attribute attachment_id. Value: it\'s "q". \'it\\\'s "q"\' is not valid under any of the given schemas'],
    ['{"os-detach": {"attachment_id": {"a": [1, true, null, "x", false, {}]}}}', "Invalid input for field/attribute attachment_id. Value: {'a': [1, True, None, 'x', False, {}]}. {'a': [1, True, None, 'x', False, {}]} is not valid under any of the given schemas"],
    // Python floats and ints as json.loads reads them
    ['{"os-detach": {"attachment_id": 1.0}}', 'Invalid input for field/attribute attachment_id. Value: 1.0. 1.0 is not valid under any of the given schemas'],
    ['{"os-detach": {"attachment_id": 1e100}}', 'Invalid input for field/attribute attachment_id. Value: 1e+100. 1e+100 is not valid under any of the given schemas'],
    ['{"os-detach": {"attachment_id": 1.5e-7}}', 'Invalid input for field/attribute attachment_id. Value: 1.5e-07. 1.5e-07 is not valid under any of the given schemas'],
    ['{"os-detach": {"attachment_id": 1e15}}', 'Invalid input for field/attribute attachment_id. Value: 1000000000000000.0. 1000000000000000.0 is not valid under any of the given schemas'],
    ['{"os-detach": {"attachment_id": -0.0}}', 'Invalid input for field/attribute attachment_id. Value: -0.0. -0.0 is not valid under any of the given schemas'],
    ['{"os-detach": {"attachment_id": 12345678901234567890}}', 'Invalid input for field/attribute attachment_id. Value: 12345678901234567890. 12345678901234567890 is not valid under any of the given schemas'],
    ['{"os-detach": {"attachment_id": -Infinity}}', 'Invalid input for field/attribute attachment_id. Value: -inf. -inf is not valid under any of the given schemas'],
  ])('%s', async (raw, message) => {
    expect(await action(raw)).toBe(message);
  });

  it.each([
    [`{12345678-1234-1234-1234-123456789012}`],
    [`urn:uuid:12345678-1234-1234-1234-123456789012`],
    [`12345678123412341234123456789012`],
    [`1234-5678-1234-1234-1234-123456789012`],
    [`ABCDEF78-1234-1234-1234-123456789012`],
  ])('accepts what oslo is_uuid_like accepts: %s (the lookup is reached)', async (id) => {
    const res = await app.inject({
      method: 'POST',
      url: `/v3/abc/volumes/${V}/action`,
      headers: HDRS,
      payload: JSON.stringify({ 'os-detach': { attachment_id: id } }),
    });
    expect(res.statusCode).toBe(500);
  });

  it('lets {"os-detach": null} and {"attachment_id": null} through the schema', async () => {
    for (const payload of ['{"os-detach": null}', '{"os-detach": {"attachment_id": null}}', '{"os-detach": {}}']) {
      const res = await app.inject({ method: 'POST', url: `/v3/abc/volumes/${V}/action`, headers: HDRS, payload });
      expect(res.statusCode).toBe(500); // reached the (throwing) volume lookup
    }
  });
});

describe('os-initialize_connection / os-terminate_connection', () => {
  it.each([
    ['{"os-initialize_connection": {}}', "Invalid input for field/attribute os-initialize_connection. Value: {}. 'connector' is a required property"],
    ['{"os-initialize_connection": {"connector": null}}', "Invalid input for field/attribute connector. Value: None. None is not of type 'object', 'string'"],
    ['{"os-initialize_connection": null}', "Invalid input for field/attribute os-initialize_connection. Value: None. None is not of type 'object'"],
    ['{"os-initialize_connection": {"connector": {}, "x": 1, "a": 2}}', "Invalid input for field/attribute os-initialize_connection. Value: {'connector': {}, 'x': 1, 'a': 2}. Additional properties are not allowed ('a', 'x' were unexpected)"],
    ['{"os-terminate_connection": {"connector": {}, "force": true}}', "Invalid input for field/attribute os-terminate_connection. Value: {'connector': {}, 'force': True}. Additional properties are not allowed ('force' was unexpected)"],
    ['{"os-terminate_connection": {"connector": [1, 2.5]}}', "Invalid input for field/attribute connector. Value: [1, 2.5]. [1, 2.5] is not of type 'string', 'object', 'null'"],
  ])('%s', async (raw, message) => {
    expect(await action(raw)).toBe(message);
  });

  it('accepts a string connector for both and null for terminate (the lookup is reached)', async () => {
    for (const payload of [
      '{"os-initialize_connection": {"connector": "iqn"}}',
      '{"os-terminate_connection": {"connector": null}}',
      '{"os-terminate_connection": {"connector": "x"}}',
    ]) {
      const res = await app.inject({ method: 'POST', url: `/v3/abc/volumes/${V}/action`, headers: HDRS, payload });
      expect(res.statusCode).toBe(500);
    }
  });
});

describe('POST /volumes (spec 1.4)', () => {
  const MULTIATTACH =
    'multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.';

  it.each([
    ['{"volume": {"size": 0}}', 'Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1'],
    ['{"volume": {"size": "0"}}', 'Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1'],
    ['{"volume": {"size": -1}}', 'Invalid input for field/attribute size. Value: -1. -1 is less than the minimum of 1'],
    ['{"volume": {"size": "abc"}}', "Invalid input for field/attribute size. Value: abc. 'abc' does not match '^[0-9]+$'"],
    ['{"volume": {"size": " 5"}}', "Invalid input for field/attribute size. Value:  5. ' 5' does not match '^[0-9]+$'"],
    ['{"volume": {"size": 1.5}}', "Invalid input for field/attribute size. Value: 1.5. 1.5 is not of type 'integer', 'string', 'null'"],
    ['{"volume": {"size": 1.0}}', "Invalid input for field/attribute size. Value: 1.0. 1.0 is not of type 'integer', 'string', 'null'"],
    ['{"volume": {"size": true}}', "Invalid input for field/attribute size. Value: True. True is not of type 'integer', 'string', 'null'"],
    ['{"volume": {"size": 2147483648}}', 'Invalid input for field/attribute size. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647'],
    ['{"volume": {"size": "99999999999"}}', 'Invalid input for field/attribute size. Value: 99999999999. 99999999999 is greater than the maximum of 2147483647'],
    ['{"volume": {"size": 1, "multiattach": true}}', MULTIATTACH],
    ['{"volume": {"size": 1, "multiattach": "yes"}}', MULTIATTACH],
    ['{"volume": {"size": 1, "multiattach": null}}', "Value 'None' for 'multiattach' is not a boolean."],
    ['{"volume": {"size": 1, "multiattach": "bogus"}}', "Invalid input for field/attribute multiattach. Value: bogus. 'bogus' is not valid under any of the given schemas"],
    ['{"volume": {}}', 'The server could not comply with the request since it is either malformed or otherwise incorrect.'],
    ['{"volume": {"name": "x"}}', 'The server could not comply with the request since it is either malformed or otherwise incorrect.'],
    ['{"volume": null}', "Invalid input for field/attribute volume. Value: None. None is not of type 'object'"],
    ['{"volume": "x"}', "Invalid input for field/attribute volume. Value: x. 'x' is not of type 'object'"],
    ['{}', "'volume' is a required property"],
    ['{"vol": {}}', "'volume' is a required property"],
    ['{"volume": {"size": 1}, "foo": 1}', "Additional properties are not allowed ('foo' was unexpected)"],
    ['{"volume": {"size": 1}, "b": 1, "a": 2}', "Additional properties are not allowed ('a', 'b' were unexpected)"],
    ['[]', "[] is not of type 'object'"],
    ['null', "None is not of type 'object'"],
    [`{"volume": {"size": 1, "name": "${'a'.repeat(256)}"}}`, 'Invalid input received: name has 256 characters, more than 255.'],
    [`{"volume": {"size": 1, "description": "${'a'.repeat(256)}"}}`, 'Invalid input received: description has 256 characters, more than 255.'],
    ['{"volume": {"size": 1, "name": 5}}', "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string', 'null'"],
    ['{"volume": {"size": 1, "availability_zone": null, "description": 5}}', "Invalid input for field/attribute description. Value: 5. 5 is not of type 'string', 'null'"],
    ['{"volume": {"size": 1, "metadata": {"a b!": "x"}}}', "Invalid input for field/attribute metadata. Value: {'a b!': 'x'}. 'a b!' does not match any of the regexes: '^[a-zA-Z0-9-_:. /]{1,255}$'"],
    ['{"volume": {"size": 1, "metadata": {"x!": 1, "y!": 2}}}', "Invalid input for field/attribute metadata. Value: {'x!': 1, 'y!': 2}. 'x!', 'y!' do not match any of the regexes: '^[a-zA-Z0-9-_:. /]{1,255}$'"],
    ['{"volume": {"size": 1, "metadata": {"ok": 1, "b!": "x"}}}', "Invalid input for field/attribute ok. Value: 1. 1 is not of type 'string'"],
    ['{"volume": {"size": 1, "metadata": []}}', "Invalid input for field/attribute metadata. Value: []. [] is not of type 'object', 'null'"],
    ['{"volume": {"size": 1, "snapshot_id": "x"}}', "Invalid input for field/attribute snapshot_id. Value: x. 'x' is not valid under any of the given schemas"],
    ['{"volume": {"size": 1, "consistencygroup_id": "x", "source_volid": "y"}}', "Invalid input for field/attribute source_volid. Value: y. 'y' is not valid under any of the given schemas"],
    ['{"volume": {"size": 1, "availability_zone": ""}}', "Invalid input for field/attribute availability_zone. Value: . '' is too short"],
    ['{"volume": {"size": 1, "imageRef": 5}}', "Invalid input for field/attribute imageRef. Value: 5. 5 is not of type 'string', 'null'"],
    ['{"volume": {"size": 1, "volume_type": 5}}', "Invalid input for field/attribute volume_type. Value: 5. 5 is not of type 'string', 'null'"],
    ['{"volume": {"size": 1}, "OS-SCH-HNT:scheduler_hints": 5}', "Invalid input for field/attribute OS-SCH-HNT:scheduler_hints. Value: 5. 5 is not of type 'object', 'null'"],
    ['{"volume": {"size": 1}, "OS-SCH-HNT:scheduler_hints": {"same_host": "x"}}', "Invalid input for field/attribute same_host. Value: x. 'x' is not valid under any of the given schemas"],
    ['{"volume": {"size": 1, "imageRef": "abc"}}', 'Invalid image identifier or unable to access requested image.'],
  ])('%s', async (raw, message) => {
    expect(await create(raw)).toBe(message);
  });

  it('rejects unknown volume keys only from 3.53', async () => {
    const raw = `{"volume": {"size": 1, "foo": "bar", "snapshot_id": "${V}"}}`;
    expect(await create(raw, { 'openstack-api-version': 'volume 3.53' })).toBe(
      `Invalid input for field/attribute volume. Value: {'size': 1, 'foo': 'bar', 'snapshot_id': '${V}'}. Additional properties are not allowed ('foo' was unexpected)`,
    );
    const res = await app.inject({ method: 'POST', url: '/v3/abc/volumes', headers: { ...HDRS, 'openstack-api-version': 'volume 3.52' }, payload: raw });
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ itemNotFound: { code: 404, message: `Snapshot ${V} could not be found.` } });
  });

  it.each([
    [`{"volume": {"size": 1, "snapshot_id": "${V}", "multiattach": true}}`, `Snapshot ${V} could not be found.`],
    [`{"volume": {"size": 1, "consistencygroup_id": "${V}"}}`, `Group ${V} could not be found.`],
    ['{"volume": {"size": 1, "group_id": "x"}}', 'Group x could not be found.'],
    ['{"volume": {"size": 1, "backup_id": "x"}}', 'Backup x could not be found.'],
    ['{"volume": {"size": 1, "volume_type": "nope"}}', 'Volume type with name nope could not be found.'],
    [`{"volume": {"size": 1, "volume_type": "${V}"}}`, `Volume type ${V} could not be found.`],
  ])('things this port does not have are not found: %s', async (payload, message) => {
    const res = await app.inject({ method: 'POST', url: '/v3/abc/volumes', headers: HDRS, payload });
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ itemNotFound: { code: 404, message } });
  });
});
