// /v3/{project_id}/messages (cinder/api/v3/messages.py MessagesController from 3.3, its view
// api/v3/views/messages.py, policies/messages.py): index (filters, sort and pagination from 3.5,
// configured filters checked from 3.31), show and delete.
import type { FastifyInstance } from 'fastify';
import { authorize } from '../../common/policy.js';
import type { Db } from '../../db/client.js';
import { messageDestroy, messageGet, messageGetAll, type MessageRow } from '../../db/messages.js';
import { translateAction, translateDetail } from '../../message/message-field.js';
import type { Volume } from '../../objects/volume.js';
import { HttpFault } from '../faults.js';
import { MV } from '../microversion.js';
import { paginationParams, queryPairs, sortParams } from '../pagination.js';
import { viewRequest } from '../pipeline.js';
import { resourceRoutes, type Controller, type ResourceCall } from '../resource.js';
import { apiDateTime, collectionLinks, removeVersionFromHref, type ViewRequest } from '../views.js';

const MESSAGES = 3003;
const MESSAGES_PAGINATION = 3005;
const COLLECTION = 'messages';
/** The `message` entry of Cinder's stock resource_filters.json. */
const MESSAGE_RESOURCE_FILTERS = ['resource_uuid', 'resource_type', 'event_id', 'request_id', 'message_level'];

function projectInUrl(req: ViewRequest): string {
  const p = req.ctx.project_id;
  return p && req.url.includes(`/v3/${p}`) ? p : '';
}

function join(...parts: string[]): string {
  return parts.reduce((out, p) => (p === '' ? (out.endsWith('/') ? out : `${out}/`) : out.endsWith('/') ? out + p : `${out}/${p}`));
}

/** _build_user_message: "<action text>:<detail text>" (the event-id texts only for messages without an action). */
function userMessage(m: MessageRow): string {
  return `${translateAction(m.action_id)}:${translateDetail(m.detail_id)}`;
}

/** ViewBuilder.detail's `message` */
function detail(req: ViewRequest, m: MessageRow): Record<string, unknown> {
  const project = projectInUrl(req);
  const ref: Record<string, unknown> = {
    id: m.id,
    event_id: m.event_id,
    user_message: userMessage(m),
    message_level: m.message_level,
    created_at: apiDateTime(m.created_at),
    guaranteed_until: apiDateTime(m.expires_at),
    request_id: m.request_id,
    links: [
      { rel: 'self', href: join(req.applicationUrl, project, COLLECTION, m.id) },
      { rel: 'bookmark', href: join(removeVersionFromHref(req.applicationUrl), project, COLLECTION, m.id) },
    ],
  };
  if (m.resource_type) ref.resource_type = m.resource_type;
  if (m.resource_uuid) ref.resource_uuid = m.resource_uuid;
  return ref;
}

const target = (m: MessageRow) => ({ project_id: m.project_id });

export function registerMessageRoutes(app: FastifyInstance, db: Db): void {
  const vreq = (c: ResourceCall) => viewRequest(c.req, c.ctx, c.version);
  /** _message_get's project_only: an admin context sees every project's. */
  const scope = (c: ResourceCall) => (c.ctx.is_admin ? null : c.ctx.project_id ?? '');

  const index: Controller = async (c) => {
    authorize(c.ctx, 'message:get_all');
    let opts: Parameters<typeof messageGetAll>[1] = { projectId: scope(c) };
    let limit: number | undefined;
    if (c.version >= MESSAGES_PAGINATION) {
      const pairs = queryPairs(c);
      const page = paginationParams(pairs);
      const { sortKeys, sortDirs } = sortParams(pairs);
      const filters = Object.fromEntries(pairs);
      if (c.version >= MV.RESOURCE_FILTER) {
        // common.reject_invalid_filters(context, filters, 'message', support_like)
        const keys = Object.keys(filters);
        if (keys.some((k) => /[^\x00-\x7f]/.test(k))) throw new HttpFault(400, 'Filter keys can only contain ASCII characters.');
        if (!c.ctx.is_admin) {
          const like = c.version >= MV.LIKE_FILTER;
          const invalid = keys.filter((k) => !MESSAGE_RESOURCE_FILTERS.includes(k) && !(like && MESSAGE_RESOURCE_FILTERS.includes(`${k}~`)));
          if (invalid.includes('all_tenants')) delete filters.all_tenants;
          const rest = invalid.filter((k) => k !== 'all_tenants');
          if (rest.length) throw new HttpFault(400, `Invalid filters ${rest.join(',')} are found in query options.`);
        }
      }
      limit = page.limit;
      opts = { ...opts, filters, marker: page.marker, limit: page.limit, offset: page.offset, sortKeys, sortDirs };
    }
    const messages = await messageGetAll(db, opts);
    const req = vreq(c);
    const body: Record<string, unknown> = { messages: messages.map((m) => detail(req, m)) };
    const next = collectionLinks(req, messages as unknown as Volume[], COLLECTION, limit ?? 1000);
    if (next.length) body.messages_links = next;
    return { kind: 'object', status: 200, body };
  };

  const show: Controller = async (c) => {
    const m = await messageGet(db, c.params.id, scope(c));
    authorize(c.ctx, 'message:get', target(m));
    return { kind: 'object', status: 200, body: { message: detail(vreq(c), m) } };
  };

  const remove: Controller = async (c) => {
    const m = await messageGet(db, c.params.id, scope(c));
    authorize(c.ctx, 'message:delete', target(m));
    await messageDestroy(db, m.id);
    return { kind: 'raw', status: 204 };
  };

  const route = resourceRoutes(app, `/${COLLECTION}`);
  route('GET', '', { kind: 'method', takesBody: 'none', controller: index, minVersion: MESSAGES });
  route('GET', '/:id', { kind: 'method', takesBody: 'none', controller: show, minVersion: MESSAGES });
  route('DELETE', '/:id', { kind: 'method', takesBody: 'none', controller: remove, minVersion: MESSAGES });
}
