// Graceful stop for both services: on SIGTERM/SIGINT run the service's own clean-up once (stop
// consuming, finish in-flight RPCs, close the broker and the DB), then exit 0.
import type { Logger } from './log.js';

export function onShutdown(logger: Logger, what: string, cleanup: () => Promise<void>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `stopping ${what}`);
    try {
      await cleanup();
    } catch (e) {
      logger.error({ err: e instanceof Error ? e.message : String(e) }, `error while stopping ${what}`);
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
