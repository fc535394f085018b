// GET /v3/{project_id}/scheduler-stats/get_pools (cinder/api/contrib/scheduler_stats.py and
// views/scheduler_stats.py) and GET /v3/{project_id}/capabilities/{host}
// (api/contrib/capabilities.py, views/capabilities.py): what the scheduler and a backend report.
import type { FastifyInstance } from 'fastify';
import { InvalidParameterValue } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import type { AdminApiSurface, VolumeApiSurface } from '../../volume-api/api.js';
import { HttpFault } from '../faults.js';
import { MV } from '../microversion.js';
import { lastParam, popParam, queryPairs } from '../pagination.js';
import { runResource, type ResourceMethod } from '../resource.js';
import { boolFromString, isValidBoolStr, pyStr } from '../../common/python.js';

/** The `pool` entry of Cinder's stock resource_filters.json. */
const POOL_RESOURCE_FILTERS = ['name', 'volume_type'];
const POOL_FILTER = 3028;
const POOL_TYPE_FILTER = 3035;

/** Internally storage_protocol may list its variants (FC, fibre_channel); users see the first. */
function oneProtocol(caps: Record<string, unknown> | null | undefined): Record<string, unknown> | null | undefined {
  return caps && Array.isArray(caps.storage_protocol) ? { ...caps, storage_protocol: caps.storage_protocol[0] } : caps;
}

export function registerSchedulerRoutes(app: FastifyInstance, api: VolumeApiSurface & Partial<AdminApiSurface>): void {
  const getPools: ResourceMethod = {
    kind: 'method',
    takesBody: 'none',
    controller: async (c) => {
      if (!api.getPools) throw new Error('volume API has no getPools');
      // The controller authorizes before it looks at the query (a member's bad filter is a 403).
      authorize(c.ctx, 'scheduler_extension:scheduler_stats:get_pools');
      const pairs = queryPairs(c);
      const rawDetail = lastParam(pairs, 'detail');
      if (rawDetail !== undefined && !isValidBoolStr(rawDetail)) {
        throw new InvalidParameterValue({ err: `Value '${pyStr(rawDetail)}' for 'detail' is not a boolean.` });
      }
      const detail = rawDetail !== undefined && boolFromString(rawDetail);
      while (popParam(pairs, 'detail') !== undefined);
      // process_general_filtering('pool'): from 3.31 the keys must be configured pool filters (admins
      // too); before it, _process_pool_filtering drops every filter below 3.28.
      if (c.version >= MV.RESOURCE_FILTER) {
        if (pairs.some(([k]) => /[^\x00-\x7f]/.test(k))) throw new HttpFault(400, 'Filter keys can only contain ASCII characters.');
        const like = c.version >= MV.LIKE_FILTER;
        const invalid = pairs
          .map(([k]) => k)
          .filter((k) => !POOL_RESOURCE_FILTERS.includes(k) && !(like && POOL_RESOURCE_FILTERS.includes(`${k}~`)))
          .filter((k) => k !== 'all_tenants');
        if (invalid.length) throw new HttpFault(400, `Invalid filters ${invalid.join(',')} are found in query options.`);
        while (popParam(pairs, 'all_tenants') !== undefined);
      } else if (c.version < POOL_FILTER) {
        pairs.length = 0;
      }
      const filters = Object.fromEntries(pairs);
      if (c.version < POOL_TYPE_FILTER) delete filters.volume_type;
      const pools = await api.getPools(c.ctx, filters);
      const body = pools.map((p) => (detail ? { name: p.name, capabilities: oneProtocol(p.capabilities) } : { name: p.name }));
      return { kind: 'object', status: 200, body: { pools: body } };
    },
  };

  const capabilities: ResourceMethod = {
    kind: 'method',
    takesBody: 'none',
    controller: async (c) => {
      if (!api.getCapabilities) throw new Error('volume API has no getCapabilities');
      const { capabilities: caps, topic } = await api.getCapabilities(c.ctx, c.params.id);
      const protocol = oneProtocol(caps)?.storage_protocol;
      return {
        kind: 'object',
        status: 200,
        body: {
          namespace: `OS::Storage::Capabilities::${topic}`,
          vendor_name: caps.vendor_name ?? null,
          volume_backend_name: caps.volume_backend_name ?? null,
          pool_name: caps.pool_name ?? null,
          driver_version: caps.driver_version ?? null,
          storage_protocol: protocol ?? null,
          display_name: caps.display_name ?? null,
          description: caps.description ?? null,
          visibility: caps.visibility ?? null,
          replication_targets: caps.replication_targets ?? [],
          properties: caps.properties ?? null,
        },
      };
    },
  };

  type P = { Params: { project_id?: string; id?: string } };
  app.get<P>('/v3/:project_id/scheduler-stats/get_pools', (req, reply) => runResource(req, reply, getPools, {}, req.params.project_id));
  app.get<P>('/v3/scheduler-stats/get_pools', (req, reply) => runResource(req, reply, getPools, {}, undefined));
  app.get<P>('/v3/:project_id/capabilities/:id', (req, reply) => runResource(req, reply, capabilities, { id: req.params.id! }, req.params.project_id));
  app.get<P>('/v3/capabilities/:id', (req, reply) => runResource(req, reply, capabilities, { id: req.params.id! }, undefined));
}
