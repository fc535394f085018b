// cinder-api's common pipeline, decided before the volume API is reached: version header, content
// type, action dispatch, URL project check, routing, noauth, size limit, and the headers Cinder puts
// on each kind of answer. Expected texts/headers were observed on Cinder 21.3.1 (WSGI stack
// RequestId → FaultWrapper → sizelimit → NoAuth → v3 router). The volume API given to the app throws
// on every call: a test that expects a 4xx proves the pipeline stopped before it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { parseConfig } from '../../src/common/config.js';
import type { VolumeApiSurface } from '../../src/volume-api/api.js';

const V = '4b1e8f6c-1111-2222-3333-444455556666';
const ACTION = `/v3/abc/volumes/${V}/action`;
const JSON_HDRS = { 'x-auth-token': 'u:abc', 'content-type': 'application/json' };
const GENERIC_500 = 'The server has either erred or is incapable of performing the requested operation.';
const WEBOB_400 = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';
const NO_SUCH = (a: string) => `There is no such action: ${a}. Verify the request body and Content-Type header and try again.`;

function unreachableApi(): VolumeApiSurface {
  const fail = () => {
    throw new Error('must not be reached');
  };
  return {
    get: fail, getAll: fail, create: fail, getVolumeType: fail, delete: fail, reserveVolume: fail, unreserveVolume: fail,
    beginDetaching: fail, rollDetaching: fail, attach: fail, detach: fail, initializeConnection: fail,
    terminateConnection: fail,
  };
}

function newApp(strategy = 'noauth'): FastifyInstance {
  return buildApp({
    volumeApi: unreachableApi(),
    config: parseConfig(`[DEFAULT]\nauth_strategy = ${strategy}\n`),
    logger: pino({ level: 'silent' }),
  });
}

let app: FastifyInstance;
beforeAll(() => {
  app = newApp();
});
afterAll(async () => {
  await app.close();
});

interface Req {
  method?: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH' | 'HEAD';
  url?: string;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: string | Buffer;
}

async function call({ method = 'POST', url = ACTION, headers = JSON_HDRS, body, raw }: Req) {
  const payload = raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body);
  return app.inject({ method, url, headers: { host: 'localhost', ...headers }, payload });
}

