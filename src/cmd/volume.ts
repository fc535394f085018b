// cinder-volume: `bin/cinder-ts volume --config-file /etc/cinder/cinder.conf`.
// One process serves every backend in enabled_backends (Cinder forks one child per backend; the
// work each does is the same, and a single process keeps the lioadm lock in one queue).
import { loadConfigFromArgv, transportOptions } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { onShutdown } from '../common/shutdown.js';
import { openDb } from '../db/client.js';
import { Transport } from '../rpc/transport.js';
import { startVolumeService, type VolumeService } from '../manager/service.js';
import { startMetricsServer } from '../common/metrics.js';
import { createNotifier } from '../notifier/index.js';

const cfg = loadConfigFromArgv(process.argv);
const logger = createLogger('cinder-volume', cfg.DEFAULT.log_level);

if (cfg.backends.length === 0) {
  process.stderr.write('config error: [DEFAULT] enabled_backends: at least one backend is required\n');
  process.exit(2);
}

async function main() {
  const db = await openDb(cfg.database.connection, cfg.database);
  const transport = new Transport(transportOptions(cfg), logger);
  // A broker that is not up yet (boot order, a restart) is waited for, as oslo.messaging does.
  await transport.connect({ retryForever: true });
  // cinder/rpc.py init: the process's notifier ([oslo_messaging_notifications]; noop by default).
  const notifier = createNotifier(cfg, transport, logger);
  const services: VolumeService[] = [];
  for (const backend of cfg.backends) {
    services.push(await startVolumeService(cfg, backend, { db, transport, logger, notifier }));
  }
  // /metrics, and /outlived: the calls whose work finished after their caller gave up (a hung
  // storage command), the volumes to check against their backend.
  const metrics =
    cfg.metrics.volume_port === undefined
      ? null
      : await startMetricsServer(cfg.metrics.volume_listen, cfg.metrics.volume_port, {
          '/outlived': () => services.flatMap((s) => s.outlivedCalls.map((c) => ({ host: s.host, ...c }))),
        });
  logger.info({ hosts: services.map((s) => s.host), metrics: metrics?.address() ?? null }, 'volume service ready');

  onShutdown(logger, 'volume service', async () => {
    metrics?.close();
    await Promise.all(services.map((s) => s.stop()));
    await notifier.close();
    await transport.close();
    await db.close();
  });
}

main().catch((e) => {
  logger.fatal({ err: e instanceof Error ? e.message : String(e) }, 'volume service failed to start');
  process.stderr.write(`cinder-volume: ${(e as Error).message}\n`);
  process.exit(1);
});
