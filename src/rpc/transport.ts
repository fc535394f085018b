// The live AMQP connection of the oslo.messaging "rabbit" driver, on amqplib: what
// oslo.messaging's _drivers/impl_rabbit.py Connection does (ensure_connection, ensure and its
// on_reconnection, declare_consumer, _publish). The options and URL are in transport-options.ts, the
// declarations in topology.ts, the interface the RPC layer uses in transport-api.ts.
//
// - One AMQP connection (heartbeat 60, TCP_NODELAY) with one confirm channel for every publish
//   (each publish waits for its Basic.Ack, like kombu's confirm_publish) and one channel per
//   consumer group (an RPC server target, or the client's reply queue). oslo uses separate
//   connections for these; the broker only sees channels, so one connection is enough.
// - Consumer groups are declarative (queues + bindings), so after a connection loss the
//   connection is re-opened (oslo's rabbit_retry_interval/backoff/interval_max = 1/2/30 s) and
//   every group is re-declared and re-consumed, as oslo does on reconnect.
import { basename } from 'node:path';
import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type Message } from 'amqplib';
import pino from 'pino';
import type { Logger } from '../common/log.js';
import { brokerConnected, brokerReconnects } from '../common/metrics.js';
import { declareQueue, Topology } from './topology.js';
import { publishProperties, type ConsumerHandle, type ConsumerSpec, type PublishOutcome, type PublishRequest, type RpcTransport } from './transport-api.js';
import { parseTransportUrl, resolveTransportOptions, type BrokerAddress, type ResolvedTransportOptions, type TransportOptions } from './transport-options.js';

interface Group {
  spec: ConsumerSpec;
  channel: Channel | null;
  setup: Promise<void> | null;
  closed: boolean;
}

interface PubState {
  ch: ConfirmChannel;
  closed: boolean;
  declared: Set<string>;
  /** Bodies of in-flight mandatory publishes → whether the broker returned them. */
  mandatory: Map<string, boolean>;
}

export class Transport implements RpcTransport {
  readonly topology: Topology;
  private readonly o: ResolvedTransportOptions;
  private readonly hosts: BrokerAddress[];
  private readonly vhost: string;
  private readonly log: Logger;
  private readonly connectionName = `${basename(process.argv[1] ?? 'node')}:${process.pid}:${randomUUID()}`;
  private hostIndex = 0;
  private everConnected = false;
  private model: ChannelModel | null = null;
  private connecting: Promise<ChannelModel> | null = null;
  private pub: Promise<PubState> | null = null;
  private readonly groups = new Set<Group>();
  private closed = false;
  private readonly stopping = new AbortController();

  constructor(opts: TransportOptions, logger?: Logger) {
    this.o = resolveTransportOptions(opts);
    const { hosts, vhost } = parseTransportUrl(opts.url);
    this.hosts = hosts;
    this.vhost = vhost;
    this.topology = new Topology(this.o);
    this.log = (logger ?? pino({ level: 'silent' })).child({ component: 'rpc-transport' });
  }

  /**
   * Open the first connection: one attempt per configured host, then fail; with `retryForever`
   * (the services, as oslo.messaging's default) keep trying with the back-off until close().
   */
  async connect(opts: { retryForever?: boolean } = {}): Promise<void> {
    await this.getModel(opts.retryForever ? Infinity : this.hosts.length);
  }

  /** Whether a connection is currently open. */
  get connected(): boolean {
    return this.model !== null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping.abort();
    for (const g of this.groups) g.closed = true;
    this.groups.clear();
    const m = this.model;
    this.model = null;
    this.pub = null;
    if (m) await m.close().catch(() => undefined);
  }

  // --- connection -------------------------------------------------------------------------

