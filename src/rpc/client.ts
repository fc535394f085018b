// RpcClient: oslo.messaging's RPCClient call/cast/fanout over the rabbit driver.
//
// call: one lazily-declared reply queue `reply_<hex>` per client (x-expires 1800000), a pending
// map keyed by `_msg_id`, and a timer per call. Replies: `ending:false` with null result/failure
// is a call-monitor heartbeat (ignored); the last non-null result/failure seen wins; `ending:true`
// settles the call. Late replies (after a timeout) are acked and dropped, like oslo.
// Properties per spec §4: expiration (the call timeout in ms, as a string) on calls only,
// mandatory false on requests. `_timeout` is null: Cinder never uses the call monitor.
import pino from 'pino';
import { CinderException, MessagingTimeout, RemoteError } from '../common/exceptions.js';
import { PythonException } from './errors.js';
import { rpcCallDuration, rpcCallTimeouts, since } from '../common/metrics.js';
import type { RequestContext } from '../common/context.js';
import type { Logger } from '../common/log.js';
import { contextToWire } from './context-codec.js';
import { decodeBody, encodeEnvelope, type WireMessage } from './envelope.js';
import { deserializeFailure } from './failure.js';
import { hexId } from './ids.js';
import { deserializeEntity, serializeEntity } from './ovo.js';
import type { ConsumerHandle, Delivery, RpcTransport } from './transport-api.js';

export interface Target {
  topic: string;
  server?: string | null;
}

export interface CallOptions {
  /** The RPC API version the method is sent at, e.g. '3.0'. */
  version: string;
  /** rpc_response_timeout × 1000 unless the caller says otherwise. */
  timeoutMs?: number;
}

export interface CastOptions {
  version: string;
}

export interface RpcClientOptions {
  /** Default call timeout (rpc_response_timeout × 1000). */
  timeoutMs?: number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  /** The last non-null result or failure seen (legacy servers send the result with ending:false). */
  final: { failure: unknown } | { result: unknown } | null;
}

/** `<topic>.<server>` or `<topic>` (oslo's routing for calls/casts on the control exchange). */
export function routingKey(target: Target): string {
  return target.server ? `${target.topic}.${target.server}` : target.topic;
}

/** The request body oslo builds (key order as oslo sends it; order carries no meaning). */
export function buildRequest(
  ctx: RequestContext,
  method: string,
  args: Record<string, unknown>,
  version: string,
  call?: { msgId: string; replyQ: string },
): WireMessage {
  const msg: WireMessage = {
    method,
    args: serializeEntity(args, { isAdmin: ctx.is_admin }),
    version,
  };
  if (call) {
    msg._msg_id = call.msgId;
    msg._reply_q = call.replyQ;
    msg._timeout = null;
  }
  msg._unique_id = hexId();
  return { ...msg, ...contextToWire(ctx) };
}

export class RpcClient {
  private readonly pending = new Map<string, Pending>();
  private replyQueue: Promise<string> | null = null;
  private replyConsumer: ConsumerHandle | null = null;
  /** oslo's reply waiter also drops duplicate replies (same _unique_id). */
  private readonly seenReplies: string[] = [];
  private readonly defaultTimeoutMs: number;
  private readonly log: Logger;
  private closed = false;

  constructor(
    private readonly transport: RpcTransport,
    opts: RpcClientOptions = {},
    logger?: Logger,
  ) {
    this.defaultTimeoutMs = opts.timeoutMs ?? 60_000;
    this.log = (logger ?? pino({ level: 'silent' })).child({ component: 'rpc-client' });
  }

