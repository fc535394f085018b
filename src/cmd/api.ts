// cinder-api: `bin/cinder-ts api --config-file /etc/cinder/cinder.conf`.
// Fastify on osapi_volume_listen:osapi_volume_listen_port, the volume API over the shared DB,
// and RPC calls to the volume services through RabbitMQ; osapi_volume_workers processes share
// the port, each with its own DB pool and RPC client (src/common/launcher.ts).
import { QuotaEngine, quotaConfigOf } from '../quota/index.js';
import { LogLevelsRpc } from '../rpc/log-levels.js';
import cluster from 'node:cluster';
import { loadConfigFromArgv, transportOptions } from '../common/config.js';
import { authenticatorFor, type Authenticator } from '../api/auth.js';
import { createLogger } from '../common/log.js';
import { onShutdown } from '../common/shutdown.js';
import { openDb } from '../db/client.js';
import { Transport } from '../rpc/transport.js';
import { RpcClient } from '../rpc/client.js';
import { VolumeRpcApi } from '../rpc/volume-rpcapi.js';
import { SchedulerRpcApi } from '../rpc/scheduler-rpcapi.js';
import { VolumeAPI } from '../volume-api/api.js';
import { LockManager } from '../common/lock.js';
import { buildApp } from '../api/app.js';
import { novaFromConfig, type NovaAPI } from '../compute/nova.js';
import { launchWorkers } from '../common/launcher.js';
import { joinClusterMetrics } from '../common/metrics.js';
import { createNotifier } from '../notifier/index.js';
import { VolumeUsageNotifier } from '../manager/notifier.js';
import { configurePolicyFile } from '../common/policy-file.js';

const cfg = loadConfigFromArgv(process.argv);

/** Every --config-file of the command line, in order (oslo.config's config_file). */
function configFiles(argv: string[]): string[] {
  return argv.flatMap((a, i) => (a === '--config-file' && argv[i + 1] ? [argv[i + 1]] : []));
}
const logger = createLogger('cinder-api', cfg.DEFAULT.log_level);

// [DEFAULT] auth_strategy: with keystone, a missing or bad [keystone_authtoken] option stops the
// process here, in one line, before anything is connected; so does a bad [nova] or [service_user].
let authenticator: Authenticator;
let nova: NovaAPI;
try {
  authenticator = authenticatorFor(cfg.DEFAULT.auth_strategy, { config: cfg, logger });
  nova = novaFromConfig(cfg, logger);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}

async function main() {
  const db = await openDb(cfg.database.connection, cfg.database);
  const timeoutMs = cfg.DEFAULT.rpc_response_timeout * 1000;
  const transport = new Transport(transportOptions(cfg), logger);
  // A broker that is not up yet (boot order, a restart) is waited for, as oslo.messaging does.
  await transport.connect({ retryForever: true });
  const client = new RpcClient(transport, { timeoutMs }, logger);
  // cinder/rpc.py init: notifications ([oslo_messaging_notifications]; noop by default) and the
  // policy file ([oslo_policy] policy_file, beside the config file or in /etc/cinder).
  const notifier = createNotifier(cfg, transport, logger);
  configurePolicyFile(cfg.oslo_policy.policy_file, configFiles(process.argv), logger);
  const volumeApi = new VolumeAPI({
    db,
    rpc: new VolumeRpcApi(client, { timeoutMs }),
    scheduler: new SchedulerRpcApi(client, { timeoutMs }),
    logger,
    // The API's coordination lock (cinder-attachment_update-<volume>-<host>) and notifier host.
    locks: new LockManager(cfg.coordination.lock_dir),
    host: cfg.DEFAULT.host,
    notifier: new VolumeUsageNotifier(notifier, cfg.DEFAULT.host),
    serviceDownTime: cfg.DEFAULT.service_down_time,
    azCacheDuration: cfg.DEFAULT.az_cache_duration,
    storageAvailabilityZone: cfg.DEFAULT.storage_availability_zone,
    defaultAvailabilityZone: cfg.DEFAULT.default_availability_zone,
    allowAvailabilityZoneFallback: cfg.DEFAULT.allow_availability_zone_fallback,
    defaultVolumeType: cfg.DEFAULT.default_volume_type,
    // Cinder reads [keystone_authtoken] service_token_roles whatever the auth_strategy.
    serviceTokenRoles: cfg.keystone_authtoken.service_token_roles,
    nova,
    quotas: new QuotaEngine(db, quotaConfigOf(cfg.DEFAULT)),
  });
  const app = buildApp({ volumeApi, config: cfg, logger, authenticator, db, logLevelsRpc: new LogLevelsRpc(client, timeoutMs) });
  await app.listen({ host: cfg.DEFAULT.osapi_volume_listen, port: cfg.DEFAULT.osapi_volume_listen_port });
  logger.info({ listen: `${cfg.DEFAULT.osapi_volume_listen}:${cfg.DEFAULT.osapi_volume_listen_port}` }, 'api service ready');

  onShutdown(logger, 'api service', async () => {
    await app.close();
    await client.close();
    await notifier.close();
    await transport.close();
    await db.close();
  });
}

if (cluster.isPrimary && cfg.DEFAULT.osapi_volume_workers > 1) {
  launchWorkers(cfg.DEFAULT.osapi_volume_workers, logger, 'cinder-api');
} else {
  if (cluster.isWorker) joinClusterMetrics();
  main().catch((e) => {
    logger.fatal({ err: e instanceof Error ? e.message : String(e) }, 'api service failed to start');
    process.stderr.write(`cinder-api: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
