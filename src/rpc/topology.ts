// The exchanges, queues and bindings the rabbit driver declares, and how one is declared.
//
// Declarations copy oslo's flags exactly: RabbitMQ answers 406 PRECONDITION_FAILED when two
// parties declare the same entity differently, so durable/auto_delete/x-args must match. The
// flags are those of oslo.messaging's _drivers/impl_rabbit.py: Connection.declare_topic_consumer
// (durable per Connection.durable), declare_fanout_consumer, declare_direct_consumer (reply
// queues), and _get_queue_arguments (x-ha-policy, x-expires, x-queue-type).
import type { Channel, Options } from 'amqplib';
import { hexId } from './ids.js';
import type { ResolvedTransportOptions } from './transport-options.js';

export interface ExchangeDecl {
  name: string;
  type: 'topic' | 'fanout' | 'direct';
  options: Options.AssertExchange;
}

export interface QueueDecl {
  name: string;
  options: Options.AssertQueue;
  bindings: { exchange: ExchangeDecl; routingKey: string }[];
}

/** The declarations oslo makes, derived from the options that change them (spec §2, §13). */
export class Topology {
  constructor(private readonly o: ResolvedTransportOptions) {}

  private haArgs(): Record<string, unknown> {
    return this.o.haQueues ? { 'x-ha-policy': 'all' } : {};
  }

  /** `openstack` topic exchange: durable only with amqp_durable_queues / rabbit_quorum_queue. */
  controlExchange(): ExchangeDecl {
    return {
      name: this.o.controlExchange,
      type: 'topic',
      options: { durable: this.o.durableQueues || this.o.quorumQueues, autoDelete: this.o.autoDelete },
    };
  }

  /** `<topic>_fanout`: never durable, always auto-delete. */
  fanoutExchange(topic: string): ExchangeDecl {
    return { name: `${topic}_fanout`, type: 'fanout', options: { durable: false, autoDelete: true } };
  }

  /** `<topic>` or `<topic>.<server>`, bound to the control exchange under its own name. */
  topicQueue(name: string): QueueDecl {
    const args: Record<string, unknown> = { ...this.haArgs() };
    if (this.o.quorumQueues) args['x-queue-type'] = 'quorum';
    return {
      name,
      options: {
        durable: this.o.durableQueues || this.o.quorumQueues,
        autoDelete: this.o.autoDelete,
        exclusive: false,
        arguments: args,
      },
      bindings: [{ exchange: this.controlExchange(), routingKey: name }],
    };
  }

  private transient(name: string): Options.AssertQueue {
    return {
      durable: false,
      autoDelete: false,
      exclusive: false,
      // A JS integer below 2^31 is encoded as a signed int, which is what oslo sends.
      arguments: { 'x-expires': this.o.transientQueuesTtl * 1000, ...this.haArgs() },
    };
  }

  /** `<topic>_fanout_<hex>` bound to `<topic>_fanout` with the topic as key (ignored by fanout). */
  fanoutQueue(topic: string, suffix: string = hexId()): QueueDecl {
    const name = `${topic}_fanout_${suffix}`;
    return { name, options: this.transient(name), bindings: [{ exchange: this.fanoutExchange(topic), routingKey: topic }] };
  }

  /** `reply_<hex>`: reached through the default exchange by name, so no binding. */
  replyQueue(suffix: string = hexId()): QueueDecl {
    const name = `reply_${suffix}`;
    return { name, options: this.transient(name), bindings: [] };
  }
}

/**
 * Declare a queue's exchanges, the queue, then its bindings, on `ch`: what kombu's Queue.declare
 * does for impl_rabbit.py's Consumer.declare (a consumer group's set-up) and for
 * _publish_and_creates_default_queue (a notification publish).
 */
export async function declareQueue(ch: Channel, q: QueueDecl): Promise<void> {
  for (const b of q.bindings) await ch.assertExchange(b.exchange.name, b.exchange.type, b.exchange.options);
  await ch.assertQueue(q.name, q.options);
  for (const b of q.bindings) await ch.bindQueue(q.name, b.exchange.name, b.routingKey);
}
