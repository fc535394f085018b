// Route family: POST /v3/{p}/volumes/{id}/action, every legacy action (and a few that are not).
import { aimVolume, type RouteFamily } from './draft.js';

const STATUSES = ['available', 'in-use', 'error', 'detaching', 'creating', 'deleting', 'reserved', 'maintenance', 'attaching', 'error_deleting', 'error_detaching', 'AVAILABLE', 'bogus', ''];
const ATTACH_STATUSES = ['attached', 'detached', 'ATTACHED', 'attaching', 'bogus', ''];
const MIGRATION_STATUSES = ['migrating', 'error', 'success', 'completing', 'none', 'starting', 'None', 'bogus', ''];

export const volumeAction: RouteFamily = (c, d) => {
  const r = c.rng;
  const id = aimVolume(c, d);
  d.method = 'POST';
  d.path = `${c.base}/volumes/${id}/action`;
  const name = r.weighted<string>([
    [4, 'os-reserve'],
    [4, 'os-unreserve'],
    [4, 'os-begin_detaching'],
    [4, 'os-roll_detaching'],
    [6, 'os-attach'],
    [6, 'os-detach'],
    [6, 'os-initialize_connection'],
    [6, 'os-terminate_connection'],
    [4, 'os-force_detach'],
    [4, 'os-reset_status'],
    [1, 'os-extend'],
    [1, 'os-complete'],
    [1, 'OS-RESERVE'],
    [1, ''],
  ]);
  const inner: Record<string, () => unknown> = {
    'os-reserve': () => r.pick([null, {}, { fake: 'fake' }]),
    'os-unreserve': () => null,
    'os-begin_detaching': () => null,
    'os-roll_detaching': () => null,
    'os-attach': () =>
      r.chance(0.8)
        ? { instance_uuid: r.uuid(), mountpoint: '/dev/vdb', mode: r.pick(['rw', 'ro']) }
        : { host_name: 'fuzzhost', mountpoint: '/dev/vdb' },
    'os-detach': () => ({ attachment_id: c.ids.attachmentOf(id) }),
    'os-initialize_connection': () => ({ connector: c.ids.connector() }),
    'os-terminate_connection': () => ({ connector: c.ids.connector() }),
    'os-force_detach': () => ({ attachment_id: c.ids.attachmentOf(id), connector: r.pick([c.ids.connector(), null]) }),
    'os-reset_status': () => {
      const o: Record<string, unknown> = {};
      if (r.chance(0.7)) o.status = r.pick(STATUSES);
      if (r.chance(0.4)) o.attach_status = r.pick(ATTACH_STATUSES);
      if (r.chance(0.2)) o.migration_status = r.pick(MIGRATION_STATUSES);
      return o;
    },
    'os-extend': () => ({ new_size: 2 }),
    'os-complete': () => null,
    'OS-RESERVE': () => null,
    '': () => null,
  };
  d.route = `POST ${c.bp}/volumes/{id}/action ${name || '(empty)'}`;
  const tmpl = { [name]: inner[name]() };
  d.body = c.values.bodyBytes(tmpl, name === 'os-reset_status' ? 0.15 : 0.3);
};