  /**
   * Send a request and wait for its reply. Rejects with the rebuilt remote exception or
   * MessagingTimeout. As oslo.messaging's RPCClient.call, the timeout bounds the whole call:
   * declaring the reply queue and publishing (both of which wait out a lost broker) count.
   */
  async call<T = unknown>(target: Target, ctx: RequestContext, method: string, args: Record<string, unknown>, opts: CallOptions): Promise<T> {
    if (this.closed) throw new Error('RPC client is closed');
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const msgId = hexId();
    const t0 = performance.now();
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msgId);
        rpcCallTimeouts.inc({ method });
        reject(new MessagingTimeout(`Timed out waiting for a reply to message ID ${msgId}`));
      }, timeoutMs);
      this.pending.set(msgId, { resolve, reject, timer, final: null });
    });
    this.log.debug({ method, msg_id: msgId, routing_key: routingKey(target), request_id: ctx.request_id }, 'RPC call');
    // Sent in the background so the timer alone decides when the caller gives up; a send failure
    // settles the call at once. Whichever comes first wins, the other finds nothing pending.
    void this.sendCall(target, ctx, method, args, opts.version, msgId, timeoutMs, deadline).catch((err: unknown) => {
      const p = this.pending.get(msgId);
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(msgId);
      p.reject(err instanceof Error ? err : new Error(String(err)));
    });
    try {
      const value = (await result) as T;
      rpcCallDuration.observe({ method, outcome: 'ok' }, since(t0));
      return value;
    } catch (err) {
      // A rebuilt remote exception is the server's answer; anything else never got one.
      const remote = err instanceof CinderException || err instanceof RemoteError || err instanceof PythonException;
      const outcome = err instanceof MessagingTimeout ? 'timeout' : remote ? 'error' : 'failed';
      rpcCallDuration.observe({ method, outcome }, since(t0));
      throw err;
    }
  }

  private async sendCall(
    target: Target,
    ctx: RequestContext,
    method: string,
    args: Record<string, unknown>,
    version: string,
    msgId: string,
    timeoutMs: number,
    deadline: number,
  ): Promise<void> {
    const replyQ = await this.ensureReplyQueue();
    // A request that could only be sent after its caller gave up is not sent at all: the server
    // would do the work for nobody (the broker's expiration covers the queue, not this wait).
    if (!this.pending.has(msgId)) return;
    await this.transport.publish({
      exchange: this.transport.topology.controlExchange().name,
      routingKey: routingKey(target),
      body: encodeEnvelope(buildRequest(ctx, method, args, version, { msgId, replyQ })),
      declare: this.transport.topology.controlExchange(),
      // The caller's whole timeout, as oslo's _publish sets it (a server's reply deadline).
      expiration: String(Math.max(1, Math.round(timeoutMs))),
      mandatory: false,
      deadline,
    });
  }

  /** Fire-and-forget to `<topic>[.<server>]` on the control exchange. */
  async cast(target: Target, ctx: RequestContext, method: string, args: Record<string, unknown>, opts: CastOptions): Promise<void> {
    if (this.closed) throw new Error('RPC client is closed');
    const exchange = this.transport.topology.controlExchange();
    await this.transport.publish({
      exchange: exchange.name,
      routingKey: routingKey(target),
      body: encodeEnvelope(buildRequest(ctx, method, args, opts.version)),
      declare: exchange,
      mandatory: false,
    });
  }

  /** Cast to every server of a topic: exchange `<topic>_fanout`, routing key ''. */
  async fanoutCast(topic: string, ctx: RequestContext, method: string, args: Record<string, unknown>, opts: CastOptions): Promise<void> {
    if (this.closed) throw new Error('RPC client is closed');
    const exchange = this.transport.topology.fanoutExchange(topic);
    await this.transport.publish({
      exchange: exchange.name,
      routingKey: '',
      body: encodeEnvelope(buildRequest(ctx, method, args, opts.version)),
      declare: exchange,
      mandatory: false,
    });
  }

  /** Stop consuming replies; pending calls fail. The reply queue expires on its own (x-expires). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`RPC client closed while waiting for a reply to message ID ${id}`));
    }
    this.pending.clear();
    await this.replyConsumer?.close();
  }

  private ensureReplyQueue(): Promise<string> {
    this.replyQueue ??= (async () => {
      const decl = this.transport.topology.replyQueue();
      this.replyConsumer = await this.transport.consume({
        name: decl.name,
        queues: [decl],
        onMessage: (d) => this.onReply(d),
      });
      return decl.name;
    })().catch((err: unknown) => {
      this.replyQueue = null;
      throw err;
    });
    return this.replyQueue;
  }

  private onReply(d: Delivery): void {
    let msg: WireMessage;
    try {
      msg = decodeBody(d.content, d.properties);
    } catch (err) {
      // oslo rejects what it cannot decode, without requeue.
      this.log.warn({ err, queue: d.queue }, 'undecodable reply dropped');
      d.reject(false);
      return;
    }
    d.ack();
    const uid = msg._unique_id;
    if (typeof uid === 'string') {
      if (this.seenReplies.includes(uid)) return;
      this.seenReplies.push(uid);
      if (this.seenReplies.length > 16) this.seenReplies.shift();
    }
    const msgId = typeof msg._msg_id === 'string' ? msg._msg_id : '';
    const p = this.pending.get(msgId);
    if (!p) {
      this.log.info({ msg_id: msgId }, 'reply for an unknown or timed-out call dropped');
      return;
    }
    // oslo's ReplyWaiter: a truthy failure wins over the result of the same message; a later
    // non-null value replaces an earlier one.
    if (msg.failure) p.final = { failure: msg.failure };
    else if (msg.result !== undefined && msg.result !== null) p.final = { result: msg.result };
    if (msg.ending !== true) return; // call-monitor heartbeat, or the first half of a legacy reply
    clearTimeout(p.timer);
    this.pending.delete(msgId);
    const final = p.final;
    if (final && 'failure' in final) {
      p.reject(deserializeFailure(final.failure));
      return;
    }
    try {
      p.resolve(deserializeEntity(final ? final.result : null));
    } catch (err) {
      p.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
