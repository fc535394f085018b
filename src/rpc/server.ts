// RpcServer: what cinder/service.py starts for a cinder-volume backend `H@B` - one oslo RPC server
// per Target, each consuming its topic queue, its server queue and its own fanout queue:
//   topic cinder-volume,          server H@B -> cinder-volume, cinder-volume.H@B, cinder-volume_fanout_<hex>
//   topic cinder-volume.H@B,      server H   -> cinder-volume.H@B, cinder-volume.H@B.H, cinder-volume.H@B_fanout_<hex>
//   (cluster C@B) cinder-volume.C@B, server C -> cinder-volume.C@B, cinder-volume.C@B.C, its fanout queue
// oslo semantics kept here: ack on receipt, before dispatch (at-most-once); silently drop a
// `_unique_id` seen among the listener's last 16; call-monitor heartbeats when `_timeout` is an
// integer >= 2; replies to exchange '' / routing key `_reply_q`, mandatory, retried every 250 ms
// for 60 s while the broker returns them; fanout queues deleted on a clean stop. Requests are
// handled concurrently; serialising per volume is the manager's business.
import pino from 'pino';
import type { Logger } from '../common/log.js';
import { CinderException } from '../common/exceptions.js';
import { decodeBody, encodeEnvelope, type WireMessage } from './envelope.js';
import { dispatch, parseRequest, type Endpoint, type IncomingRequest } from './dispatcher.js';
import { PythonException } from './errors.js';
import { serializeFailure } from './failure.js';
import { hexId } from './ids.js';
import { serializeEntity } from './ovo.js';
import type { QueueDecl } from './topology.js';
import type { ConsumerHandle, Delivery, RpcTransport } from './transport-api.js';
import type { Target } from './client.js';
import { rpcOutlivedCaller } from '../common/metrics.js';

export type { Endpoint, RpcHandler } from './dispatcher.js';

export interface RpcServerOptions {
  /** The volume service host `H@B`. */
  host: string;
  /** Base topic; cinder-volume. */
  topic?: string;
  /** `[DEFAULT] cluster` with the backend appended (`C@B`), when clustered. */
  cluster?: string | null;
  /** The Targets to serve instead of a volume service's (cinder-scheduler: topic and server only). */
  targets?: Target[];
  /** kombu_missing_consumer_retry_timeout (ms): how long a returned reply is retried. */
  replyRetryTimeoutMs?: number;
  /** Interval between reply retries (oslo: 0.25 s). */
  replyRetryIntervalMs?: number;
}

interface Listener {
  target: Target;
  queues: QueueDecl[];
  fanoutQueue: string;
  /** The last 16 `_unique_id`s (oslo's per-listener duplicate cache). */
  seen: string[];
  handle: ConsumerHandle | null;
}

const DEDUP_SIZE = 16;
const OUTLIVED_MAX = 100;

/** A call whose work finished after its caller gave up (RpcServer.outlivedCalls). */
export interface OutlivedCall {
  method: string;
  volume_id: string | null;
  attachment_id: string | null;
  request_id: string | null;
  started_at: string;
  caller_gave_up_at: string;
  finished_at: string;
  outcome: 'done' | 'failed';
}

/** The volume a request is about: `volume_id`, or the id of a serialized `volume`/`vref` object. */
function volumeIdOf(args: unknown): string | null {
  if (!args || typeof args !== 'object') return null;
  const a = args as Record<string, unknown>;
  if (typeof a.volume_id === 'string') return a.volume_id;
  for (const k of ['volume', 'vref']) {
    const data = (a[k] as Record<string, unknown> | undefined)?.['versioned_object.data'] as Record<string, unknown> | undefined;
    if (typeof data?.id === 'string') return data.id;
  }
  return null;
}
const OBSOLETE_TTL_MS = 60_000;
const OBSOLETE_MAX = 200;

/** The oslo Targets a volume service listens on (cinder/service.py). */
export function volumeServiceTargets(host: string, topic = 'cinder-volume', cluster?: string | null): Target[] {
  const targets: Target[] = [
    { topic, server: host },
    { topic: `${topic}.${host}`, server: host.split('@')[0] },
  ];
  if (cluster) targets.push({ topic: `${topic}.${cluster}`, server: cluster.split('@')[0] });
  return targets;
}

