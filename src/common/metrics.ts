// Prometheus metrics of both services (prom-client), one registry per process. Each layer records
// its own figures here; /metrics serves them (the API on its own port, the volume-manager on
// [metrics] volume_listen:volume_port). Label values are bounded: routes are patterns, commands
// are program + subcommand, locks are kinds (the volume id is replaced by <id>).
import cluster from 'node:cluster';
import http from 'node:http';
import path from 'node:path';
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

/** Seconds; from 1 ms (a lock, an RPC on loopback) to 2 min (a volume_clear dd). */
const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const registers = [registry];

export const apiRequestDuration = new client.Histogram({
  name: 'cinder_api_request_duration_seconds',
  help: 'REST requests answered by cinder-api, by route pattern, volume action and status code.',
  labelNames: ['method', 'route', 'action', 'status'] as const,
  buckets,
  registers,
});

export const rpcCallDuration = new client.Histogram({
  name: 'cinder_rpc_call_duration_seconds',
  help: 'RPC calls made, by method and outcome (ok, error: the remote raised, timeout, failed: not sent).',
  labelNames: ['method', 'outcome'] as const,
  buckets,
  registers,
});

export const rpcCallTimeouts = new client.Counter({
  name: 'cinder_rpc_call_timeouts_total',
  help: 'RPC calls that got no reply within rpc_response_timeout (MessagingTimeout), by method.',
  labelNames: ['method'] as const,
  registers,
});

export const rpcOutlivedCaller = new client.Counter({
  name: 'cinder_rpc_outlived_caller_total',
  help: 'RPC calls served whose work finished after the caller had given up (its timeout passed), by method.',
  labelNames: ['method'] as const,
  registers,
});

export const brokerReconnects = new client.Counter({
  name: 'cinder_rpc_broker_reconnects_total',
  help: 'AMQP connections re-established after a loss.',
  registers,
});

export const brokerConnected = new client.Gauge({
  name: 'cinder_rpc_broker_connected',
  help: '1 while the AMQP connection is open (of every API worker).',
  registers,
  aggregator: 'min',
});

export const commandDuration = new client.Histogram({
  name: 'cinder_storage_command_duration_seconds',
  help: 'Storage commands run (lvm, cinder-rtstool, dd, ...), by command.',
  labelNames: ['command'] as const,
  buckets,
  registers,
});

export const commandFailures = new client.Counter({
  name: 'cinder_storage_command_failures_total',
  help: 'Storage commands that failed (exit code, timeout, could not start), by command.',
  labelNames: ['command'] as const,
  registers,
});

export const lockWait = new client.Histogram({
  name: 'cinder_lock_wait_seconds',
  help: 'Time spent waiting for an inter-process lock, by lock kind.',
  labelNames: ['lock'] as const,
  buckets,
  registers,
});

export const detachOutcomes = new client.Counter({
  name: 'cinder_volume_detach_total',
  help: 'Detaches handled by the volume-manager, by path (legacy os-detach, attachment_delete) and outcome.',
  labelNames: ['path', 'outcome'] as const,
  registers,
});

export const staleResources = new client.Gauge({
  name: 'cinder_stale_resources',
  help: 'Volumes and attachments in a transient status for longer than [metrics] stale_after (the stale report), by status.',
  labelNames: ['resource', 'status'] as const,
  registers,
  // Each API worker sets it from a fresh report when it answers; the others' values are older.
  aggregator: 'omit',
});

/** Set the stale gauge from a fresh report (every status present is set, the rest reset to 0). */
export function setStale(entries: readonly { resource: string; status: string | null }[]): void {
  staleResources.reset();
  for (const e of entries) staleResources.inc({ resource: e.resource, status: e.status ?? 'None' });
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** `cinder-<uuid>-detach_volume` → `cinder-<id>-detach_volume`. */
export function lockKind(name: string): string {
  return path.basename(name).replace(UUID, '<id>');
}

/** `env LC_ALL=C lvs ...` → `lvs`; `cinder-rtstool delete-initiator ...` → `cinder-rtstool delete-initiator`. */
export function commandLabel(argv: readonly string[]): string {
  let i = 0;
  if (path.basename(argv[0] ?? '') === 'env') {
    i = 1;
    while (i < argv.length && argv[i].includes('=')) i++;
  }
  const prog = path.basename(argv[i] ?? '?');
  return prog === 'cinder-rtstool' && argv[i + 1] ? `${prog} ${argv[i + 1]}` : prog;
}

/** Seconds since a performance.now() reading. */
export const since = (t0: number) => (performance.now() - t0) / 1000;

/**
 * The text exposition of every metric. Under several API workers (src/common/launcher.ts) a
 * worker asks the parent, which sums every worker's registry (prom-client's AggregatorRegistry),
 * and adds its own fresh stale gauge.
 */
export async function metricsText(): Promise<string> {
  if (!cluster.isWorker || !process.send) return registry.metrics();
  const id = `${process.pid}-${++metricsRequests}`;
  const text = await new Promise<string>((resolve, reject) => {
    const onMessage = (m: { type?: string; id?: string; text?: string; error?: string }) => {
      if (m?.type !== METRICS_RES || m.id !== id) return;
      process.off('message', onMessage);
      clearTimeout(timer);
      if (m.error) reject(new Error(m.error));
      else resolve(m.text ?? '');
    };
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('metrics: no answer from the parent process'));
    }, 5000);
    process.on('message', onMessage);
    process.send!({ type: METRICS_REQ, id });
  });
  return `${text}\n${await registry.getSingleMetricAsString('cinder_stale_resources')}\n`;
}

const METRICS_REQ = 'cinder-ts:metrics-req';
const METRICS_RES = 'cinder-ts:metrics-res';
let metricsRequests = 0;

/** In an API worker: let the parent collect this process's registry. */
export function joinClusterMetrics(): void {
  client.AggregatorRegistry.setRegistries(registry);
  new client.AggregatorRegistry();
}

/** In the parent of the API workers: answer a worker's /metrics with the sum over all workers. */
export function serveClusterMetrics(): void {
  const aggregator = new client.AggregatorRegistry();
  cluster.on('message', (worker, m: { type?: string; id?: string }) => {
    if (m?.type !== METRICS_REQ) return;
    aggregator.clusterMetrics().then(
      (text) => worker.isConnected() && worker.send({ type: METRICS_RES, id: m.id, text }),
      (e: unknown) => worker.isConnected() && worker.send({ type: METRICS_RES, id: m.id, error: String(e) }),
    );
  });
}

/**
 * A bare HTTP server for a process without an API (the volume-manager): GET /metrics, and any
 * extra JSON documents the process names (e.g. /outlived).
 */
export function startMetricsServer(
  listen: string,
  port: number,
  extra: Record<string, () => unknown> = {},
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/metrics') {
      void metricsText().then(
        (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
      return;
    }
    const doc = req.method === 'GET' ? extra[url] : undefined;
    if (doc) {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(doc()));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listen, () => resolve(server));
  });
}
