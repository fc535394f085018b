// oslo.service's ProcessLauncher for cinder-api's osapi_volume_workers: the parent forks that many
// workers that share the listening socket (node:cluster), starts a new one when one dies, and on
// SIGTERM/SIGINT stops them all (each runs its own clean shutdown) before it exits.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './log.js';
import { serveClusterMetrics } from './metrics.js';

/** A worker that dies within this long of its start counts as failing at start. */
const EARLY_EXIT_MS = 5000;

export function launchWorkers(n: number, logger: Logger, what: string): void {
  let stopping = false;
  let earlyExits = 0;
  const started = new Map<number, number>();
  const fork = () => {
    const w = cluster.fork();
    started.set(w.id, Date.now());
  };
  serveClusterMetrics();
  cluster.on('exit', (w: Worker, code, signal) => {
    const early = Date.now() - (started.get(w.id) ?? 0) < EARLY_EXIT_MS;
    started.delete(w.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        logger.info(`all ${what} workers stopped`);
        process.exit(0);
      }
      return;
    }
    logger.error({ pid: w.process.pid, code, signal }, `${what} worker died, starting another`);
    // A worker that cannot start (bad config, port taken) would be restarted forever: stop instead.
    earlyExits = early ? earlyExits + 1 : 0;
    if (earlyExits >= n) {
      logger.fatal(`${what} workers keep failing at start; stopping`);
      process.exit(1);
    }
    fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, `stopping ${what} workers`);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < n; i++) fork();
  logger.info({ workers: n }, `${what} launched its workers`);
}
