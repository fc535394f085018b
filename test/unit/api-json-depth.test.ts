// A body nested deeper than Python's json decoder can recurse (fuzz finding, issue 8). Cinder
// 21.3.1's jsonutils.loads raises RecursionError, which is no ValueError: it escapes
// action_peek_json / JSONDeserializer._from_json (cinder/api/openstack/wsgi.py) and FaultWrapper
// (cinder/api/middleware/fault.py) answers 500 computeFault. Measured on Cinder's own v3 APIRouter
// behind NoAuthMiddleware + FaultWrapper: `{"os-reserve": [×961 ...]}` (962 containers) reaches the
// controller, one more level is a 500. Before the fix the port answered 400 up to ~2500 levels and a
// JS stack overflow (500 by accident) beyond.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { parseConfig } from '../../src/common/config.js';
import { PY_JSON_MAX_NESTING, nestingExceeds, parseJsonBody } from '../../src/api/deserializer.js';
import type { VolumeApiSurface } from '../../src/volume-api/api.js';

const V = '4b1e8f6c-1111-2222-3333-444455556666';
const HDRS = { host: 'localhost', 'x-auth-token': 'u:abc', 'content-type': 'application/json' };
const GENERIC_500 = 'The server has either erred or is incapable of performing the requested operation.';

function notFoundApi(): VolumeApiSurface {
  const fail = () => {
    throw new Error('must not be reached');
  };
  const notFound = (): never => {
    throw Object.assign(new Error(`Volume ${V} could not be found.`), { code: 404 });
  };
  return {
    get: notFound, getAll: fail, create: fail, getVolumeType: fail, delete: fail, reserveVolume: fail, unreserveVolume: fail,
    beginDetaching: fail, rollDetaching: fail, attach: fail, detach: fail, initializeConnection: fail,
    terminateConnection: fail,
  };
}

const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('JSON nesting depth (Python recursion limit)', () => {
  let app: FastifyInstance;
  beforeAll(() => {
    app = buildApp({ volumeApi: notFoundApi(), config: parseConfig('[DEFAULT]\nauth_strategy = noauth\n'), logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await app.close();
  });

  it('counts containers, not brackets inside strings', () => {
    expect(nestingExceeds(nested(PY_JSON_MAX_NESTING), PY_JSON_MAX_NESTING)).toBe(false);
    expect(nestingExceeds(nested(PY_JSON_MAX_NESTING + 1), PY_JSON_MAX_NESTING)).toBe(true);
    expect(nestingExceeds(`["${'['.repeat(5000)}\\"${'{'.repeat(5000)}"]`, PY_JSON_MAX_NESTING)).toBe(false);
    expect(parseJsonBody(Buffer.from(nested(PY_JSON_MAX_NESTING))).value).toBeInstanceOf(Array);
    expect(() => parseJsonBody(Buffer.from(nested(PY_JSON_MAX_NESTING + 1)))).toThrow(/RecursionError/);
  });

  it('an action body of 962 containers reaches the controller, 963 is a 500 (RecursionError)', async () => {
    const ok = await app.inject({ method: 'POST', url: `/v3/abc/volumes/${V}/action`, headers: HDRS, payload: `{"os-reserve": ${nested(961)}}` });
    expect(ok.statusCode).toBe(404);
    const deep = await app.inject({ method: 'POST', url: `/v3/abc/volumes/${V}/action`, headers: HDRS, payload: `{"os-reserve": ${nested(962)}}` });
    expect(deep.statusCode).toBe(500);
    expect(JSON.parse(deep.body)).toEqual({ computeFault: { code: 500, message: GENERIC_500 } });
  });

  it('the same for a method body (POST /volumes), and for a deep malformed text', async () => {
    const r = await app.inject({ method: 'POST', url: '/v3/abc/volumes', headers: HDRS, payload: `{"volume": {"size": 1, "metadata": ${nested(3000)}}}` });
    expect(r.statusCode).toBe(500);
    const unclosed = await app.inject({ method: 'POST', url: `/v3/abc/volumes/${V}/action`, headers: HDRS, payload: `{"os-detach": ${'['.repeat(20000)}` });
    expect(unclosed.statusCode).toBe(500);
    // A shallow body that only looks deep (brackets in a string) is parsed as usual.
    const str = await app.inject({ method: 'POST', url: `/v3/abc/volumes/${V}/action`, headers: HDRS, payload: `{"os-reserve": "${'['.repeat(3000)}"}` });
    expect(str.statusCode).toBe(404);
  });
});
