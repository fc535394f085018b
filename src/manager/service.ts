// One volume backend as cinder-volume runs it (cinder/service.py + cmd/volume.py): the driver and
// its executor, the manager, the RPC server on the backend's queues, and the services-table
// heartbeat that tells the API (and Python peers) this backend is up.
import { logLevelMethods } from '../rpc/log-levels.js';
import { MessageApi } from '../message/api.js';
import { novaFromConfig } from '../compute/nova.js';
import { QuotaEngine, quotaConfigOf } from '../quota/index.js';
import { requireDriverInitialized } from './utils.js';
import path from 'node:path';
import type { BackendConfig, CinderConfig } from '../common/config.js';
import { poolName, serviceHost } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { stateReporter } from '../common/report-state.js';
import type { Db } from '../db/client.js';
import * as dbapi from '../db/api.js';
import { createBackendExecutor } from '../common/executor-process.js';
import { LockManager } from '../common/lock.js';
import { createLvmDriver } from '../drivers/lvm.js';
import { RpcServer } from '../rpc/server.js';
import type { RpcTransport } from '../rpc/transport-api.js';
import { VOLUME_RPC_API_VERSION } from '../rpc/volume-rpcapi.js';
import type { Connector, Volume } from '../objects/volume.js';
import { VolumeManager } from './manager.js';
import type { RetypeHost } from './retype.js';
import { CapabilityReporter } from './capabilities.js';
import { RpcClient } from '../rpc/client.js';
import { SchedulerRpcApi } from '../rpc/scheduler-rpcapi.js';
import { plainFromWire, requestSpecToPrimitive } from '../rpc/request-spec.js';
import type { RequestSpec } from '../rpc/request-spec.js';
import { VolumeUsageNotifier } from './notifier.js';
import { noopNotifier, type OsloNotifier } from '../notifier/notifier.js';
import { detachOutcomes } from '../common/metrics.js';
import type { OutlivedCall } from '../rpc/server.js';