  private getModel(maxAttempts = Infinity): Promise<ChannelModel> {
    if (this.model) return Promise.resolve(this.model);
    if (this.closed) return Promise.reject(new Error('RPC transport is closed'));
    this.connecting ??= this.openWithRetry(maxAttempts).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** A delay that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.stopping.signal;
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async openWithRetry(maxAttempts: number): Promise<ChannelModel> {
    let interval = this.o.retryInterval;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new Error('RPC transport is closed');
      const addr = this.hosts[this.hostIndex++ % this.hosts.length];
      try {
        const model = await this.openOnce(addr);
        if (this.closed) {
          await model.close().catch(() => undefined);
          throw new Error('RPC transport is closed');
        }
        if (this.everConnected) brokerReconnects.inc();
        this.everConnected = true;
        this.model = model;
        brokerConnected.set(1);
        this.log.info({ host: addr.hostname, port: addr.port, vhost: this.vhost || '/' }, 'connected to AMQP server');
        for (const g of this.groups) this.ensureGroup(g);
        return model;
      } catch (err) {
        if (this.closed || attempt >= maxAttempts) throw err;
        this.log.error({ err, host: addr.hostname, port: addr.port, retry_s: interval }, 'AMQP server unreachable; retrying');
        await this.sleep(interval * 1000);
        interval = Math.min(interval + this.o.retryBackoff, this.o.intervalMax);
      }
    }
  }

  private async openOnce(addr: BrokerAddress): Promise<ChannelModel> {
    const model = await connect(
      {
        protocol: 'amqp',
        hostname: addr.hostname,
        port: addr.port,
        username: addr.username,
        password: addr.password,
        vhost: this.vhost,
        heartbeat: this.o.heartbeat,
      },
      {
        noDelay: true,
        timeout: this.o.connectTimeoutMs,
        clientProperties: { connection_name: this.connectionName },
      },
    );
    model.on('error', (err: Error) => this.log.warn({ err }, 'AMQP connection error'));
    model.on('blocked', (reason: string) => this.log.warn({ reason }, 'AMQP connection blocked by the broker'));
    model.on('unblocked', () => this.log.info('AMQP connection unblocked'));
    model.on('close', (err?: Error) => this.onConnectionClosed(model, err));
    return model;
  }

  private onConnectionClosed(model: ChannelModel, err?: Error): void {
    if (this.model !== model) return;
    this.model = null;
    brokerConnected.set(0);
    this.pub = null;
    for (const g of this.groups) g.channel = null;
    if (this.closed) return;
    this.log.error({ err }, 'AMQP connection lost; reconnecting');
    this.getModel().catch((e: unknown) => this.log.error({ err: e }, 'AMQP reconnection abandoned'));
  }

  // --- consumers --------------------------------------------------------------------------

  async consume(spec: ConsumerSpec): Promise<ConsumerHandle> {
    const g: Group = { spec, channel: null, setup: null, closed: false };
    this.groups.add(g);
    try {
      g.setup = this.setupGroup(g);
      await g.setup;
    } catch (err) {
      // A first-time failure (e.g. 406 on a declare) is the caller's to see.
      this.groups.delete(g);
      g.closed = true;
      throw err;
    } finally {
      g.setup = null;
    }
    return {
      close: async (opts = {}) => {
        if (g.closed) return;
        g.closed = true;
        this.groups.delete(g);
        // Between reconnects there is no consumer channel: delete on a short-lived one instead.
        const ch = g.channel ?? (this.model ? await this.model.createChannel().catch(() => null) : null);
        g.channel = null;
        if (!ch) return;
        ch.on('error', () => undefined);
        for (const q of opts.deleteQueues ?? []) {
          await ch.deleteQueue(q).catch((err: unknown) => this.log.warn({ err, queue: q }, 'queue delete failed'));
        }
        await ch.close().catch(() => undefined);
      },
    };
  }

  /** (Re)declare and (re)consume a group unless it is up or already being set up. */
  private ensureGroup(g: Group): void {
    if (g.closed || g.channel || g.setup || this.closed) return;
    g.setup = this.setupGroup(g)
      .catch((err: unknown) => {
        if (g.closed || this.closed) return;
        this.log.error({ err, consumer: g.spec.name }, 'consumer setup failed; retrying');
        setTimeout(() => this.ensureGroup(g), this.o.retryInterval * 1000).unref();
      })
      .finally(() => {
        g.setup = null;
      });
  }

