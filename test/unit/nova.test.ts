// The pure parts of cinder/compute/nova.py's endpoint lookups and keystonemiddleware's catalog
// layout; the HTTP exchange itself runs against a real Keystone and Nova in
// test/process/nova-guard.test.ts.
import { describe, expect, it } from 'vitest';
import { normalizeCatalog } from '../../src/api/keystone-auth.js';
import { filterCatalog, makeContext } from '../../src/common/context.js';
import { EndpointNotFound, NovaAPI } from '../../src/compute/nova.js';
import { contextFromDict, contextToDict } from '../../src/rpc/context-codec.js';

const V3_CATALOG = [
  {
    type: 'identity',
    name: 'keystone',
    id: 'k1',
    endpoints: [
      { interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: 'http://ks:5000/v3', id: 'e1' },
      { interface: 'internal', region: 'RegionOne', region_id: 'RegionOne', url: 'http://ks-int:5000/v3', id: 'e2' },
      { interface: 'public', region: 'RegionTwo', region_id: 'RegionTwo', url: 'http://ks2:5000/v3', id: 'e3' },
    ],
  },
  {
    type: 'compute',
    name: 'nova',
    id: 'n1',
    endpoints: [
      { interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: 'http://nova:8774/v2.1/', id: 'e4' },
      { interface: 'internal', region: 'RegionTwo', region_id: 'RegionTwo', url: 'http://nova2-int:8774/v2.1', id: 'e5' },
    ],
  },
  { type: 'network', name: 'neutron', id: 'q1', endpoints: [{ interface: 'public', region: 'RegionOne', url: 'http://q:9696', id: 'e6' }] },
  { type: 'compute-legacy', id: 'x', endpoints: [{ interface: 'public', url: 'http://nr:1' }] },
];

const requester = () => Promise.reject(new Error('no HTTP in these tests'));

describe("auth_token's X-Service-Catalog layout (_normalize_catalog)", () => {
  it('groups endpoints by region with <interface>URL keys; a region-less endpoint has no region key', () => {
    expect(normalizeCatalog(V3_CATALOG)).toEqual([
      {
        type: 'identity',
        name: 'keystone',
        endpoints: [
          { region: 'RegionOne', publicURL: 'http://ks:5000/v3', internalURL: 'http://ks-int:5000/v3' },
          { region: 'RegionTwo', publicURL: 'http://ks2:5000/v3' },
        ],
      },
      {
        type: 'compute',
        name: 'nova',
        endpoints: [
          { region: 'RegionOne', publicURL: 'http://nova:8774/v2.1/' },
          { region: 'RegionTwo', internalURL: 'http://nova2-int:8774/v2.1' },
        ],
      },
      { type: 'network', name: 'neutron', endpoints: [{ region: 'RegionOne', publicURL: 'http://q:9696' }] },
      { type: 'compute-legacy', endpoints: [{ publicURL: 'http://nr:1' }] },
    ]);
  });

  it('the context keeps identity, compute, object-store, image and key-manager only, also through RPC', () => {
    const kept = filterCatalog(normalizeCatalog(V3_CATALOG));
    expect(kept.map((s) => s.type)).toEqual(['identity', 'compute']);
    const ctx = makeContext({ user_id: 'u', project_id: 'p', service_catalog: kept });
    expect(contextToDict(ctx).service_catalog).toEqual(kept);
    expect(contextFromDict(contextToDict(ctx)).service_catalog).toEqual(kept);
    expect(filterCatalog('not a list')).toEqual([]);
  });
});

describe("cinder/compute/nova.py's endpoint lookups", () => {
  const ctx = makeContext({ user_id: 'u', project_id: 'p', service_catalog: filterCatalog(normalizeCatalog(V3_CATALOG)) });

  it('identity: [nova] token_auth_url wins; else the first identity endpoint of the region, its <interface>URL', () => {
    expect(new NovaAPI({ interface: 'public', tokenAuthUrl: 'http://conf:5000' }, { requester }).identityEndpoint(ctx)).toBe('http://conf:5000');
    expect(new NovaAPI({ interface: 'public' }, { requester }).identityEndpoint(ctx)).toBe('http://ks:5000/v3');
    expect(new NovaAPI({ interface: 'internal' }, { requester }).identityEndpoint(ctx)).toBe('http://ks-int:5000/v3');
    expect(new NovaAPI({ interface: 'public', regionName: 'RegionTwo' }, { requester }).identityEndpoint(ctx)).toBe('http://ks2:5000/v3');
    // The region's endpoint lacks the interface: Cinder would pass auth_url=None; no endpoint here.
    expect(() => new NovaAPI({ interface: 'admin' }, { requester }).identityEndpoint(ctx)).toThrow(EndpointNotFound);
    // noauth: no catalog at all
    expect(() => new NovaAPI({ interface: 'public' }, { requester }).identityEndpoint(makeContext({ user_id: 'u', project_id: 'p' }))).toThrow(
      EndpointNotFound,
    );
  });

  it('compute: the endpoint of [nova] interface and region_name in the v3 catalog, without a trailing slash', () => {
    expect(new NovaAPI({ interface: 'public' }, { requester }).computeEndpoint(V3_CATALOG)).toBe('http://nova:8774/v2.1');
    expect(new NovaAPI({ interface: 'internal', regionName: 'RegionTwo' }, { requester }).computeEndpoint(V3_CATALOG)).toBe(
      'http://nova2-int:8774/v2.1',
    );
    expect(() => new NovaAPI({ interface: 'internal', regionName: 'RegionOne' }, { requester }).computeEndpoint(V3_CATALOG)).toThrow(
      EndpointNotFound,
    );
    expect(() => new NovaAPI({ interface: 'public' }, { requester }).computeEndpoint([])).toThrow(EndpointNotFound);
  });
});
