// GET /v3/{project_id}/stale[?older_than=<s>]: the stale report for admins (not a Cinder resource;
// src/volume-api/stale.ts builds it). JSON: {"stale": {older_than, generated_at, volumes, attachments}}.
import type { FastifyInstance } from 'fastify';
import { InvalidInput } from '../../common/exceptions.js';
import type { AdminApiSurface, VolumeApiSurface } from '../../volume-api/api.js';
import { runResource, type ResourceMethod } from '../resource.js';
import { lastParam, queryPairs } from '../pagination.js';

export function registerStaleRoutes(
  app: FastifyInstance,
  api: VolumeApiSurface & Partial<AdminApiSurface>,
  defaultOlderThanS: number,
): void {
  const show: ResourceMethod = {
    kind: 'method',
    takesBody: 'none',
    controller: async (c) => {
      if (!api.staleReport) throw new Error('volume API has no staleReport');
      const raw = lastParam(queryPairs(c), 'older_than');
      const olderThan = raw === undefined ? defaultOlderThanS : Number(raw);
      if (raw !== undefined && (!/^\d+$/.test(raw) || !Number.isSafeInteger(olderThan))) {
        throw new InvalidInput({ reason: `older_than must be a whole number of seconds, got '${raw}'` });
      }
      return { kind: 'object', status: 200, body: { stale: await api.staleReport(c.ctx, olderThan) } };
    },
  };
  type P = { Params: { project_id?: string } };
  app.get<P>('/v3/:project_id/stale', (req, reply) => runResource(req, reply, show, {}, req.params.project_id));
  app.get<P>('/v3/stale', (req, reply) => runResource(req, reply, show, {}, undefined));
}