  private async setupGroup(g: Group): Promise<void> {
    const model = await this.getModel();
    const ch = await model.createChannel();
    if (g.closed) {
      await ch.close().catch(() => undefined);
      return;
    }
    g.channel = ch;
    ch.on('error', (err: Error) => this.log.warn({ err, consumer: g.spec.name }, 'AMQP consumer channel error'));
    ch.on('close', () => {
      if (g.channel !== ch) return;
      g.channel = null;
      // The connection-level handler re-declares everything when the whole connection went away.
      if (g.closed || this.closed || this.model !== model) return;
      this.log.warn({ consumer: g.spec.name }, 'AMQP consumer channel closed; re-declaring');
      setTimeout(() => this.ensureGroup(g), this.o.retryInterval * 1000).unref();
    });
    for (const q of g.spec.queues) await declareQueue(ch, q);
    for (const q of g.spec.queues) {
      await ch.consume(
        q.name,
        (msg) => {
          if (msg === null) {
            // Consumer cancelled by the broker (queue deleted, failover): start over on a new channel.
            if (!g.closed) ch.close().catch(() => undefined);
            return;
          }
          g.spec.onMessage({
            queue: q.name,
            content: msg.content,
            properties: msg.properties,
            fields: msg.fields,
            ack: () => ch.ack(msg),
            reject: (requeue = false) => ch.reject(msg, requeue),
          });
        },
        { noAck: false },
      );
    }
  }

  // --- publishing -------------------------------------------------------------------------

  private async pubState(): Promise<PubState> {
    for (;;) {
      if (this.closed) throw new Error('RPC transport is closed');
      this.pub ??= this.openPubChannel();
      const p = this.pub;
      try {
        const s = await p;
        if (!s.closed) return s;
      } catch (err) {
        if (this.pub === p) this.pub = null;
        throw err;
      }
      if (this.pub === p) this.pub = null;
    }
  }

  private async openPubChannel(): Promise<PubState> {
    const model = await this.getModel();
    const ch = await model.createConfirmChannel();
    const s: PubState = { ch, closed: false, declared: new Set(), mandatory: new Map() };
    ch.on('error', (err: Error) => this.log.warn({ err }, 'AMQP publish channel error'));
    ch.on('close', () => {
      s.closed = true;
    });
    // RabbitMQ sends Basic.Return before the Basic.Ack of an unroutable mandatory message.
    ch.on('return', (msg: Message) => {
      const key = msg.content.toString('latin1');
      if (s.mandatory.has(key)) s.mandatory.set(key, true);
    });
    return s;
  }

  async publish(req: PublishRequest): Promise<PublishOutcome> {
    // A channel or connection that died under us is retried on a fresh one (the server side
    // drops a duplicate by _unique_id); a third failure is reported.
    for (let attempt = 1; ; attempt++) {
      try {
        const s = await this.pubState();
        if (req.deadline !== undefined && Date.now() > req.deadline) throw new Error('publish deadline passed; message not sent');
        if (req.declare && !s.declared.has(req.declare.name)) {
          await s.ch.assertExchange(req.declare.name, req.declare.type, req.declare.options);
          s.declared.add(req.declare.name);
        }
        if (req.declareQueue && !s.declared.has(`queue:${req.declareQueue.name}`)) {
          const q = req.declareQueue;
          await declareQueue(s.ch, q);
          s.declared.add(`queue:${q.name}`);
        }
        return await this.publishOn(s, req);
      } catch (err) {
        if (this.closed || attempt >= 3 || (req.deadline !== undefined && Date.now() > req.deadline)) throw err;
        this.log.warn({ err, exchange: req.exchange, routing_key: req.routingKey }, 'publish failed; retrying');
        await this.sleep(100 * attempt);
      }
    }
  }

  private publishOn(s: PubState, req: PublishRequest): Promise<PublishOutcome> {
    const key = req.mandatory ? req.body.toString('latin1') : null;
    return new Promise<PublishOutcome>((resolve, reject) => {
      if (key !== null) s.mandatory.set(key, false);
      const done = (err: unknown) => {
        const returned = key !== null && s.mandatory.get(key) === true;
        if (key !== null) s.mandatory.delete(key);
        if (err) reject(err instanceof Error ? err : new Error(`publish not confirmed: ${String(err)}`));
        else resolve(returned ? 'returned' : 'ok');
      };
      try {
        s.ch.publish(req.exchange, req.routingKey, req.body, publishProperties(req), done);
      } catch (err) {
        done(err ?? new Error('publish failed'));
      }
    });
  }
}
