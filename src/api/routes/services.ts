// /v3/{project_id}/os-services (cinder/api/contrib/services.py ServiceController, its schemas in
// api/schemas/services.py, policies/services.py): index, and update's actions enable, disable,
// disable-log-reason, freeze, thaw, failover_host/failover, set-log and get-log (3.32).
// set-log/get-log reach the scheduler and volume services over RPC (src/rpc/log-levels.ts). Not
// ported: freeze/thaw's RPC to the volume-manager: the
// manager's part (volume/manager.py freeze_host/thaw_host with LVM's no-op freeze_backend) is the
// service row's disabled/disabled_reason, written here.
import type { FastifyInstance } from 'fastify';
import type { CinderConfig } from '../../common/config.js';
import { InvalidInput, InvalidParameterValue, ServiceNotFound } from '../../common/exceptions.js';
import type { Logger } from '../../common/log.js';
import { authorize } from '../../common/policy.js';
import type { Db } from '../../db/client.js';
import { serviceConditionalFrozen, serviceGetAll, serviceGetByArgs, serviceUpdate, type ServiceRow } from '../../db/services-admin.js';
import type { AdminApiSurface, VolumeApiSurface } from '../../volume-api/api.js';
import { compile } from '../jsonschema.js';
import { resourceRoutes, type Controller, type ResourceCall, type ResourceResult } from '../resource.js';
import { lastParam, queryPairs } from '../pagination.js';
import { validateBody } from '../schemas.js';
import { apiDateTime } from '../views.js';
import { pyRepr } from '../../common/python.js';
import { getLevels, setLevels, type LogLevelsRpc } from '../../rpc/log-levels.js';

const POLICY = {
  getAll: 'volume_extension:services:index',
  update: 'volume_extension:services:update',
  failover: 'volume:failover_host',
  freeze: 'volume:freeze_host',
  thaw: 'volume:thaw_host',
} as const;

const CLUSTER_SUPPORT = 3007;
const REPLICATION_CLUSTER = 3026;
const LOG_LEVEL = 3032;
const BACKEND_STATE_REPORT = 3049;

const API_BINARY = 'cinder-api';
const VOLUME_BINARY = 'cinder-volume';
/** constants.LOG_BINARIES */
const LOG_BINARIES = ['cinder-scheduler', VOLUME_BINARY, 'cinder-backup', API_BINARY];

// ---- schemas (cinder/api/schemas/services.py) --------------------------------------------------

