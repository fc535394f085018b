// What the RPC client, server and notifier need from a transport (RpcTransport), and the messages
// that cross it: publish requests, consumer groups and deliveries. Transport (transport.ts) is
// the one implementation; the unit tests fake this interface.
//
// The seam is oslo.messaging's _drivers/base.py BaseDriver (send / send_notification / listen)
// and IncomingMessage; a Delivery is impl_rabbit.py's RabbitMessage, the message with ack/reject
// bound to the channel it came on. publishProperties is what kombu's Producer.publish puts on the wire for
// impl_rabbit.py's Connection._publish.
import type { ConsumeMessage, Options } from 'amqplib';
import type { ExchangeDecl, QueueDecl, Topology } from './topology.js';

/** A received message, with ack/reject bound to the channel it came on. */
export interface Delivery {
  queue: string;
  content: Buffer;
  properties: ConsumeMessage['properties'];
  fields: ConsumeMessage['fields'];
  ack(): void;
  reject(requeue?: boolean): void;
}

export interface ConsumerSpec {
  /** For logs. */
  name: string;
  /** Declared (exchange, queue, bindings) in order, then consumed in order. */
  queues: QueueDecl[];
  onMessage(d: Delivery): void;
}

export interface ConsumerHandle {
  /** Stop consuming; optionally delete queues first (an RPC server's fanout queues). */
  close(opts?: { deleteQueues?: string[] }): Promise<void>;
}

export interface PublishRequest {
  exchange: string;
  routingKey: string;
  body: Buffer;
  /** Declared on the publish channel before its first use there (oslo declares before publishing). */
  declare?: ExchangeDecl;
  /** A queue declared and bound (once per channel) before the publish: impl_rabbit's
   * _publish_and_creates_default_queue for notifications, so none is lost before a listener binds. */
  declareQueue?: QueueDecl;
  /** Per-message TTL in ms, as a string: calls only. */
  expiration?: string;
  /** true for replies only. */
  mandatory?: boolean;
  /** Epoch ms after which the message must not be sent any more (a call that already timed out
   * while the connection was being re-established). */
  deadline?: number;
}

/** 'returned': a mandatory message was unroutable (Basic.Return), e.g. the reply queue is gone. */
export type PublishOutcome = 'ok' | 'returned';

/** What the RPC client and server need from a transport (the unit tests fake this). */
export interface RpcTransport {
  readonly topology: Topology;
  publish(req: PublishRequest): Promise<PublishOutcome>;
  consume(spec: ConsumerSpec): Promise<ConsumerHandle>;
}

/** Publish properties, exactly as kombu sends them (spec §4): no correlation_id, reply_to, etc. */
export function publishProperties(req: Pick<PublishRequest, 'expiration' | 'mandatory'>): Options.Publish {
  const p: Options.Publish = {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: {},
    deliveryMode: 2,
    priority: 0,
    mandatory: req.mandatory === true,
  };
  if (req.expiration !== undefined) p.expiration = req.expiration;
  return p;
}
