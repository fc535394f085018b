// The volume list filters, GET /volumes/summary, with_count, PUT /volumes/{id}, the metadata API
// and os-set_bootable / os-update_readonly_flag over HTTP against the API and volume-manager
// processes, each checked against the DB rows (cinder/api/v3/volumes.py, volume_metadata.py,
// contrib/volume_actions.py).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { Cluster, CinderClient, sleep } from '../support/cluster.js';

const P1 = 'aaaa0000000000000000000000000001';
const P2 = 'bbbb0000000000000000000000000002';
let cluster: Cluster;
let a: CinderClient;
let b: CinderClient;
const ids: Record<string, string> = {};

async function waitAvailable(c: CinderClient, id: string) {
  for (let i = 0; i < 300; i++) {
    const r = await c.get(id);
    if (r.json?.volume?.status === 'available') return r.json.volume;
    await sleep(50);
  }
  throw new Error(`volume ${id} never became available`);
}

const names = (r: { json: any }) => (r.json.volumes as any[]).map((v) => v.name).sort();

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.start();
  a = new CinderClient(cluster.baseUrl, P1);
  b = new CinderClient(cluster.baseUrl, P2);
  for (const [c, name, md] of [
    [a, 'alpha', { k: 'v1' }],
    [a, 'beta', { k: 'v2' }],
    [b, 'gamma', {}],
  ] as const) {
    const r = await c.create({ volume: { size: 1, name, metadata: md } });
    expect(r.status, r.text).toBe(202);
    ids[name] = r.json.volume.id;
    await waitAvailable(c, ids[name]);
  }
});
afterAll(async () => {
  await cluster?.stop();
});

describe('list filters', () => {
  it('name, status, metadata and bootable filter the project’s volumes', async () => {
    expect(names(await a.request('GET', `/v3/${P1}/volumes?name=alpha`))).toEqual(['alpha']);
    expect(names(await a.request('GET', `/v3/${P1}/volumes/detail?name=nonexistent`))).toEqual([]);
    expect(names(await a.request('GET', `/v3/${P1}/volumes/detail?status=available&name=beta`))).toEqual(['beta']);
    expect(names(await a.request('GET', `/v3/${P1}/volumes/detail?status=null`))).toEqual([]);
    expect(names(await a.request('GET', `/v3/${P1}/volumes?metadata=${encodeURIComponent("{'k': 'v2'}")}`))).toEqual(['beta']);
    expect(names(await a.request('GET', `/v3/${P1}/volumes?bootable=false`))).toEqual(['alpha', 'beta']);
    const bad = await a.request('GET', `/v3/${P1}/volumes?bootable=maybe`, undefined, { 'OpenStack-API-Version': 'volume 3.2' });
    expect(bad.status).toBe(400);
    expect(bad.json.badRequest.message).toBe("Invalid input received: 'bootable = maybe'");
  });

  it('admin all_tenants with project_id lists that project only; without all_tenants its own', async () => {
    expect(names(await a.request('GET', `/v3/${P1}/volumes?all_tenants=1&project_id=${P2}`))).toEqual(['gamma']);
    expect(names(await a.request('GET', `/v3/${P1}/volumes?all_tenants=1`))).toEqual(['alpha', 'beta', 'gamma']);
    expect(names(await a.request('GET', `/v3/${P1}/volumes?project_id=${P2}`))).toEqual(['alpha', 'beta']);
  });

  it('LIKE filters from 3.34 and time comparisons from 3.60', async () => {
    const v334 = { 'OpenStack-API-Version': 'volume 3.34' };
    expect(names(await a.request('GET', `/v3/${P1}/volumes?name~=lph`, undefined, v334))).toEqual(['alpha']);
    const v360 = { 'OpenStack-API-Version': 'volume 3.60' };
    expect(names(await a.request('GET', `/v3/${P1}/volumes?created_at=gt:2000-01-01T00:00:00`, undefined, v360))).toEqual(['alpha', 'beta']);
    expect(names(await a.request('GET', `/v3/${P1}/volumes?created_at=lt:2000-01-01T00:00:00`, undefined, v360))).toEqual([]);
    const badOp = await a.request('GET', `/v3/${P1}/volumes?created_at=foo:2000-01-01`, undefined, v360);
    expect([badOp.status, badOp.json.badRequest.message]).toEqual([400, 'Invalid foo operator']);
    const badTime = await a.request('GET', `/v3/${P1}/volumes?created_at=gt:notatime`, undefined, v360);
    expect([badTime.status, badTime.json.badRequest.message]).toEqual([400, 'Invalid notatime value']);
  });

  it('with_count (3.45) adds count', async () => {
    const r = await a.request('GET', `/v3/${P1}/volumes?with_count=true&name=alpha`, undefined, { 'OpenStack-API-Version': 'volume 3.45' });
    expect(r.json.count).toBe(1);
    expect(names(r)).toEqual(['alpha']);
    const v345 = { 'OpenStack-API-Version': 'volume 3.45' };
    const own = await a.request('GET', `/v3/${P1}/volumes?with_count=1&limit=1`, undefined, v345);
    expect([own.json.count, own.json.volumes.length, own.json.volumes_links.length]).toEqual([2, 1, 1]);
    const all = await a.request('GET', `/v3/${P1}/volumes?with_count=1&all_tenants=1`, undefined, v345);
    expect(all.json.count).toBe(3);
  });
});

