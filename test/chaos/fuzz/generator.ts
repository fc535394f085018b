// The request generator: picks a route family and a project (or none), lets the family fill in the
// request, then now and then another method or a body where there is none, and the headers.
import type { Fixtures } from './fixtures.js';
import { requestHeaders } from './headers.js';
import { Ids } from './ids.js';
import type { Rng } from './rng.js';
import { volumeAction } from './routes/actions.js';
import { attachmentComplete, attachmentCreate, attachmentDelete, attachmentList, attachmentShow, attachmentUpdate } from './routes/attachments.js';
import type { Draft, RouteContext, RouteFamily } from './routes/draft.js';
import { oddPath, versions } from './routes/other.js';
import { volumeCreate, volumeDelete, volumeList, volumeShow } from './routes/volumes.js';
import type { Req } from './types.js';
import { Values } from './values.js';

/** Route families by kind, with their weights. */
const FAMILIES: readonly (readonly [number, string, RouteFamily])[] = [
  [26, 'action', volumeAction],
  [5, 'vol-show', volumeShow],
  [4, 'vol-list', volumeList],
  [4, 'vol-create', volumeCreate],
  [3, 'vol-delete', volumeDelete],
  [4, 'att-list', attachmentList],
  [3, 'att-show', attachmentShow],
  [6, 'att-create', attachmentCreate],
  [4, 'att-update', attachmentUpdate],
  [3, 'att-delete', attachmentDelete],
  [4, 'att-complete', attachmentComplete],
  [3, 'versions', versions],
  [3, 'odd-path', oddPath],
];

export class Generator {
  readonly values: Values;
  /** The ids aimed at; its pool and attachments are refreshed by the run. */
  readonly ids: Ids;
  constructor(
    private readonly rng: Rng,
    private readonly fx: Fixtures,
  ) {
    this.values = new Values(rng);
    this.ids = new Ids(rng, fx);
  }

  next(): Req {
    const r = this.rng;
    const [kind, family] = r.weighted<readonly [string, RouteFamily]>(FAMILIES.map(([w, k, f]) => [w, [k, f]] as const));
    const p = this.ids.project();
    const noProject = r.chance(0.05);
    const c: RouteContext = {
      rng: r,
      values: this.values,
      ids: this.ids,
      fx: this.fx,
      base: noProject ? '/v3' : `/v3/${encodeURIComponent(p).replace('%2520', '%20')}`,
      bp: noProject ? '/v3' : '/v3/{p}',
    };
    const d: Draft = { method: 'GET', path: '', route: '', body: null, target: '' };
    family(c, d);
    // Any method now and then, on any path.
    if (kind !== 'versions' && r.chance(0.06)) {
      d.method = r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
      d.route = `${d.method}* ${d.route.split(' ').slice(1).join(' ')}`;
      if (r.chance(0.5) && d.body === null) d.body = this.values.bodyBytes({ x: 1 });
    }
    // A body where there is none (GET/DELETE) now and then.
    if (d.body === null && r.chance(0.04)) d.body = this.values.bodyBytes({ volume: { size: 1 } });
    const headers = requestHeaders(r, d.body);
    return { ...d, headers, chunked: d.body !== null && r.chance(0.05) };
  }
}