export interface VolumeService {
  host: string;
  manager: VolumeManager;
  /** Calls of this backend whose work finished after the caller gave up (newest last). */
  outlivedCalls: readonly OutlivedCall[];
  stop(): Promise<void>;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** cinder_volume_detach_total{path, outcome} around a detach handler. */
function countDetach<T>(path: string, work: Promise<T>): Promise<T> {
  return work.then(
    (v) => {
      detachOutcomes.inc({ path, outcome: 'success' });
      return v;
    },
    (e: unknown) => {
      detachOutcomes.inc({ path, outcome: 'failure' });
      throw e;
    },
  );
}

export async function startVolumeService(
  cfg: CinderConfig,
  backend: BackendConfig,
  deps: { db: Db; transport: RpcTransport; logger: Logger; notifier?: OsloNotifier },
): Promise<VolumeService> {
  const host = serviceHost(cfg, backend);
  const logger = deps.logger.child({ host });
  const executor = createBackendExecutor(backend, cfg.DEFAULT, {
    logger,
    controlPath: path.join(cfg.DEFAULT.state_path, 'ssh-%C'),
  });
  // Like Cinder's driver constructor this runs `cinder-rtstool verify`: a failure stops start-up.
  const driver = await createLvmDriver({
    backend,
    defaults: cfg.DEFAULT,
    lockPath: cfg.oslo_concurrency.lock_path,
    executor,
    logger,
    // Over ssh, lvm_conf_file is looked for on the storage host, where the lvm commands run.
    isFile: backend.ssh_host
      ? async (p) => (await executor.execute(['test', '-f', p], { checkExitCode: [0, 1] })).exitCode === 0
      : undefined,
  });
  const scheduler = new SchedulerRpcApi(new RpcClient(deps.transport, { timeoutMs: cfg.DEFAULT.rpc_response_timeout * 1000 }, logger), {
    timeoutMs: cfg.DEFAULT.rpc_response_timeout * 1000,
  });
  const reporter = new CapabilityReporter({ driver, scheduler, host, defaultPool: poolName(backend), cluster: null, logger });
  const messages = new MessageApi(deps.db, logger, cfg.DEFAULT.message_ttl);
  const manager = new VolumeManager({
    capacity: reporter,
    reschedule: (ctx, volume, spec, fp) => scheduler.createVolume(ctx, volume, requestSpecToPrimitive(spec as RequestSpec, volume), fp),
    db: deps.db,
    driver,
    locks: new LockManager(cfg.coordination.lock_dir),
    notifier: new VolumeUsageNotifier(deps.notifier ?? noopNotifier(logger), host),
    logger,
    host,
    pool: poolName(backend),
    reinitDriverCount: cfg.DEFAULT.reinit_driver_count,
    messages,
    quotas: new QuotaEngine(deps.db, quotaConfigOf(cfg.DEFAULT)),
    // compute.API() of volume/manager.py extend_volume: the volume-extended event to Nova ([nova]).
    nova: novaFromConfig(cfg, logger, messages),
  });
  // The row of an earlier run, if any: init_host cleans up the work it left (the first heartbeat,
  // after the RPC server is consuming, creates the row on a first start).
  manager.serviceId = await dbapi.serviceIdOf(deps.db, host, 'cinder-volume');
  await manager.initHost();

  // Method names and argument names are Cinder's VolumeManager's (RPC API 3.18).
  const server = new RpcServer(
    deps.transport,
    { host },
    {
      version: VOLUME_RPC_API_VERSION,
      methods: {
        ...logLevelMethods(logger),
        create_volume: (ctx, a) =>
          manager.createVolume(ctx, a.volume as Volume, {
            requestSpec: (plainFromWire(a.request_spec) as Record<string, unknown> | null) ?? null,
            filterProperties: (a.filter_properties as Record<string, unknown> | null) ?? null,
            allowReschedule: a.allow_reschedule !== false,
          }),
        delete_volume: (ctx, a) => manager.deleteVolume(ctx, a.volume as Volume, Boolean(a.unmanage_only)),
        extend_volume: (ctx, a) => manager.extendVolume(ctx, a.volume as Volume, Number(a.new_size), (a.reservations as string[] | null) ?? null),
        retype: (ctx, a) =>
          manager.retype(ctx, a.volume as Volume, String(a.new_type_id), a.host as RetypeHost, a.migration_policy === undefined ? 'never' : (a.migration_policy as string | null), {
            reservations: (a.reservations as string[] | null | undefined) ?? null,
            oldReservations: (a.old_reservations as string[] | null | undefined) ?? null,
          }),
        attach_volume: (ctx, a) =>
          manager.attachVolume(
            ctx,
            String(a.volume_id),
            str(a.instance_uuid),
            str(a.host_name),
            String(a.mountpoint),
            String(a.mode ?? 'rw'),
            a.volume as Volume | undefined,
          ),
        detach_volume: (ctx, a) =>
          countDetach('detach_volume', manager.detachVolume(ctx, String(a.volume_id), str(a.attachment_id), a.volume as Volume | undefined)),
        initialize_connection: (ctx, a) => manager.initializeConnection(ctx, a.volume as Volume, a.connector as Connector),
        terminate_connection: (ctx, a) =>
          manager.terminateConnection(ctx, String(a.volume_id), a.connector, Boolean(a.force)),
        remove_export: (ctx, a) => manager.removeExport(ctx, String(a.volume_id)),
        // volume/manager.py accept_transfer: the LVM driver's accept_transfer changes nothing (no model update).
        accept_transfer: async () => {
          requireDriverInitialized(driver);
          return null;
        },
        attachment_update: (ctx, a) =>
          manager.attachmentUpdate(ctx, a.vref as Volume, (a.connector ?? {}) as Connector, String(a.attachment_id)),
        attachment_delete: (ctx, a) =>
          countDetach('attachment_delete', manager.attachmentDelete(ctx, String(a.attachment_id), a.vref as Volume)),
        // A scheduler that starts asks every volume service for its report (fanout).
        publish_service_capabilities: (ctx) => reporter.publishServiceCapabilities(ctx),
        get_capabilities: async (_ctx, a) => {
          if (a.discover) await driver.initCapabilities();
          return driver.capabilities;
        },
      },
    },
    logger,
  );
  await server.start();

  const report = stateReporter(async () => {
    const service = await dbapi.serviceReport(deps.db, {
      host,
      binary: 'cinder-volume',
      topic: 'cinder-volume',
      availability_zone: backend.backend_availability_zone ?? cfg.DEFAULT.storage_availability_zone,
      rpc: VOLUME_RPC_API_VERSION,
      // Cinder 21's objects history head; Python peers cap object versions at this.
      objects: '1.39',
    });
    manager.serviceId = service.id;
    manager.serviceUuid = service.uuid;
  }, logger);
  await report();
  const timer = setInterval(() => void report(), cfg.DEFAULT.report_interval * 1000);
  timer.unref();
  // init_host ends with a report to the schedulers. Then the periodic task (spacing
  // backend_stats_polling_interval) runs on the periodic_interval tick, i.e. every max of the two.
  await reporter.publishServiceCapabilities();
  reporter.start(Math.max(cfg.DEFAULT.periodic_interval, cfg.DEFAULT.backend_stats_polling_interval));

  return {
    host,
    manager,
    outlivedCalls: server.outlivedCalls,
    async stop() {
      clearInterval(timer);
      reporter.stop();
      await server.stop();
      executor.close();
    },
  };
}
