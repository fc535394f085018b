// Route families outside volumes and attachments: the version documents, and odd paths next to the
// real routes (trailing slashes, doubled slashes, sub-resources the port does not have).
import { PROJECT } from '../fixtures.js';
import { aimVolume, type RouteFamily } from './draft.js';

export const versions: RouteFamily = (c, d) => {
  const r = c.rng;
  d.path = r.pick(['/', '/v3', '/v3/', '/v2/', '/v1/', '/v3//', '/?x=1', '/v3/?x=1']);
  d.method = r.pick(['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
  d.route = `${d.method} ${d.path.replace(/\?.*/, '')}`;
  d.target = 'versions';
  if (d.method !== 'GET' && r.chance(0.5)) d.body = c.values.bodyBytes({ a: 1 }, 0.5);
};

export const oddPath: RouteFamily = (c, d) => {
  const id = aimVolume(c, d);
  const base = c.base;
  d.path = c.rng.pick([
    `${base}`,
    `${base}/`,
    `${base}/volumes/`,
    `${base}/volumes/${id}/`,
    `${base}/volumes/${id}/action/`,
    `${base}/volumes/${id}/action/x`,
    `${base}/volumes/${id}/metadata`,
    `${base}/volumes/${id}/attachments`,
    `${base}/snapshots`,
    `${base}/attachments/`,
    `${base}//volumes`,
    `${base}/volumes//action`,
    `${base}/volumes/detail/x`,
    `${base}/VOLUMES`,
    `${base}/volumes%2F${id}`,
    `${base}/types`,
    `/v3/${PROJECT}/../${PROJECT}/volumes`,
  ]);
  d.route = `ODD ${d.path.replace(base, c.bp).replace(id, '{id}')}`;
};
