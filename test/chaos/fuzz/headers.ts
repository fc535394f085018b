// The headers of a fuzzed request: tokens (mostly the project's own), microversions, Content-Type,
// Accept, request ids, roles a client must not be able to claim, huge and repeated headers.
import { OTHER, PROJECT } from './fixtures.js';
import type { Rng } from './rng.js';

const VERSIONS: readonly (readonly [number, string | null])[] = [
  [12, null],
  [6, 'volume 3.0'],
  [8, 'volume 3.27'],
  [10, 'volume 3.44'],
  [6, 'volume 3.54'],
  [6, 'volume latest'],
  [2, 'volume 3.70'],
  [2, 'volume 3.71'],
  [1, 'volume 3.26'],
  [1, 'volume 3.43'],
  [1, 'volume 3.53'],
  [1, 'volume 2.0'],
  [1, 'volume 4.0'],
  [1, 'volume 3.'],
  [1, 'volume 3.01'],
  [1, 'volume 03.1'],
  [1, 'volume 3.99999999999999999999'],
  [1, 'volume 99999999999999999999.0'],
  [1, 'volume'],
  [1, 'volume  3.44'],
  [1, 'compute 2.1'],
  [1, 'volume 3.44, compute 2.1'],
  [1, 'compute 2.1, volume 3.44'],
  [1, ''],
  [1, 'VOLUME 3.44'],
  [1, 'volume 3.44 extra'],
  [1, 'volumes 3.27'],
  [1, 'volume 1.0'],
  [1, 'volume 0.0'],
  [1, 'volume -3.1'],
  [1, 'volume 3.1e2'],
  [1, 'volume 3.44,volume 3.0'],
  [1, 'volume\t3.44'],
  [1, 'volume 3.44\xe9'],
];

const CONTENT_TYPES: readonly (readonly [number, string | null])[] = [
  [30, 'application/json'],
  [4, 'application/vnd.openstack.volume+json'],
  [3, 'application/json; charset=utf-8'],
  [2, null],
  [1, 'text/plain'],
  [1, 'application/xml'],
  [1, ''],
  [1, 'APPLICATION/JSON'],
  [1, 'application/json;'],
  [1, ' application/json'],
  [1, 'multipart/form-data; boundary=x'],
  [1, 'application/x-www-form-urlencoded'],
  [1, 'application/json\xe9'],
];

const ACCEPTS: readonly (readonly [number, string | null])[] = [
  [20, 'application/json'],
  [8, null],
  [2, '*/*'],
  [1, 'application/xml'],
  [1, 'text/html'],
  [1, 'text/plain'],
  [1, 'application/vnd.openstack.volume+json'],
  [1, 'application/json;q=0'],
  [1, 'garbage'],
  [1, 'application/*'],
  [1, ''],
  [1, 'application/json, text/html;q=0.9'],
  [1, 'a/b;q=2'],
  [1, 'application/xml;q=0.5, application/json;q=0.4'],
  [1, 'text/*;q=1, */*;q=0'],
];

export function requestHeaders(r: Rng, body: Buffer | null): [string, string][] {
  const headers: [string, string][] = [];
  const token = r.weighted<string | null>([
    [90, `fuzz:${PROJECT}`],
    [3, `fuzz:${OTHER}`],
    [2, null],
    [1, 'fuzz'],
    [1, ':'],
    [1, `a:b:${PROJECT}`],
    [1, `fuzz:${PROJECT.toUpperCase()}`],
    [1, 't'.repeat(5000)],
  ]);
  if (token !== null) headers.push(['X-Auth-Token', token]);
  const version = r.weighted(VERSIONS);
  if (version !== null) headers.push(['OpenStack-API-Version', version]);
  if (r.chance(0.03)) headers.push(['OpenStack-API-Version', r.weighted(VERSIONS) ?? 'volume 3.0']);
  if (body !== null || r.chance(0.05)) {
    const ct = r.weighted(CONTENT_TYPES);
    if (ct !== null) headers.push(['Content-Type', ct]);
    if (r.chance(0.02)) headers.push(['Content-Type', 'text/plain']);
  }
  const acc = r.weighted(ACCEPTS);
  if (acc !== null) headers.push(['Accept', acc]);
  if (r.chance(0.1)) {
    headers.push([
      'X-OpenStack-Request-ID',
      r.pick([`req-${r.uuid()}`, `req-${r.uuid().toUpperCase()}`, 'garbage', '', `req-${'a'.repeat(8000)}`, `req-${r.uuid()}, req-${r.uuid()}`]),
    ]);
  }
  if (r.chance(0.02)) headers.push(['X-OpenStack-Request-ID', `req-${r.uuid()}`]);
  if (r.chance(0.15)) headers.push(['X-Service-Roles', r.pick(['service', 'Service', '', 'admin,service', ',,,'])]);
  if (r.chance(0.05)) headers.push(['X-Roles', r.pick(['member', 'reader', 'admin', ''])]);
  if (r.chance(0.03)) headers.push(['X-Forwarded-Host', r.pick(['example.org', 'a, b', ''])]);
  if (r.chance(0.03)) headers.push(['X-Pad', 'p'.repeat(r.pick([1000, 8000, 15000, 17000, 40000]))]);
  if (r.chance(0.02)) for (let i = 0; i < 50; i++) headers.push([`X-Many-${i}`, 'v']);
  if (r.chance(0.02)) headers.push(['X-Auth-Token', `fuzz:${PROJECT}`]);
  return headers;
}
