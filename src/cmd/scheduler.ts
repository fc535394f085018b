// cinder-scheduler: `bin/cinder-ts scheduler --config-file /etc/cinder/cinder.conf`.
// One process places volume creates on the backends' pools from their capability reports; run
// several for availability (each gets every report on the fanout, any of them takes a create).
import { loadConfigFromArgv, transportOptions } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { onShutdown } from '../common/shutdown.js';
import { openDb } from '../db/client.js';
import { Transport } from '../rpc/transport.js';
import { startSchedulerService } from '../scheduler/service.js';
import { createNotifier } from '../notifier/index.js';

const cfg = loadConfigFromArgv(process.argv);
const logger = createLogger('cinder-scheduler', cfg.DEFAULT.log_level);

async function main() {
  const db = await openDb(cfg.database.connection, cfg.database);
  const transport = new Transport(transportOptions(cfg), logger);
  // A broker that is not up yet (boot order, a restart) is waited for, as oslo.messaging does.
  await transport.connect({ retryForever: true });
  const notifier = createNotifier(cfg, transport, logger);
  const service = await startSchedulerService(cfg, { db, transport, logger, notifier });
  logger.info({ host: service.host }, 'scheduler service ready');
  onShutdown(logger, 'scheduler service', async () => {
    await service.stop();
    await notifier.close();
    await transport.close();
    await db.close();
  });
}

main().catch((e) => {
  logger.fatal({ err: e instanceof Error ? e.message : String(e) }, 'scheduler service failed to start');
  process.stderr.write(`cinder-scheduler: ${(e as Error).message}\n`);
  process.exit(1);
});
