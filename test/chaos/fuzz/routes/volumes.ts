// Route family: the volumes themselves (show, list, create, delete).
import { aimVolume, type RouteFamily } from './draft.js';

export const volumeShow: RouteFamily = (c, d) => {
  d.path = `${c.base}/volumes/${aimVolume(c, d)}`;
  d.route = `GET ${c.bp}/volumes/{id}`;
};

export const volumeList: RouteFamily = (c, d) => {
  const detail = c.rng.chance(0.5);
  d.path = `${c.base}/volumes${detail ? '/detail' : ''}${c.ids.query('volumes')}`;
  d.route = `GET ${c.bp}/volumes${detail ? '/detail' : ''}`;
  d.target = 'list';
};

export const volumeCreate: RouteFamily = (c, d) => {
  const r = c.rng;
  d.method = 'POST';
  d.path = `${c.base}/volumes`;
  d.route = `POST ${c.bp}/volumes`;
  d.target = 'new';
  const vol: Record<string, unknown> = { size: r.pick([1, 1, 1, '1', 2]) };
  if (r.chance(0.5)) vol.name = r.pick(['fz', '  padded  ', 'ü']);
  if (r.chance(0.3)) vol.description = 'fuzz';
  if (r.chance(0.2)) vol.metadata = { k: 'v' };
  if (r.chance(0.2)) vol.availability_zone = r.pick(['nova', 'elsewhere']);
  if (r.chance(0.1)) vol.volume_type = r.pick(['__DEFAULT__', 'lvm', r.uuid()]);
  if (r.chance(0.1)) vol.multiattach = r.pick([false, 'false', true]);
  if (r.chance(0.05)) vol.source_volid = c.fx.ids.get('available');
  if (r.chance(0.05)) vol.snapshot_id = r.uuid();
  if (r.chance(0.05)) vol.imageRef = 'img';
  const tmpl: Record<string, unknown> = { volume: vol };
  if (r.chance(0.1)) tmpl['OS-SCH-HNT:scheduler_hints'] = r.pick([{ same_host: [r.uuid()] }, null, { local_to_instance: r.uuid() }]);
  d.body = c.values.bodyBytes(tmpl, 0.25);
};

export const volumeDelete: RouteFamily = (c, d) => {
  d.method = 'DELETE';
  // Mostly volumes this fuzzer made or missing ones; fixtures now and then.
  if (c.ids.pool.length && c.rng.chance(0.5)) {
    d.targetId = c.rng.pick(c.ids.pool);
    d.target = 'pool';
  } else aimVolume(c, d);
  d.path = `${c.base}/volumes/${d.targetId}${c.ids.query('delete')}`;
  d.route = `DELETE ${c.bp}/volumes/{id}`;
};