export class RpcServer {
  private readonly listeners: Listener[];
  private readonly inflight = new Set<Promise<void>>();
  /** Reply queues that stayed unroutable for the whole retry window (oslo keeps 200 for 60 s). */
  private readonly obsoleteReplyQueues = new Map<string, number>();
  private readonly log: Logger;
  private readonly replyRetryTimeoutMs: number;
  private readonly replyRetryIntervalMs: number;
  private state: 'new' | 'running' | 'stopped' = 'new';
  /** The last calls whose work outlived their caller, oldest first (served on the metrics port). */
  readonly outlivedCalls: OutlivedCall[] = [];

  constructor(
    private readonly transport: RpcTransport,
    opts: RpcServerOptions,
    private readonly endpoint: Endpoint,
    logger?: Logger,
  ) {
    this.log = (logger ?? pino({ level: 'silent' })).child({ component: 'rpc-server', host: opts.host });
    this.replyRetryTimeoutMs = opts.replyRetryTimeoutMs ?? 60_000;
    this.replyRetryIntervalMs = opts.replyRetryIntervalMs ?? 250;
    const topo = transport.topology;
    this.listeners = (opts.targets ?? volumeServiceTargets(opts.host, opts.topic, opts.cluster)).map((target) => {
      const fanout = topo.fanoutQueue(target.topic);
      return {
        target,
        queues: [topo.topicQueue(target.topic), topo.topicQueue(`${target.topic}.${target.server}`), fanout],
        fanoutQueue: fanout.name,
        seen: [],
        handle: null,
      };
    });
  }

  get targets(): Target[] {
    return this.listeners.map((l) => l.target);
  }

