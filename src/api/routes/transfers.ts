// /os-volume-transfer (cinder/api/contrib/volume_transfer.py) and /volume-transfers
// (cinder/api/v3/volume_transfer.py, no_snapshots from 3.55): create, list, detail, show, accept,
// delete; views as cinder/api/views/transfers.py (no_snapshots at 3.55, the history at 3.57).
import type { FastifyInstance } from 'fastify';
import { Invalid, InvalidVolume, VolumeSizeExceedsAvailableQuota } from '../../common/exceptions.js';
import type { Transfer } from '../../db/api.js';
import type { TransferAPI } from '../../volume-api/transfer.js';
import { HttpFault } from '../faults.js';
import { compile } from '../jsonschema.js';
import { lastParam, queryPairs } from '../pagination.js';
import { viewRequest } from '../pipeline.js';
import { resourceRoutes, type Controller, type ResourceCall, type ResourceMethod } from '../resource.js';
import { boolFromString, pyStrip } from '../../common/python.js';
import { validateBody } from '../schemas.js';
import { apiDateTime, resourceLinks } from '../views.js';
import { obj } from '../views-types.js';
import { booleanValue, uuid } from '../parameter-types.js';

/** mv.TRANSFER_WITH_SNAPSHOTS, TRANSFER_WITH_HISTORY, TRANSFER_ENCRYPTED_VOLUME */
const TRANSFER_WITH_SNAPSHOTS = 3055;
const TRANSFER_WITH_HISTORY = 3057;
const TRANSFER_ENCRYPTED_VOLUME = 3070;
const COLLECTION = 'os-volume-transfer';

const name = { oneOf: [{ type: 'string', format: 'name_skip_leading_trailing_spaces' }, { type: 'null' }] } as const;
const createSchema = compile({
  type: 'object',
  properties: {
    transfer: { type: 'object', properties: { volume_id: uuid, name }, required: ['volume_id'], additionalProperties: false },
  },
  required: ['transfer'],
  additionalProperties: false,
});
const createSchemaV355 = compile({
  type: 'object',
  properties: {
    transfer: {
      type: 'object',
      properties: { volume_id: uuid, name, no_snapshots: booleanValue },
      required: ['volume_id'],
      additionalProperties: false,
    },
  },
  required: ['transfer'],
  additionalProperties: false,
});
const acceptSchema = compile({
  type: 'object',
  properties: {
    accept: { type: 'object', properties: { auth_key: { type: ['string', 'integer'] } }, required: ['auth_key'], additionalProperties: false },
  },
  required: ['accept'],
  additionalProperties: false,
});

type TransferView = Transfer & { auth_key?: string };

function detailView(c: ResourceCall, t: TransferView, withKey: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: t.id,
    created_at: apiDateTime(t.created_at),
    name: t.display_name,
    volume_id: t.volume_id,
  };
  if (withKey) out.auth_key = t.auth_key;
  out.links = resourceLinks(viewRequest(c.req, c.ctx, c.version), COLLECTION, t.id);
  if (c.version >= TRANSFER_WITH_SNAPSHOTS) out.no_snapshots = Boolean(t.no_snapshots);
  if (c.version >= TRANSFER_WITH_HISTORY) {
    out.destination_project_id = t.destination_project_id;
    out.source_project_id = t.source_project_id;
    out.accepted = Boolean(t.accepted);
  }
  return out;
}

function summaryView(c: ResourceCall, t: { id: string; volume_id: string; display_name: string | null }): Record<string, unknown> {
  return { id: t.id, volume_id: t.volume_id, name: t.display_name, links: resourceLinks(viewRequest(c.req, c.ctx, c.version), COLLECTION, t.id) };
}