function expectFault(res: Awaited<ReturnType<typeof call>>, status: number, name: string, message: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toBe('application/json');
  expect(res.body).toBe(JSON.stringify({ [name]: { code: status, message } }).replace(/":/g, '": ').replace(/,"/g, ', "'));
  expect(JSON.parse(res.body)).toEqual({ [name]: { code: status, message } });
}

describe('OpenStack-API-Version', () => {
  it('rejects a malformed version with 400 and no version headers', async () => {
    const res = await call({ headers: { ...JSON_HDRS, 'openstack-api-version': 'volume 3.a' }, body: { 'os-detach': 'x' } });
    expectFault(res, 400, 'badRequest', 'API Version String 3.a is of invalid format. Must be of format MajorNum.MinorNum.');
    expect(res.headers['openstack-api-version']).toBeUndefined();
    expect(res.headers.vary).toBeUndefined();
  });

  it('rejects 3.71 with 406 computeFault and still echoes the requested version', async () => {
    const res = await call({ headers: { ...JSON_HDRS, 'openstack-api-version': 'volume 3.71' }, body: { 'os-detach': 'x' } });
    expectFault(res, 406, 'computeFault', 'Version 3.71 is not supported by the API. Minimum is 3.0 and maximum is 3.70.');
    expect(res.headers['openstack-api-version']).toBe('volume 3.71');
    expect(res.headers.vary).toBe('OpenStack-API-Version');
  });

  it('answers 406 for 2.0 without version headers (a "legacy" version string)', async () => {
    const res = await call({ headers: { ...JSON_HDRS, 'openstack-api-version': 'volume 2.0' }, body: { 'os-detach': 'x' } });
    expectFault(res, 406, 'computeFault', 'Version 2.0 is not supported by the API. Minimum is 3.0 and maximum is 3.70.');
    expect(res.headers['openstack-api-version']).toBeUndefined();
  });

  it.each([
    ['volume 3.05', 'API Version String 3.05 is of invalid format. Must be of format MajorNum.MinorNum.'],
    ['volume 03.1', 'API Version String 03.1 is of invalid format. Must be of format MajorNum.MinorNum.'],
  ])('%s is malformed', async (hdr, message) => {
    const res = await call({ headers: { ...JSON_HDRS, 'openstack-api-version': hdr }, body: { 'os-detach': 'x' } });
    expectFault(res, 400, 'badRequest', message);
  });

  it('answers 400 with webob text when no "volume" entry is present, 500 when it does not split in two', async () => {
    const a = await call({ headers: { ...JSON_HDRS, 'openstack-api-version': 'compute 2.1' }, body: { 'os-detach': 'x' } });
    expectFault(a, 400, 'badRequest', WEBOB_400);
    const b = await call({ headers: { ...JSON_HDRS, 'openstack-api-version': 'volume' }, body: { 'os-detach': 'x' } });
    expectFault(b, 500, 'computeFault', GENERIC_500);
    expect(b.headers['openstack-api-version']).toBeUndefined();
  });

  it.each([
    [undefined, 'volume 3.0'],
    ['volume latest', 'volume 3.70'],
    ['compute 2.1, volume 3.27', 'volume 3.27'],
    ['volume 3.10', 'volume 3.10'],
  ])('header %s is answered with %s', async (hdr, expected) => {
    const headers: Record<string, string> = { ...JSON_HDRS };
    if (hdr) headers['openstack-api-version'] = hdr;
    const res = await call({ headers, body: { 'os-nope': null } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['openstack-api-version']).toBe(expected);
    expect(res.headers.vary).toBe('OpenStack-API-Version');
  });
});

describe('Content-Type', () => {
  it.each(['text/plain', 'APPLICATION/JSON', 'garbage', ' application/json ', ''])(
    '%j with a body is 415 badMediaType',
    async (ct) => {
      const res = await call({ headers: { 'x-auth-token': 'u:abc', 'content-type': ct }, body: { 'os-detach': 'x' } });
      expectFault(res, 415, 'badMediaType', 'Unsupported Content-Type');
    },
  );

  it.each(['application/json; charset=utf-8', 'application/vnd.openstack.volume+json', 'application/json;'])(
    '%s is accepted (the schema answers next)',
    async (ct) => {
      const res = await call({ headers: { 'x-auth-token': 'u:abc', 'content-type': ct }, body: { 'os-detach': 'x' } });
      expectFault(res, 400, 'badRequest', "Invalid input for field/attribute os-detach. Value: x. 'x' is not of type 'object', 'null'");
    },
  );

  it('treats a body without Content-Type, or an empty body with any type, as no action', async () => {
    const a = await call({ headers: { 'x-auth-token': 'u:abc' }, body: { 'os-reserve': null } });
    expectFault(a, 400, 'badRequest', NO_SUCH('None'));
    const b = await call({ headers: { 'x-auth-token': 'u:abc', 'content-type': 'text/plain' }, raw: '' });
    expectFault(b, 400, 'badRequest', NO_SUCH('None'));
    const c = await call({ raw: '' });
    expectFault(c, 400, 'badRequest', NO_SUCH('None'));
  });

  it('answers success Content-Type from Accept, faults always as application/json', async () => {
    const res = await call({ headers: { ...JSON_HDRS, accept: 'application/vnd.openstack.volume+json' }, body: { 'os-nope': 1 } });
    expect(res.headers['content-type']).toBe('application/json');
  });
});

describe('action dispatch', () => {
  it.each([
    ['notjson'],
    ['{}'],
    ['{"a": 1, "b": 2}'],
    ['[]'],
    ['[1, 2]'],
    ['"ab"'],
    ['{"os-reserve": null}x'],
  ])('%s is a malformed body', async (raw) => {
    expectFault(await call({ raw }), 400, 'badRequest', 'Malformed request body');
  });

  it('rejects a body that is not UTF-8 as malformed', async () => {
    expectFault(await call({ raw: Buffer.from([0x7b, 0xff, 0x7d]) }), 400, 'badRequest', 'Malformed request body');
  });

  it.each([['5'], ['null'], ['true'], ['1.5'], ['["a"]'], ['"a"'], ['"\u00e9"']])(
    '%s (no len() or no keys()) is a bare 404',
    async (raw) => {
      expectFault(await call({ raw }), 404, 'itemNotFound', 'The resource could not be found.');
    },
  );

  it('names an unknown action', async () => {
    expectFault(await call({ body: { 'os-nope': null } }), 400, 'badRequest', NO_SUCH('os-nope'));
    // os-force_detach is an admin action Cinder has (issue 4): dispatched, its schema answers.
    expectFault(
      await call({ body: { 'os-force_detach': null } }),
      400,
      'badRequest',
      "Invalid input for field/attribute os-force_detach. Value: None. None is not of type 'object'",
    );
  });

  it('parses Python JSON extensions (NaN) like json.loads', async () => {
    const res = await call({ raw: '{"os-detach": {"attachment_id": NaN}}' });
    expectFault(res, 400, 'badRequest', 'Invalid input for field/attribute attachment_id. Value: nan. nan is not valid under any of the given schemas');
  });
});

describe('URL project_id', () => {
  it('must be the token project (noauth users are admins, and still refused)', async () => {
    const res = await call({ headers: { 'x-auth-token': 'u:other', 'content-type': 'application/json' }, body: { 'os-detach': 'x' } });
    expectFault(res, 400, 'badRequest', 'Malformed request url');
  });

  it('is checked after the action lookup', async () => {
    const res = await call({ headers: { 'x-auth-token': 'u:other', 'content-type': 'application/json' }, body: { 'os-nope': 'x' } });
    expectFault(res, 400, 'badRequest', NO_SUCH('os-nope'));
  });

  it('token "abc" means user and project abc', async () => {
    const res = await call({ headers: { 'x-auth-token': 'abc', 'content-type': 'application/json' }, body: { 'os-detach': 'x' } });
    expectFault(res, 400, 'badRequest', "Invalid input for field/attribute os-detach. Value: x. 'x' is not of type 'object', 'null'");
  });

  it('is not needed: the same route exists without it', async () => {
    const res = await call({ url: `/v3/volumes/${V}/action`, headers: { 'x-auth-token': 'u:other', 'content-type': 'application/json' }, body: { 'os-detach': 'x' } });
    expectFault(res, 400, 'badRequest', "Invalid input for field/attribute os-detach. Value: x. 'x' is not of type 'object', 'null'");
  });

  it('applies to GET routes too', async () => {
    const res = await call({ method: 'GET', url: `/v3/abc/volumes/${V}`, headers: { 'x-auth-token': 'u:other' } });
    expectFault(res, 400, 'badRequest', 'Malformed request url');
    const list = await call({ method: 'GET', url: '/v3/abc/volumes/detail', headers: { 'x-auth-token': 'u:other' } });
    expectFault(list, 400, 'badRequest', 'Malformed request url');
  });
});

describe('routing (webob answers, not Cinder faults)', () => {
  const T = { 'x-auth-token': 'u:abc' };
  const PLAIN_404 = '404 Not Found\n\nThe resource could not be found.\n\n   ';

  it('unknown path: plain text without Accept', async () => {
    const res = await call({ method: 'GET', url: '/v3/abc/nothing', headers: T });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(res.body).toBe(PLAIN_404);
    expect(res.headers['x-compute-request-id']).toBeUndefined();
    expect(res.headers['openstack-api-version']).toBeUndefined();
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
  });

  it('unknown path: webob JSON with Accept: application/json, HTML with */*', async () => {
    const j = await call({ method: 'GET', url: '/v3/abc/nothing', headers: { ...T, accept: 'application/json' } });
    expect(j.headers['content-type']).toBe('application/json');
    expect(j.body).toBe('{"message": "The resource could not be found.<br /><br />\\n\\n\\n", "code": "404 Not Found", "title": "Not Found"}');
    const h = await call({ method: 'GET', url: '/v3/abc/nothing', headers: { ...T, accept: '*/*' } });
    expect(h.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect(h.body).toBe(
      '<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n' +
        '  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>',
    );
  });

  it.each([
    ['PATCH', `/v3/abc/volumes/${V}`],
    ['PUT', '/v3/abc/volumes'],
    ['DELETE', '/v3/abc/volumes'],
    ['GET', `/v3/abc/volumes/${V}/action`],
    ['PUT', `/v3/abc/volumes/${V}/action`],
    ['POST', '/v3/abc/volumes/detail'],
    ['GET', `/v3/ABC/volumes/${V}`],
    ['GET', `/v3/admin/volumes/${V}`],
    ['GET', `/v3/abc/volumes/${V}/`],
    ['GET', '/v3/abc/volumes/'],
  ] as const)('%s %s: no route (404, no 405)', async (method, url) => {
    const res = await call({ method, url, headers: T });
    expect(res.statusCode).toBe(404);
    expect(res.body).toBe(PLAIN_404);
  });

  it('HEAD is not GET: 404 with an empty text/html body', async () => {
    const res = await call({ method: 'HEAD', url: `/v3/abc/volumes/${V}`, headers: T });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect(res.body).toBe('');
  });
});

describe('noauth', () => {
  it('answers 204 with a fake token when X-Auth-Token is missing, before routing', async () => {
    const res = await call({ method: 'GET', url: '/v3/nothing?x=1', headers: { 'x-auth-user': 'joe', 'x-auth-project-id': 'p1' } });
    expect(res.statusCode).toBe(204);
    expect(res.headers['x-auth-token']).toBe('joe:p1');
    expect(res.headers['x-server-management-url']).toBe('http://localhost/v3/nothing?x=1');
    expect(res.body).toBe('');
    const d = await call({ method: 'GET', url: `/v3/abc/volumes/${V}/`, headers: {} });
    expect(d.headers['x-auth-token']).toBe('admin:admin');
    expect(d.headers['x-server-management-url']).toBe(`http://localhost/v3/abc/volumes/${V}`);
  });
});

describe('size limit (oslo.middleware sizelimit, 114688 bytes)', () => {
  it('answers webob 413 before anything else', async () => {
    const raw = `{"os-reserve": null, "x": "${'x'.repeat(120000)}"}`;
    const res = await call({ raw });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(res.body).toBe('413 Request Entity Too Large\n\nRequest is too large. Larger than max_request_body_size (114688).\n\n   ');
  });
});

describe('bodies on methods that take none, and query parameters', () => {
  const T = { 'x-auth-token': 'u:abc' };

  it('a JSON body on GET/DELETE is a TypeError: 400 with webob text', async () => {
    for (const [method, url] of [['GET', `/v3/abc/volumes/${V}`], ['DELETE', `/v3/abc/volumes/${V}`], ['GET', '/v3/abc/volumes']] as const) {
      const res = await call({ method, url, raw: '{"a": 1}' });
      expectFault(res, 400, 'badRequest', WEBOB_400);
    }
  });

  it('a GET body is still content-type checked and parsed', async () => {
    expectFault(await call({ method: 'GET', url: `/v3/abc/volumes/${V}`, headers: { ...T, 'content-type': 'text/plain' }, raw: 'xx' }), 415, 'badMediaType', 'Unsupported Content-Type');
    expectFault(await call({ method: 'GET', url: `/v3/abc/volumes/${V}`, raw: 'xx' }), 400, 'badRequest', 'Malformed request body');
  });

  it('POST /volumes without a body is a KeyError: 500', async () => {
    expectFault(await call({ url: '/v3/abc/volumes', raw: '' }), 500, 'computeFault', GENERIC_500);
  });

  it.each([
    ['GET', '/v3/abc/volumes?limit=x', 'limit param must be an integer'],
    ['GET', '/v3/abc/volumes/detail?limit=-1', 'limit param must be positive'],
    ['GET', '/v3/abc/volumes?all_tenants=bogus', "Value 'bogus' for 'all_tenants' is not a boolean."],
    ['DELETE', `/v3/abc/volumes/${V}?cascade=bogus`, "Value 'bogus' for 'cascade' is not a boolean."],
  ] as const)('%s %s', async (method, url, message) => {
    expectFault(await call({ method, url, headers: T }), 400, 'badRequest', message);
  });

  it('force is only read from 3.23 on', async () => {
    const url = `/v3/abc/volumes/${V}?force=bogus`;
    const res = await call({ method: 'DELETE', url, headers: { ...T, 'openstack-api-version': 'volume 3.23' } });
    expectFault(res, 400, 'badRequest', "Value 'bogus' for 'force' is not a boolean.");
    // Below 3.23 the parameter is ignored, so the lookup (which throws here) is reached: 500.
    expectFault(await call({ method: 'DELETE', url, headers: T }), 500, 'computeFault', GENERIC_500);
  });
});

describe('headers on faults', () => {
  it('carry both request-id headers (same req-<uuid>), version headers and exact JSON framing', async () => {
    const res = await call({ body: { 'os-nope': 1 } });
    const id = res.headers['x-openstack-request-id'];
    expect(id).toMatch(/^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.headers['x-compute-request-id']).toBe(id);
    expect(res.headers['openstack-api-version']).toBe('volume 3.0');
    expect(res.headers.vary).toBe('OpenStack-API-Version');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
    expect(res.body).toBe(`{"badRequest": {"code": 400, "message": "${NO_SUCH('os-nope')}"}}`);
  });

  it('a reached volume API that fails unexpectedly is a generic 500 computeFault', async () => {
    const res = await call({ body: { 'os-reserve': null } });
    expectFault(res, 500, 'computeFault', GENERIC_500);
    expect(res.body).not.toContain('must not be reached');
  });

  it('generates its own request id even when the client sends one', async () => {
    const res = await call({ headers: { ...JSON_HDRS, 'x-openstack-request-id': 'req-11111111-2222-3333-4444-555555555555' }, body: { 'os-nope': 1 } });
    expect(res.headers['x-openstack-request-id']).not.toBe('req-11111111-2222-3333-4444-555555555555');
  });
});