describe('summary', () => {
  it('3.12 counts the project, 3.36 adds metadata, all_tenants widens', async () => {
    const old = await a.request('GET', `/v3/${P1}/volumes/summary`, undefined, { 'OpenStack-API-Version': 'volume 3.11' });
    expect(old.status).toBe(404);
    const r = await a.request('GET', `/v3/${P1}/volumes/summary`, undefined, { 'OpenStack-API-Version': 'volume 3.12' });
    expect(r.json).toEqual({ 'volume-summary': { total_count: 2, total_size: 2 } });
    const m = await a.request('GET', `/v3/${P1}/volumes/summary?all_tenants=1`, undefined, { 'OpenStack-API-Version': 'volume 3.36' });
    expect(m.json['volume-summary'].total_count).toBe(3);
    expect(m.json['volume-summary'].metadata.k.sort()).toEqual(['v1', 'v2']);
  });
});

describe('PUT /volumes/{id} and the metadata API', () => {
  it('update renames, describes and replaces metadata', async () => {
    const r = await a.request('PUT', `/v3/${P1}/volumes/${ids.alpha}`, { volume: { name: ' alpha2 ', description: 'd', metadata: { x: 'y' } } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.volume).toMatchObject({ name: 'alpha2', description: 'd', metadata: { x: 'y' } });
    const row = cluster.volumeRow(ids.alpha);
    expect([row.display_name, row.display_description]).toEqual(['alpha2', 'd']);
    const md = cluster.sql<any>('SELECT `key`, value FROM volume_metadata WHERE volume_id = ? AND deleted = 0', ids.alpha);
    expect(md).toEqual([{ key: 'x', value: 'y' }]);
    const bad = await a.request('PUT', `/v3/${P1}/volumes/${ids.alpha}`, { volume: {} }, { 'OpenStack-API-Version': 'volume 3.53' });
    expect(bad.status).toBe(400);
  });

  it('metadata create/show/update/update_all/delete', async () => {
    const base = `/v3/${P1}/volumes/${ids.beta}/metadata`;
    let r = await a.request('POST', base, { metadata: { a: '1', k: 'v2' } });
    expect([r.status, r.json]).toEqual([200, { metadata: { a: '1', k: 'v2' } }]);
    r = await a.request('GET', `${base}/a`);
    expect(r.json).toEqual({ meta: { a: '1' } });
    r = await a.request('PUT', `${base}/a`, { meta: { a: '2' } });
    expect(r.json).toEqual({ meta: { a: '2' } });
    r = await a.request('PUT', `${base}/a`, { meta: { b: '2' } });
    expect([r.status, r.json.badRequest.message]).toEqual([400, 'Request body and URI mismatch']);
    r = await a.request('PUT', base, { metadata: { z: '9' } });
    expect(r.json).toEqual({ metadata: { z: '9' } });
    r = await a.request('DELETE', `${base}/z`);
    expect(r.status).toBe(200);
    r = await a.request('GET', `${base}/z`);
    expect([r.status, r.json.itemNotFound.message]).toEqual([404, `Volume ${ids.beta} has no metadata with key z.`]);
    r = await a.request('GET', base);
    expect(r.json).toEqual({ metadata: {} });
    const live = cluster.sql<any>('SELECT COUNT(*) AS n FROM volume_metadata WHERE volume_id = ? AND deleted = 0', ids.beta);
    expect(Number(live[0].n)).toBe(0);
  });

  it('from 3.15 the index carries an Etag (md5 of json.dumps) and If-Match guards the PUTs', async () => {
    const base = `/v3/${P1}/volumes/${ids.beta}/metadata`;
    const v315 = { 'OpenStack-API-Version': 'volume 3.15' };
    await a.request('POST', base, { metadata: { e: 'f' } });
    const r = await a.request('GET', base, undefined, v315);
    const text = '{"metadata": {"e": "f"}}';
    expect([r.status, r.text]).toEqual([200, text]);
    expect(r.headers.get('etag')).toBe(createHash('md5').update(text).digest('hex'));
    const stale = await a.request('PUT', base, { metadata: { g: 'h' } }, { ...v315, 'If-Match': '"nope"' });
    expect(stale.status).toBe(412);
    const fresh = await a.request('PUT', base, { metadata: { g: 'h' } }, { ...v315, 'If-Match': `"${r.headers.get('etag')}"` });
    expect([fresh.status, fresh.json]).toEqual([200, { metadata: { g: 'h' } }]);
  });
});

describe('os-set_bootable and os-update_readonly_flag', () => {
  it('bootable column and readonly admin metadata', async () => {
    let r = await a.action(ids.beta, { 'os-set_bootable': { bootable: true } });
    expect(r.status, r.text).toBe(200);
    expect(cluster.volumeRow(ids.beta).bootable).toBe(1);
    r = await a.action(ids.beta, { 'os-set_bootable': { bootable: 'maybe' } });
    expect(r.status).toBe(400);
    r = await a.action(ids.beta, { 'os-update_readonly_flag': { readonly: true } });
    expect(r.status, r.text).toBe(202);
    const md = cluster.sql<any>("SELECT value FROM volume_admin_metadata WHERE volume_id = ? AND `key` = 'readonly' AND deleted = 0", ids.beta);
    expect(md).toEqual([{ value: 'True' }]);
    const v = await a.get(ids.beta);
    expect(v.json.volume).toMatchObject({ bootable: 'true', metadata: { readonly: 'True' }, replication_status: null });
  });
});

describe('replication_status', () => {
  it('NULL for a volume of a replication_enabled type too (EntryCreateTask never stores it)', async () => {
    const t = await a.request('POST', `/v3/${P1}/types`, { volume_type: { name: 'replicated', extra_specs: { replication_enabled: '<is> True' } } });
    expect(t.status, t.text).toBe(200);
    const r = await a.create({ volume: { size: 1, name: 'rep', volume_type: 'replicated' } });
    expect(r.status, r.text).toBe(202);
    expect(r.json.volume.replication_status).toBeNull();
    expect(cluster.volumeRow(r.json.volume.id).replication_status).toBeNull();
    const shown = await a.get(r.json.volume.id);
    expect(shown.json.volume.replication_status).toBeNull();
  });
});

describe('status conditions', () => {
  it('maintenance refuses update and metadata writes; readonly needs an available volume', async () => {
    const id = ids.gamma;
    const c = b;
    cluster.write("UPDATE volumes SET status = 'maintenance' WHERE id = ?", id);
    let r = await c.request('PUT', `/v3/${P2}/volumes/${id}`, { volume: { name: 'x' } });
    expect([r.status, r.json.badRequest.message]).toEqual([400, 'Invalid volume: The volume cannot be updated during maintenance.']);
    r = await c.request('POST', `/v3/${P2}/volumes/${id}/metadata`, { metadata: { a: 'b' } });
    expect([r.status, r.json.badRequest.message]).toEqual([
      400,
      'Invalid volume: Updating volume metadata is not allowed for volumes in maintenance status.',
    ]);
    r = await c.action(id, { 'os-update_readonly_flag': { readonly: false } });
    expect([r.status, r.json.badRequest.message]).toEqual([
      400,
      `Invalid volume: Volume ${id} status must be available to update readonly flag, but current status is: maintenance.`,
    ]);
    expect(cluster.volumeRow(id).display_name).toBe('gamma');
    cluster.write("UPDATE volumes SET status = 'available' WHERE id = ?", id);
  });
});
