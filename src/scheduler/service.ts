// cinder-scheduler as cinder/service.py runs it: the manager, an RPC server on topic
// `cinder-scheduler` (its own server queue and fanout queue beside the shared topic queue), and the
// services-table heartbeat. Method and argument names are SchedulerManager's (RPC API 3.12).
import type { OsloNotifier } from '../notifier/notifier.js';
import { logLevelMethods } from '../rpc/log-levels.js';
import type { CinderConfig } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { stateReporter } from '../common/report-state.js';
import { adminContext } from '../common/context.js';
import type { Db } from '../db/client.js';
import * as dbapi from '../db/api.js';
import { QuotaEngine, quotaConfigOf } from '../quota/index.js';
import { MessageApi } from '../message/api.js';
import { RpcClient } from '../rpc/client.js';
import { RpcServer } from '../rpc/server.js';
import type { RpcTransport } from '../rpc/transport-api.js';
import type { Volume } from '../objects/volume.js';
import { SCHEDULER_RPC_API_VERSION, SCHEDULER_TOPIC } from '../rpc/scheduler-rpcapi.js';
import { VolumeRpcApi } from '../rpc/volume-rpcapi.js';
import { SchedulerManager } from './manager.js';

export interface SchedulerService {
  host: string;
  manager: SchedulerManager;
  stop(): Promise<void>;
}

export async function startSchedulerService(
  cfg: CinderConfig,
  deps: { db: Db; transport: RpcTransport; logger: Logger; notifier?: OsloNotifier },
): Promise<SchedulerService> {
  const host = cfg.DEFAULT.host;
  const logger = deps.logger.child({ host });
  const timeoutMs = cfg.DEFAULT.rpc_response_timeout * 1000;
  const volumeRpc = new VolumeRpcApi(new RpcClient(deps.transport, { timeoutMs }, logger), { timeoutMs });
  const messages = new MessageApi(deps.db, logger, cfg.DEFAULT.message_ttl);
  const quotas = new QuotaEngine(deps.db, quotaConfigOf(cfg.DEFAULT));
  const manager = new SchedulerManager({
    db: deps.db,
    messages,
    quotas,
    volumeRpc,
    logger,
    notifier: deps.notifier ? { notifier: deps.notifier, host } : undefined,
    options: {
      ...cfg.DEFAULT,
      // The global default for pools that report none (cinder/volume/driver.py volume_opts).
      max_over_subscription_ratio: cfg.backends[0]?.max_over_subscription_ratio ?? '20.0',
    },
  });

  const server = new RpcServer(
    deps.transport,
    { host, targets: [{ topic: SCHEDULER_TOPIC, server: host }] },
    {
      version: SCHEDULER_RPC_API_VERSION,
      methods: {
        ...logLevelMethods(logger),
        create_volume: (ctx, a) => manager.createVolume(ctx, a.volume as Volume, a.request_spec, a.filter_properties),
        get_pools: (_ctx, a) => manager.getPools((a.filters as Record<string, unknown> | null) ?? null),
        extend_volume: (ctx, a) => manager.extendVolume(ctx, a.volume as Volume, Number(a.new_size), (a.reservations as string[] | null) ?? null, a.request_spec, a.filter_properties),
        retype: (ctx, a) => manager.retype(ctx, a.volume as Volume, a.request_spec, a.filter_properties),
        update_service_capabilities: (_ctx, a) => manager.updateServiceCapabilities(a),
        notify_service_capabilities: (_ctx, a) => manager.notifyServiceCapabilities(a),
        validate_host_capacity: (_ctx, a) => manager.validateHostCapacity(String(a.backend), a.request_spec, a.filter_properties),
        request_service_capabilities: (ctx) => volumeRpc.publishServiceCapabilities(ctx),
      },
    },
    logger,
  );
  await server.start();

  const report = stateReporter(async () => {
    await dbapi.serviceReport(deps.db, {
      host,
      binary: 'cinder-scheduler',
      topic: SCHEDULER_TOPIC,
      availability_zone: cfg.DEFAULT.storage_availability_zone,
      rpc: SCHEDULER_RPC_API_VERSION,
      objects: '1.39',
    });
  }, logger);
  await report();
  const timer = setInterval(() => void report(), cfg.DEFAULT.report_interval * 1000);
  timer.unref();
  // SchedulerManager._clean_expired_messages, every message_reap_interval seconds.
  const reaper = setInterval(() => void messages.cleanupExpired().catch((e: unknown) => logger.error({ err: (e as Error).message }, 'Cleaning expired messages failed.')), cfg.DEFAULT.message_reap_interval * 1000);
  reaper.unref();
  // SchedulerManager._clean_expired_reservation: QUOTAS.expire every reservation_clean_interval seconds.
  const cleaner = startReservationCleaner(quotas, cfg.DEFAULT.reservation_clean_interval ?? cfg.DEFAULT.reservation_expire, logger);
  // Runs on in the background: creates that arrive meanwhile wait in _wait_for_scheduler.
  void manager.initHostWithRpc(() => volumeRpc.publishServiceCapabilities(adminContext())).catch((e: unknown) => {
    logger.error({ err: (e as Error).message }, 'Asking the volume services for their capabilities failed.');
  });

  return {
    host,
    manager,
    async stop() {
      clearInterval(timer);
      clearInterval(reaper);
      if (cleaner) clearInterval(cleaner);
      await server.stop();
    },
  };
}

/**
 * cinder/scheduler/manager.py _clean_expired_reservation, an oslo.service periodic task with
 * run_immediately=True: QUOTAS.expire now and every `seconds` (0: oslo's DEFAULT_INTERVAL of 60 s;
 * negative: never). The timer, or null when disabled.
 */
export function startReservationCleaner(quotas: QuotaEngine, seconds: number, logger: Logger): NodeJS.Timeout | null {
  if (seconds < 0) return null;
  const run = () => void quotas.expire().catch((e: unknown) => logger.error({ err: (e as Error).message }, 'Cleaning expired reservations failed.'));
  run();
  const timer = setInterval(run, (seconds === 0 ? 60 : seconds) * 1000);
  timer.unref();
  return timer;
}
