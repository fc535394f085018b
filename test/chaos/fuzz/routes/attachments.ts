// Route family: the attachments API (list, show, create, update, delete, os-complete).
import { aimAttachment, aimVolume, type RouteFamily } from './draft.js';

/** A percent-encoded id may not decode (a '%zz' id); the attachment body then carries it raw. */
function safeDecodeable(s: string): string {
  try {
    decodeURIComponent(s);
    return s;
  } catch {
    return encodeURIComponent(s);
  }
}

export const attachmentList: RouteFamily = (c, d) => {
  const detail = c.rng.chance(0.5);
  d.path = `${c.base}/attachments${detail ? '/detail' : c.rng.chance(0.1) ? '/summary' : ''}${c.ids.query('attachments')}`;
  d.route = `GET ${c.bp}/attachments${detail ? '/detail' : d.path.includes('/summary') ? '/summary' : ''}`;
  d.target = 'list';
};

export const attachmentShow: RouteFamily = (c, d) => {
  d.path = `${c.base}/attachments/${aimAttachment(c, d)}`;
  d.route = `GET ${c.bp}/attachments/{id}`;
};

export const attachmentCreate: RouteFamily = (c, d) => {
  const r = c.rng;
  d.method = 'POST';
  d.path = `${c.base}/attachments`;
  d.route = `POST ${c.bp}/attachments`;
  const vid = aimVolume(c, d);
  const att: Record<string, unknown> = { volume_uuid: decodeURIComponent(safeDecodeable(vid)) };
  if (r.chance(0.8)) att.instance_uuid = r.uuid();
  if (r.chance(0.5)) att.connector = c.ids.connector();
  if (r.chance(0.3)) att.mode = r.pick(['rw', 'ro']);
  d.body = c.values.bodyBytes({ attachment: att }, 0.3);
};

export const attachmentUpdate: RouteFamily = (c, d) => {
  d.method = 'PUT';
  d.path = `${c.base}/attachments/${aimAttachment(c, d)}`;
  d.route = `PUT ${c.bp}/attachments/{id}`;
  d.body = c.values.bodyBytes({ attachment: { connector: c.ids.connector() } }, 0.3);
};

export const attachmentDelete: RouteFamily = (c, d) => {
  d.method = 'DELETE';
  d.path = `${c.base}/attachments/${aimAttachment(c, d)}`;
  d.route = `DELETE ${c.bp}/attachments/{id}`;
};

export const attachmentComplete: RouteFamily = (c, d) => {
  d.method = 'POST';
  d.path = `${c.base}/attachments/${aimAttachment(c, d)}/action`;
  d.route = `POST ${c.bp}/attachments/{id}/action os-complete`;
  d.body = c.values.bodyBytes({ 'os-complete': null }, 0.5);
};