/** common.limited: offset and limit (at most 1000) from the query. */
function limited<T>(c: ResourceCall, items: T[]): T[] {
  const pairs = queryPairs(c);
  const offset = Number(lastParam(pairs, 'offset') ?? 0);
  const limit = Math.min(Number(lastParam(pairs, 'limit') ?? 1000), 1000);
  if (!Number.isInteger(offset) || offset < 0) throw new HttpFault(400, 'offset param must be positive');
  if (!Number.isInteger(limit) || limit < 0) throw new HttpFault(400, 'limit param must be positive');
  return items.slice(offset, offset + limit);
}

export function transferControllers(api: TransferAPI, v3: boolean) {
  const list = (detail: boolean): Controller => async (c) => {
    const pairs = queryPairs(c);
    const allTenants = boolFromString(lastParam(pairs, 'all_tenants') ?? 'false');
    const displayName = lastParam(pairs, 'name') ?? lastParam(pairs, 'display_name');
    const all = await api.getAll(c.ctx, { allTenants, displayName });
    const items = limited(c, all).map((t) => (detail ? detailView(c, t, false) : summaryView(c, t)));
    return obj(200, { transfers: items });
  };

  const show: Controller = async (c) => obj(200, { transfer: detailView(c, await api.get(c.ctx, c.params.id), false) });

  const create: Controller = async (c) => {
    const withSnapshots = v3 && c.version >= TRANSFER_WITH_SNAPSHOTS;
    const body = validateBody<{ transfer: { volume_id: string; name?: string | null; no_snapshots?: boolean | string } }>(
      withSnapshots ? createSchemaV355 : createSchema,
      c.body,
      c.bodyText,
    );
    const t = body.transfer;
    const nm = t.name === undefined || t.name === null ? null : pyStrip(t.name);
    const noSnapshots = v3 ? boolFromString(String(t.no_snapshots ?? false)) : false;
    try {
      const created = await api.create(c.ctx, t.volume_id, nm, { noSnapshots, allowEncrypted: v3 && c.version >= TRANSFER_ENCRYPTED_VOLUME });
      return obj(202, { transfer: detailView(c, created, true) });
    } catch (e) {
      // contrib catches InvalidVolume; v3 any Invalid: a plain 400 with the message.
      if (e instanceof InvalidVolume || (v3 && e instanceof Invalid)) throw new HttpFault(400, e.msg);
      throw e;
    }
  };

  const accept: Controller = async (c) => {
    const body = validateBody<{ accept: { auth_key: string | number } }>(acceptSchema, c.body, c.bodyText);
    try {
      return obj(202, { transfer: summaryView(c, await api.accept(c.ctx, c.params.id, body.accept.auth_key)) });
    } catch (e) {
      // api/contrib/volume_transfer.py accept: HTTPRequestEntityTooLarge(headers={'Retry-After': '0'});
      // VolumeLimitExceeded (a QuotaError) reaches FaultWrapper with its class's Retry-After: 0.
      if (e instanceof VolumeSizeExceedsAvailableQuota) throw new HttpFault(413, e.msg, { 'Retry-After': '0' });
      if (e instanceof InvalidVolume) throw new HttpFault(400, e.msg);
      throw e;
    }
  };

  const remove: Controller = async (c) => {
    await api.delete(c.ctx, c.params.id);
    return { kind: 'raw', status: 202 };
  };

  return { index: list(false), detail: list(true), show, create, accept, remove };
}

export function registerTransferRoutes(app: FastifyInstance, api: TransferAPI): void {
  const m = (controller: Controller, takesBody: 'none' | 'required' = 'none'): ResourceMethod => ({ kind: 'method', takesBody, controller });
  for (const [base, v3] of [['/os-volume-transfer', false], ['/volume-transfers', true]] as const) {
    const c = transferControllers(api, v3);
    const on = resourceRoutes(app, base);
    on('GET', '', m(c.index));
    on('GET', '/detail', m(c.detail));
    on('POST', '', m(c.create, 'required'));
    on('GET', '/:id', m(c.show));
    on('POST', '/:id/accept', m(c.accept, 'required'));
    on('DELETE', '/:id', m(c.remove));
    on('PUT', '/:id', { kind: 'absent' });
  }
}
