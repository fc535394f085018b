// The ids, projects, connectors and query strings a request is aimed with: mostly the fixtures'
// volumes and the attachments seen, else missing or malformed ones.
import { CONNECTOR, CONNECTOR2, OTHER, PROJECT, ROLES, type Fixtures } from './fixtures.js';
import type { Rng } from './rng.js';

export class Ids {
  /** Every volume id seen (fixtures of earlier rounds, fuzzer-created ones). */
  pool: string[] = [];
  attachments: { id: string; volume_id: string }[] = [];
  constructor(
    private readonly rng: Rng,
    private readonly fx: Fixtures,
  ) {}

  volumeId(): { id: string; target: string } {
    const r = this.rng;
    return r.weighted<() => { id: string; target: string }>([
      [60, () => {
        const role = r.pick(ROLES);
        return { id: this.fx.ids.get(role)!, target: role };
      }],
      [10, () => (this.pool.length ? { id: r.pick(this.pool), target: 'pool' } : { id: this.fx.missing, target: 'missing' })],
      [8, () => ({ id: this.fx.missing, target: 'missing' })],
      [10, () => ({ id: encodeURIComponent(this.malformedId()), target: 'malformed' })],
      [1, () => ({ id: '%zz', target: 'malformed' })],
      [1, () => ({ id: '%', target: 'malformed' })],
    ])();
  }
  malformedId(): string {
    const r = this.rng;
    const base = this.fx.ids.get('available')!;
    return r.pick([
      base.toUpperCase(),
      base.replace(/-/g, ''),
      `${base}x`,
      base.slice(0, 35),
      `{${base}}`,
      `urn:uuid:${base}`,
      ' ',
      'ü',
      '😀',
      '\u0000',
      'a'.repeat(300),
      'f'.repeat(10000),
      '..',
      '.',
      'detail',
      'summary',
      "1' OR '1'='1",
      '-1',
      '0',
      'null',
      '%',
      'a/b',
      '%2F',
      'id?x=1',
      'id#frag',
    ]);
  }
  attachmentId(): { id: string; target: string } {
    const r = this.rng;
    if (this.attachments.length && r.chance(0.65)) {
      const a = r.pick(this.attachments);
      const role = [...this.fx.ids].find(([, id]) => id === a.volume_id)?.[0];
      return { id: a.id, target: role ? `att:${role}` : 'att:pool' };
    }
    if (r.chance(0.5)) return { id: r.uuid(), target: 'missing' };
    return { id: encodeURIComponent(this.malformedId()), target: 'malformed' };
  }
  attachmentOf(volumeId: string): string | null {
    const own = this.attachments.filter((a) => a.volume_id === volumeId);
    if (own.length && this.rng.chance(0.8)) return this.rng.pick(own).id;
    return this.rng.pick([null, this.rng.uuid(), this.attachments.length ? this.rng.pick(this.attachments).id : null]);
  }
  project(): string {
    const r = this.rng;
    return r.weighted<string>([
      [90, PROJECT],
      [3, OTHER],
      [1, PROJECT.toUpperCase()],
      [1, 'admin'],
      [1, 'f'.repeat(300)],
      [1, '-'],
      [1, '0'],
      [1, 'ü'],
      [1, `${PROJECT}%20`],
    ]);
  }
  connector(): unknown {
    return this.rng.pick([CONNECTOR, CONNECTOR2, { initiator: 'iqn.1994-05.com.redhat:fuzz3', host: 'fuzz3' }, { host: 'fuzz4' }]);
  }

  query(kind: 'volumes' | 'attachments' | 'delete'): string {
    const r = this.rng;
    if (r.chance(0.4)) return '';
    const keys =
      kind === 'delete'
        ? ['cascade', 'force', 'x']
        : ['limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir', 'all_tenants', 'status', 'name', 'volume_id', 'instance_id', 'attach_status', 'project_id', 'with_count', 'metadata', 'x', 'ü', 'status~', 'created_at'];
    const values = [
      '', '0', '1', '-1', '2', '1000', '1e3', '1.5', '99999999999999999999', 'abc', 'true', 'True', 'false', 'yes', 'no', 'asc', 'desc', 'ASC',
      'name:asc', 'created_at:desc,id', 'id:sideways', 'size', 'bogus', 'display_name', 'attach_status', r.uuid(),
      this.fx.ids.get('available')!, 'ü', 'a'.repeat(300), '%', "'", '{"k": "v"}', 'null', 'None',
    ];
    const n = 1 + r.int(3);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const k = r.pick(keys);
      const v = r.pick(values);
      parts.push(r.chance(0.05) ? `${k}=%zz` : r.chance(0.03) ? k : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
    }
    return `?${parts.join('&')}`;
  }
}
