// What a non-admin member may do with query keys and admin actions, as Cinder 21.3.1 answers
// (found by test/chaos/isolation.ts against a real Keystone):
//  - GET /volumes[/detail] from 3.31 runs common.reject_invalid_filters: a member's key that is not
//    in resource_filters.json's `volume` list (e.g. another project's `project_id`) is a 400,
//    `all_tenants` is dropped silently, non-ASCII keys are a 400 for everyone; with_count (3.45)
//    is popped first. Below 3.31 the keys are dropped (remove_invalid_filter_options).
//  - os-force_delete (admin_actions.py AdminController._force_delete): volume_api.get (404 for
//    another project), then the admin policy (403 for a member), then delete(force=True).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { VolumeNotFound } from '../../src/common/exceptions.js';
import type { Volume } from '../../src/objects/volume.js';
import type { VolumeApiSurface } from '../../src/volume-api/api.js';
import { testApp, tokenAuthenticator } from '../support/api.js';

const P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';
const OTHER = '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b';
const MINE = '11111111-2222-4333-8444-555555555555';
const THEIRS = '66666666-7777-4888-9999-000000000000';

/** The token `member` or `admin` (both of project P) stands for a validated Keystone identity. */
const authenticator = tokenAuthenticator(P);

const deletes: { id: string; force?: boolean }[] = [];
const lists: unknown[] = [];

function fakeApi(): VolumeApiSurface {
  const fail = () => {
    throw new Error('must not be reached');
  };
  const volume = { id: MINE, project_id: P, status: 'in-use', host: 'h@lvm#lvm', volume_attachment: [], admin_metadata: {}, metadata: {} } as unknown as Volume;
  return {
    get: async (ctx, id) => {
      if (id !== MINE || (!ctx.is_admin && ctx.project_id !== P)) throw new VolumeNotFound({ volume_id: id });
      return volume;
    },
    getAll: async (_ctx, opts) => {
      lists.push(opts);
      return [];
    },
    delete: async (_ctx, v, opts) => {
      deletes.push({ id: v.id, force: opts?.force });
    },
    create: fail, getVolumeType: fail, reserveVolume: fail, unreserveVolume: fail, beginDetaching: fail, rollDetaching: fail, attach: fail,
    detach: fail, initializeConnection: fail, terminateConnection: fail,
  };
}

let app: FastifyInstance;
beforeAll(() => {
  app = testApp({ volumeApi: fakeApi(), authenticator });
});
afterAll(async () => {
  await app.close();
});

async function get(url: string, version?: string, token = 'member') {
  const headers: Record<string, string> = { host: 'localhost', 'x-auth-token': token };
  if (version) headers['openstack-api-version'] = `volume ${version}`;
  const r = await app.inject({ method: 'GET', url, headers });
  return { status: r.statusCode, json: r.body ? JSON.parse(r.body) : undefined };
}

const bad = (message: string) => ({ badRequest: { code: 400, message } });

describe('GET /volumes query keys of a non-admin (reject_invalid_filters from 3.31)', () => {
  for (const what of ['volumes', 'volumes/detail']) {
    it(`${what}: another project's project_id is a 400 from 3.31, dropped below`, async () => {
      for (const version of ['3.31', '3.70']) {
        const r = await get(`/v3/${P}/${what}?project_id=${OTHER}`, version);
        expect(r.status).toBe(400);
        expect(r.json).toEqual(bad('Invalid filters project_id are found in query options.'));
      }
      const old = await get(`/v3/${P}/${what}?project_id=${OTHER}`, '3.30');
      expect(old.status).toBe(200);
      expect(old.json).toEqual({ volumes: [] });
    });
  }

  it('all_tenants is dropped silently (bug #1917574), alone or beside an invalid key', async () => {
    expect((await get(`/v3/${P}/volumes?all_tenants=1`, '3.70')).status).toBe(200);
    expect((await get(`/v3/${P}/volumes?all_tenants=maybe`, '3.70')).status).toBe(200);
    const both = await get(`/v3/${P}/volumes?all_tenants=1&project_id=${OTHER}&foo=1`, '3.70');
    expect(both.json).toEqual(bad('Invalid filters project_id,foo are found in query options.'));
    // MultiDict: only the first all_tenants is popped; a repeat is an invalid key.
    const twice = await get(`/v3/${P}/volumes?all_tenants=1&all_tenants=1`, '3.70');
    expect(twice.json).toEqual(bad('Invalid filters all_tenants are found in query options.'));
  });

  it('configured filters, pagination and sort keys pass; name~ is no configured filter', async () => {
    const ok = await get(`/v3/${P}/volumes?status=available&name=x&metadata={}&limit=5&offset=0&sort=name:asc`, '3.70');
    expect(ok.status).toBe(200);
    const like = await get(`/v3/${P}/volumes?name~=x`, '3.70');
    expect(like.json).toEqual(bad('Invalid filters name~ are found in query options.'));
  });

  it('with_count is popped first from 3.45 (checked as a boolean); before 3.45 it is a filter key', async () => {
    expect((await get(`/v3/${P}/volumes?with_count=true`, '3.45')).status).toBe(200);
    expect((await get(`/v3/${P}/volumes?with_count=maybe`, '3.45')).json).toEqual(
      bad("Value 'maybe' for 'with_count' is not a boolean."),
    );
    expect((await get(`/v3/${P}/volumes?with_count=true`, '3.44')).json).toEqual(
      bad('Invalid filters with_count are found in query options.'),
    );
  });

  it('non-ASCII keys are a 400 for everyone; an admin may use any other key', async () => {
    const msg = bad('Filter keys can only contain ASCII characters.');
    expect((await get(`/v3/${P}/volumes?%C3%B1=1`, '3.31')).json).toEqual(msg);
    expect((await get(`/v3/${P}/volumes?%C3%B1=1`, '3.31', 'admin')).json).toEqual(msg);
    expect((await get(`/v3/${P}/volumes?%C3%B1=1`, '3.30')).status).toBe(200);
    expect((await get(`/v3/${P}/volumes?project_id=${OTHER}`, '3.70', 'admin')).status).toBe(200);
  });
});

describe('os-force_delete', () => {
  const action = (id: string, token: string, body: unknown = { 'os-force_delete': {} }) =>
    app.inject({
      method: 'POST',
      url: `/v3/${P}/volumes/${id}/action`,
      headers: { host: 'localhost', 'x-auth-token': token, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  it("a member: Cinder's 403, nothing deleted", async () => {
    deletes.length = 0;
    const r = await action(MINE, 'member');
    expect(r.statusCode).toBe(403);
    expect(JSON.parse(r.body)).toEqual({
      forbidden: { code: 403, message: "Policy doesn't allow volume_extension:volume_admin_actions:force_delete to be performed." },
    });
    expect(deletes).toEqual([]);
  });

  it("a volume the caller cannot see: 404 before the policy", async () => {
    const r = await action(THEIRS, 'member');
    expect(r.statusCode).toBe(404);
    expect(JSON.parse(r.body)).toEqual({ itemNotFound: { code: 404, message: `Volume ${THEIRS} could not be found.` } });
  });

  it('an admin: 202, delete with force; any body value is accepted (no schema)', async () => {
    deletes.length = 0;
    for (const body of [{ 'os-force_delete': {} }, { 'os-force_delete': null }, { 'os-force_delete': 'x' }]) {
      const r = await action(MINE, 'admin', body);
      expect(r.statusCode, r.body).toBe(202);
      expect(r.body).toBe('');
    }
    expect(deletes).toEqual([1, 2, 3].map(() => ({ id: MINE, force: true })));
  });
});