  /** Every queue this server declares and consumes (with repeats, as oslo has them). */
  get queueNames(): string[] {
    return this.listeners.flatMap((l) => l.queues.map((q) => q.name));
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`RPC server cannot start: ${this.state}`);
    this.state = 'running';
    try {
      for (const l of this.listeners) {
        l.handle = await this.transport.consume({
          name: `${l.target.topic}.${l.target.server}`,
          queues: l.queues,
          onMessage: (d) => this.onMessage(l, d),
        });
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.log.info({ queues: this.queueNames }, 'RPC server consuming');
  }

  /** Stop consuming, delete the fanout queues, then wait for requests in progress (and their replies). */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const l of this.listeners) {
      const h = l.handle;
      l.handle = null;
      await h?.close({ deleteQueues: [l.fanoutQueue] });
    }
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    this.log.info('RPC server stopped');
  }

  private onMessage(l: Listener, d: Delivery): void {
    let msg: WireMessage;
    try {
      msg = decodeBody(d.content, d.properties);
    } catch (err) {
      this.log.error({ err, queue: d.queue }, 'Failed to process message ... skipping it.');
      d.reject(false);
      return;
    }
    d.ack(); // before dispatch, as oslo's RpcAMQPListener does
    const req = parseRequest(msg);
    if (req.uniqueId !== null) {
      if (l.seen.includes(req.uniqueId)) {
        this.log.warn({ unique_id: req.uniqueId, method: req.method }, 'duplicate message ignored');
        return;
      }
      l.seen.push(req.uniqueId);
      if (l.seen.length > DEDUP_SIZE) l.seen.shift();
    }
    // The caller gives up when the message's TTL (its whole call timeout, as oslo sets it) passes.
    const ttl = Number(d.properties.expiration);
    const callerDeadline = Number.isFinite(ttl) && ttl > 0 ? Date.now() + ttl : null;
    const task = this.handle(req, callerDeadline).catch((err: unknown) => this.log.error({ err }, 'RPC request handling failed'));
    this.inflight.add(task);
    void task.finally(() => this.inflight.delete(task));
  }

  private async handle(req: IncomingRequest, callerDeadline: number | null = null): Promise<void> {
    const log = this.log.child({ method: req.method, msg_id: req.msgId, request_id: req.ctx.request_id });
    const isCall = req.msgId !== null;
    const started = Date.now();
    const heartbeat = isCall && req.replyQ !== null ? this.startHeartbeats(req) : null;
    let reply: WireMessage;
    try {
      const { result, ctx } = await dispatch(this.endpoint, req);
      reply = { result: serializeEntity(result, { isAdmin: ctx.is_admin }), failure: null, ending: true };
      // Anything JSON cannot carry must become a failure, not a lost reply.
      JSON.stringify(reply);
    } catch (err) {
      if (err instanceof CinderException || err instanceof PythonException) log.warn({ err }, 'RPC method raised');
      else log.error({ err }, 'Exception during message handling');
      reply = { result: null, failure: serializeFailure(err), ending: true };
    } finally {
      if (heartbeat) clearInterval(heartbeat);
    }
    if (isCall && callerDeadline !== null && Date.now() > callerDeadline) this.outlived(req, started, callerDeadline, reply, log);
    if (!isCall) return; // a cast: failures are only logged
    if (req.replyQ === null) {
      log.warn('call without _reply_q: no reply sent');
      return;
    }
    await this.sendReply(req.replyQ, { ...reply, _msg_id: req.msgId, _unique_id: hexId() }, log);
  }

  /**
   * The work of a call finished after its caller had given up (a hung storage command, say): the
   * caller saw a timeout and may have rolled back, while the change happened anyway. Cinder says
   * nothing; here it is an error line naming the volume, a metric, and an entry in `outlived`.
   */
  private outlived(req: IncomingRequest, started: number, callerDeadline: number, reply: WireMessage, log: Logger): void {
    const entry: OutlivedCall = {
      method: String(req.method),
      volume_id: volumeIdOf(req.args),
      attachment_id: typeof (req.args as Record<string, unknown> | null)?.attachment_id === 'string' ? String((req.args as Record<string, unknown>).attachment_id) : null,
      request_id: typeof req.ctx.request_id === 'string' ? req.ctx.request_id : null,
      started_at: new Date(started).toISOString(),
      caller_gave_up_at: new Date(callerDeadline).toISOString(),
      finished_at: new Date().toISOString(),
      outcome: reply.failure ? 'failed' : 'done',
    };
    rpcOutlivedCaller.inc({ method: entry.method });
    this.outlivedCalls.push(entry);
    if (this.outlivedCalls.length > OUTLIVED_MAX) this.outlivedCalls.shift();
    log.error(
      { volume_id: entry.volume_id, attachment_id: entry.attachment_id, elapsed_ms: Date.now() - started, outcome: entry.outcome },
      'RPC call outlived its caller: the work finished after the caller timed out; check the volume against its backend',
    );
  }

  /** `_timeout` N (an integer >= 2): `ending:false` heartbeats every N/2 s until the reply. */
  private startHeartbeats(req: IncomingRequest): NodeJS.Timeout | null {
    const n = req.timeout;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 2) return null;
    return setInterval(() => {
      const body = encodeEnvelope({ result: null, failure: null, ending: false, _msg_id: req.msgId, _unique_id: hexId() });
      this.transport
        .publish({ exchange: '', routingKey: req.replyQ as string, body, mandatory: true })
        .catch((err: unknown) => this.log.warn({ err, msg_id: req.msgId }, 'call-monitor heartbeat failed'));
    }, n * 500);
  }

  private isObsolete(replyQ: string): boolean {
    const until = this.obsoleteReplyQueues.get(replyQ);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.obsoleteReplyQueues.delete(replyQ);
    return false;
  }

  private markObsolete(replyQ: string): void {
    this.obsoleteReplyQueues.set(replyQ, Date.now() + OBSOLETE_TTL_MS);
    if (this.obsoleteReplyQueues.size > OBSOLETE_MAX) {
      const oldest = this.obsoleteReplyQueues.keys().next().value;
      if (oldest !== undefined) this.obsoleteReplyQueues.delete(oldest);
    }
  }

  private async sendReply(replyQ: string, msg: WireMessage, log: Logger): Promise<void> {
    if (this.isObsolete(replyQ)) {
      log.info({ reply_q: replyQ }, 'reply queue is obsolete; reply dropped');
      return;
    }
    const body = encodeEnvelope(msg);
    const deadline = Date.now() + this.replyRetryTimeoutMs;
    for (;;) {
      const outcome = await this.transport.publish({ exchange: '', routingKey: replyQ, body, mandatory: true });
      if (outcome === 'ok') return;
      if (Date.now() >= deadline) {
        this.markObsolete(replyQ);
        log.warn({ reply_q: replyQ }, 'reply queue does not exist; reply dropped after retries');
        return;
      }
      await new Promise((r) => setTimeout(r, this.replyRetryIntervalMs));
    }
  }
}