const cinderHost = { type: ['string', 'null'], minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._#@:/+\\[\\]]*$' } as const;
const nullableString = { type: ['string', 'null'], minLength: 0, maxLength: 255 } as const;
const binaryEnum = { type: 'string', enum: [...LOG_BINARIES, '', '*'] } as const;
const name255 = { type: 'string', minLength: 1, maxLength: 255 } as const;

const enableAndDisableProps = { binary: name255, host: cinderHost, cluster: nullableString, service: name255 };
const enableAndDisable = compile({
  type: 'object',
  properties: enableAndDisableProps,
  anyOf: [{ required: ['binary'] }, { required: ['service'] }],
  additionalProperties: false,
} as const);
const disableLogReason = compile({
  type: 'object',
  properties: { ...enableAndDisableProps, disabled_reason: { ...name255, format: 'disabled_reason' } },
  anyOf: [{ required: ['binary'] }, { required: ['service'] }],
  additionalProperties: false,
} as const);
const setLog = compile({
  type: 'object',
  properties: { binary: binaryEnum, server: nullableString, prefix: nullableString, level: { type: ['string', 'null'], format: 'level' } },
  additionalProperties: false,
} as const);
const getLog = compile({
  type: 'object',
  properties: { binary: binaryEnum, server: nullableString, prefix: nullableString },
  additionalProperties: false,
} as const);
const freezeAndThaw = compile({
  type: 'object',
  properties: { cluster: nullableString, host: cinderHost },
  additionalProperties: false,
} as const);
const failoverHost = compile({
  type: 'object',
  properties: { host: cinderHost, backend_id: nullableString, cluster: nullableString },
  additionalProperties: false,
} as const);

type Body = Record<string, string | null | undefined>;

/** api/common.py get_cluster_host; clusterVersion false: never the cluster, the host required. */
export function getClusterHost(version: number, body: Body, clusterVersion: number | false): [string | null, string | null] {
  let cluster: string | null = null;
  let msg = 'Host field is missing.';
  if (clusterVersion !== false && version >= clusterVersion) {
    cluster = body.cluster ?? null;
    msg = 'One and only one of cluster and host must be set.';
  }
  const host = body.host ?? null;
  if (Boolean(cluster) === Boolean(host)) throw new InvalidInput({ reason: msg });
  return [cluster, host];
}

/** DB text datetime (UTC) as epoch ms. */
function dbMs(v: string): number {
  return Date.parse(`${v.replace(' ', 'T')}Z`);
}

export interface ServiceRoutesDeps {
  db: Db;
  config: CinderConfig;
  log: Logger;
  volumeApi: VolumeApiSurface & Partial<AdminApiSurface>;
  logLevelsRpc?: LogLevelsRpc;
}

export function servicesControllers({ db, config, log, volumeApi, logLevelsRpc }: ServiceRoutesDeps) {
  const ok = (body: unknown): ResourceResult => ({ kind: 'object', status: 200, body });
  const accepted: ResourceResult = { kind: 'raw', status: 202 };
  const downTime = config.DEFAULT.service_down_time;

  const index: Controller = async (c) => {
    authorize(c.ctx, POLICY.getAll);
    const pairs = queryPairs(c);
    const host = lastParam(pairs, 'host');
    const binary = lastParam(pairs, 'binary');
    const services = await serviceGetAll(db, { host: host || undefined, binary });
    let backendState: Map<string, unknown> | null = null;
    if (c.version >= BACKEND_STATE_REPORT && volumeApi.getPools) {
      backendState = new Map();
      for (const pool of await volumeApi.getPools(c.ctx, {})) {
        const caps = (pool.capabilities ?? {}) as Record<string, unknown>;
        backendState.set(pool.name.split('#')[0], 'backend_state' in caps ? caps.backend_state : 'up');
      }
    }
    const now = Date.now();
    const svcs = services.map((svc) => {
      let updatedAt = svc.updated_at;
      const deltaS = (now - dbMs((svc.updated_at ?? svc.created_at)!)) / 1000;
      if (svc.modified_at && Math.abs(deltaS) >= Math.abs((now - dbMs(svc.modified_at)) / 1000)) updatedAt = svc.modified_at;
      const ret: Record<string, unknown> = {
        binary: svc.binary,
        host: svc.host,
        zone: svc.availability_zone,
        status: svc.disabled ? 'disabled' : 'enabled',
        state: Math.abs(deltaS) <= downTime ? 'up' : 'down',
        updated_at: apiDateTime(updatedAt),
      };
      if (backendState && svc.binary === VOLUME_BINARY) ret.backend_state = backendState.get(svc.host ?? '') ?? null;
      if (c.version >= CLUSTER_SUPPORT) ret.cluster = svc.cluster_name;
      // os-extended-services is always loaded.
      ret.disabled_reason = svc.disabled_reason;
      if (svc.binary === VOLUME_BINARY) {
        ret.replication_status = svc.replication_status;
        ret.active_backend_id = svc.active_backend_id;
        ret.frozen = svc.frozen;
      }
      return ret;
    });
    return ok({ services: svcs });
  };

  /** volume/api.py _get_cluster_and_services_for_replication (no clusters in this port). */
  async function replicationServices(host: string | null, cluster: string | null): Promise<ServiceRow[]> {
    const services = host
      ? await serviceGetAll(db, { host, binary: VOLUME_BINARY })
      : (await serviceGetAll(db, { hostOrCluster: cluster!, binary: VOLUME_BINARY })).filter((s) => s.cluster_name);
    if (!services.length) {
      // ServiceNotFound(msg), turned into InvalidInput by _volume_api_proxy.
      throw new InvalidInput({ reason: host ? `No service found with host=${host}` : `No service found with cluster=${cluster}` });
    }
    const expected = host ? services[0].host : services[0].cluster_name;
    if (services.some((s) => (host ? s.host : s.cluster_name) !== expected)) {
      throw new InvalidParameterValue({ err: 'Services from different clusters found.' });
    }
    return services;
  }

  /** _replication_db_change's "No service could be changed" text. */
  function notChanged(field: string, expected: string, hosts: (string | null)[], checkUp: boolean): InvalidInput {
    const up = checkUp ? 'and must be up ' : '';
    return new InvalidInput({ reason: `No service could be changed: ${field} in ${pyRepr(hosts)} must be ${expected} ${up}to failover.` });
  }

  /** freeze_host / thaw_host: frozen flipped on every matching service, then the manager's part. */
  async function freezeThaw(c: ResourceCall, freeze: boolean): Promise<ResourceResult> {
    const body = validateBody<Body>(freezeAndThaw, c.body, c.bodyText);
    const [cluster, host] = getClusterHost(c.version, body, REPLICATION_CLUSTER);
    authorize(c.ctx, freeze ? POLICY.freeze : POLICY.thaw);
    const services = await replicationServices(host, cluster);
    const changed: ServiceRow[] = [];
    const missed: ServiceRow[] = [];
    for (const s of services) ((await serviceConditionalFrozen(db, s.id, !freeze, freeze)) ? changed : missed).push(s);
    if (!changed.length) throw notChanged('frozen', freeze ? 'False' : 'True', missed.map((s) => s.host), false);
    // volume/manager.py freeze_host / thaw_host on the first service.
    await serviceUpdate(db, services[0].id, freeze ? { disabled: true, disabled_reason: 'frozen' } : { disabled: false, disabled_reason: '' });
    return ok(null);
  }

  /** failover_host / failover: replication_status must be enabled or failed-over and the service up. */
  async function failover(c: ResourceCall, clustered: boolean): Promise<ResourceResult> {
    const body = validateBody<Body>(failoverHost, c.body, c.bodyText);
    const [cluster, host] = getClusterHost(c.version, body, clustered ? REPLICATION_CLUSTER : false);
    authorize(c.ctx, POLICY.failover);
    const services = await replicationServices(host, cluster);
    const upSince = Date.now() - downTime * 1000;
    const able = services.filter(
      (s) => ['enabled', 'failed-over'].includes(s.replication_status ?? '') && dbMs((s.updated_at ?? s.created_at)!) >= upSince,
    );
    // LVM backends never report replication: no service can fail over (the RPC is not ported).
    throw notChanged('replication_status', "['enabled', 'failed-over']", services.filter((s) => !able.includes(s)).map((s) => s.host), true);
  }

  /** _log_params_binaries_services */
  async function logTargets(body: Body): Promise<{ binaries: string[]; services: ServiceRow[] }> {
    const binary = body.binary;
    if (binary === API_BINARY) return { binaries: [API_BINARY], services: [] };
    const all = binary === '*' || binary === null || binary === undefined || binary === '';
    const services = await serviceGetAll(db, {
      isUp: { downTimeS: downTime },
      binary: all ? undefined : binary,
      hostOrCluster: body.server || undefined,
    });
    return { binaries: all ? LOG_BINARIES : [binary], services };
  }

  async function setLogLevels(c: ResourceCall): Promise<ResourceResult> {
    const body = validateBody<Body>(setLog, c.body, c.bodyText);
    const { binaries, services } = await logTargets(body);
    if (binaries.includes(API_BINARY)) setLevels(log, body.prefix, body.level);
    for (const s of services) await logLevelsRpc?.set(c.ctx, s, body.prefix ?? null, body.level ?? null);
    return accepted;
  }

  async function getLogLevels(c: ResourceCall): Promise<ResourceResult> {
    const body = validateBody<Body>(getLog, c.body, c.bodyText);
    const { binaries, services } = await logTargets(body);
    const result: unknown[] = [];
    if ((!body.server || body.server === config.DEFAULT.host) && binaries.includes(API_BINARY)) {
      result.push({ host: config.DEFAULT.host, binary: API_BINARY, levels: getLevels(log, body.prefix) });
    }
    if (logLevelsRpc) {
      for (const s of services) {
        if (s.binary !== VOLUME_BINARY && s.binary !== 'cinder-scheduler') continue;
        result.push({ host: s.host, binary: s.binary, levels: await logLevelsRpc.get(c.ctx, s, body.prefix ?? null) });
      }
    }
    return ok({ log_levels: result });
  }

  const update: Controller = async (c) => {
    authorize(c.ctx, POLICY.update);
    const id = c.params.id;
    const ret: Record<string, unknown> = {};
    let disabled: boolean;
    let body: Body;
    if (id === 'enable' || id === 'disable') {
      body = validateBody<Body>(enableAndDisable, c.body, c.bodyText);
      disabled = id === 'disable';
    } else if (id === 'disable-log-reason') {
      body = validateBody<Body>(disableLogReason, c.body, c.bodyText);
      disabled = true;
      ret.disabled_reason = body.disabled_reason;
    } else if (id === 'freeze' || id === 'thaw') {
      return freezeThaw(c, id === 'freeze');
    } else if (id === 'failover_host' || (id === 'failover' && c.version >= REPLICATION_CLUSTER)) {
      return failover(c, id === 'failover');
    } else if (c.version >= LOG_LEVEL && id === 'set-log') {
      return setLogLevels(c);
    } else if (c.version >= LOG_LEVEL && id === 'get-log') {
      return getLogLevels(c);
    } else {
      throw new InvalidInput({ reason: 'Unknown action' });
    }
    const host = getClusterHost(c.version, body, false)[1]!;
    ret.disabled = disabled;
    // The deprecated `service` key; `binary` takes precedence.
    const service = body.service ?? '';
    const binary = body.binary ?? '';
    const binaryKey = binary || service;
    const svc = await serviceGetByArgs(db, host, binaryKey);
    if (!svc) throw new ServiceNotFound({ service_id: binaryKey || null, host });
    await serviceUpdate(db, svc.id, 'disabled_reason' in ret ? { disabled, disabled_reason: ret.disabled_reason as string } : { disabled });
    Object.assign(ret, { host, service, binary, status: disabled ? 'disabled' : 'enabled' });
    return ok(ret);
  };

  return { index, update };
}

export function registerServiceRoutes(app: FastifyInstance, deps: ServiceRoutesDeps): void {
  const c = servicesControllers(deps);
  const route = resourceRoutes(app, '/os-services');
  route('GET', '', { kind: 'method', takesBody: 'none', controller: c.index });
  route('PUT', '/:id', { kind: 'method', takesBody: 'required', controller: c.update });
}
