// GET /v3/{project_id}/os-hosts and /os-hosts/{host} (cinder/api/contrib/hosts.py, policy
// volume_extension:hosts = admin_api), and GET /os-availability-zone
// (api/contrib/availability_zones.py with volume/api.py list_availability_zones and
// api/views/availability_zones.py). The hosts update action (enable/disable, which Cinder's
// HostAPI answers with NotImplementedError) checks its body as Cinder's and then answers 500.
import type { FastifyInstance } from 'fastify';
import type { CinderConfig } from '../../common/config.js';
import { HostNotFound, ServiceNotFound } from '../../common/exceptions.js';
import { authorize } from '../../common/policy.js';
import type { Db } from '../../db/client.js';
import { projectsOnHost, volumeDataForHost } from '../../db/hosts.js';
import { serviceGetAll, type ServiceRow } from '../../db/services-admin.js';
import { lastParam, queryPairs } from '../pagination.js';
import { resourceRoutes, type Controller, type ResourceCall } from '../resource.js';
import { apiDateTime } from '../views.js';
import { HttpFault } from '../faults.js';
import { pyStrip } from '../../common/python.js';

const VOLUME_TOPIC = 'cinder-volume';

function dbMs(v: string): number {
  return Date.parse(`${v.replace(' ', 'T')}Z`);
}

/** hosts.py _list_hosts: the enabled services (of a zone, when ?zone= is given). */
async function listHosts(db: Db, c: ResourceCall, downTime: number, service?: string) {
  const zone = lastParam(queryPairs(c), 'zone');
  let services: ServiceRow[] = (await serviceGetAll(db)).filter((s) => !s.disabled);
  if (zone) services = services.filter((s) => s.availability_zone === zone);
  const now = Date.now();
  const hosts = services.map((h) => ({
    host_name: h.host,
    service: h.topic,
    zone: h.availability_zone,
    'service-status': Math.abs(now - dbMs((h.updated_at ?? h.created_at)!)) / 1000 <= downTime ? 'available' : 'unavailable',
    'service-state': h.disabled ? 'disabled' : 'enabled',
    'last-update': apiDateTime(h.updated_at),
  }));
  return service ? hosts.filter((h) => h.service === service) : hosts;
}

export function registerHostRoutes(app: FastifyInstance, db: Db, config: CinderConfig): void {
  const downTime = config.DEFAULT.service_down_time;
  const index: Controller = async (c) => {
    authorize(c.ctx, 'volume_extension:hosts');
    return { kind: 'object', status: 200, body: { hosts: await listHosts(db, c, downTime) } };
  };

  /** show: the volume count and size per project on a cinder-volume host (snapshots: none here). */
  const show: Controller = async (c) => {
    const host = c.params.id;
    authorize(c.ctx, 'volume_extension:hosts');
    // Service.get_by_host_and_topic(host, 'cinder-volume', disabled=False)
    const ref = (await serviceGetAll(db, { host, topic: VOLUME_TOPIC })).find((s) => !s.disabled);
    if (!ref) throw new ServiceNotFound({ service_id: VOLUME_TOPIC, host });
    const refHost = ref.host!;
    const total = await volumeDataForHost(db, refHost);
    const resource = (project: string, n: number, gb: number) => ({
      resource: { host, project, volume_count: String(n), total_volume_gb: String(gb), snapshot_count: '0', total_snapshot_gb: '0' },
    });
    const resources = [resource('(total)', total.count, total.sum)];
    for (const project of await projectsOnHost(db, refHost)) {
      const d = await volumeDataForHost(db, refHost, project);
      resources.push(resource(project, d.count, d.sum));
    }
    return { kind: 'object', status: 200, body: { host: resources } };
  };

  const route = resourceRoutes(app, '/os-hosts');
  route('GET', '', { kind: 'method', takesBody: 'none', controller: index });
  route('GET', '/:id', { kind: 'method', takesBody: 'none', controller: show });
  // update (check_host first, then the policy): only `status` = enable/disable is a valid
  // setting, and Cinder's HostAPI.set_host_enabled is NotImplementedError (500) for it.
  route('PUT', '/:id', {
    kind: 'method',
    takesBody: 'required',
    controller: async (c) => {
      const hosts = await listHosts(db, c, downTime);
      if (!hosts.some((h) => h.host_name === c.params.id)) throw new HostNotFound({ host: c.params.id });
      authorize(c.ctx, 'volume_extension:hosts');
      const body = c.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('body has no items()');
      let setStatus = false;
      for (const [rawKey, rawVal] of Object.entries(body)) {
        if (typeof rawVal !== 'string') throw new Error(`${typeof rawVal} has no lower()`);
        const key = pyStrip(rawKey.toLowerCase());
        const val = pyStrip(rawVal.toLowerCase());
        if (key !== 'status') throw new HttpFault(400, `Invalid update setting: '${rawKey}'`);
        if (val !== 'enable' && val !== 'disable') throw new HttpFault(400, `Invalid status: '${rawVal}'`);
        setStatus = true;
      }
      if (setStatus) throw new Error('NotImplementedError: HostAPI.set_host_enabled');
      return { kind: 'object', status: 200, body: {} };
    },
  });

  /**
   * list_availability_zones (no cache on this path: the controller calls it without enable_cache):
   * a zone is available when any of its cinder-volume services is enabled.
   */
  const azIndex: Controller = async () => {
    const disabledMap = new Map<string | null, boolean>();
    for (const s of await serviceGetAll(db, { topic: VOLUME_TOPIC })) {
      disabledMap.set(s.availability_zone, (disabledMap.get(s.availability_zone) ?? true) && Boolean(s.disabled));
    }
    const info = [...disabledMap].map(([name, disabled]) => ({ zoneName: name, zoneState: { available: !disabled } }));
    return { kind: 'object', status: 200, body: { availabilityZoneInfo: info } };
  };
  resourceRoutes(app, '/os-availability-zone')('GET', '', { kind: 'method', takesBody: 'none', controller: azIndex });
}
