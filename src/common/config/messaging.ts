// The RPC transport's options: [DEFAULT] transport_url and control_exchange (oslo_messaging/
// transport.py) and [oslo_messaging_rabbit]'s queue flags (oslo_messaging/_drivers/amqp.py
// amqp_durable_queues, amqp_auto_delete; _drivers/impl_rabbit.py rabbit_ha_queues,
// rabbit_quorum_queue, rabbit_transient_queues_ttl), as src/rpc's transport takes them.
import { z } from 'zod';
import type { CinderConfig } from '../config.js';
import type { DefaultSection } from './default-section.js';
import { bool, int, sectionOf } from './oslo-config.js';

/**
 * [oslo_messaging_rabbit]: how queues and the exchange are declared. Every service on the broker
 * must declare them alike (RabbitMQ refuses a second declare with other flags), so these are the
 * oslo.messaging options with their defaults and sections.
 */
const rabbitSectionSchema = z.object({
  amqp_durable_queues: bool.default(false),
  amqp_auto_delete: bool.optional(),
  rabbit_ha_queues: bool.optional(),
  rabbit_quorum_queue: bool.default(false),
  rabbit_transient_queues_ttl: int(1).default(1800),
});

/** [oslo_messaging_rabbit] with the two options still read from their deprecated [DEFAULT] place. */
export function rabbitSection(raw: unknown, DEFAULT: DefaultSection) {
  const rabbit = sectionOf(rabbitSectionSchema, raw, 'oslo_messaging_rabbit');
  return {
    amqp_durable_queues: rabbit.amqp_durable_queues,
    // deprecated_group='DEFAULT': the new section wins when both are set
    amqp_auto_delete: rabbit.amqp_auto_delete ?? DEFAULT.amqp_auto_delete ?? false,
    rabbit_ha_queues: rabbit.rabbit_ha_queues ?? DEFAULT.rabbit_ha_queues ?? false,
    rabbit_quorum_queue: rabbit.rabbit_quorum_queue,
    rabbit_transient_queues_ttl: rabbit.rabbit_transient_queues_ttl,
  };
}
export type RabbitSettings = ReturnType<typeof rabbitSection>;

/** The RPC transport's options from cinder.conf (transport_url, control_exchange, the queue flags). */
export function transportOptions(cfg: CinderConfig) {
  const r = cfg.oslo_messaging_rabbit;
  return {
    url: cfg.DEFAULT.transport_url,
    controlExchange: cfg.DEFAULT.control_exchange,
    durableQueues: r.amqp_durable_queues,
    autoDelete: r.amqp_auto_delete,
    haQueues: r.rabbit_ha_queues,
    quorumQueues: r.rabbit_quorum_queue,
    transientQueuesTtl: r.rabbit_transient_queues_ttl,
  };
}

/** rabbit://u:p@h:port/vhost → amqp://u:p@h:port/vhost (amqplib form). */
export function amqpUrl(transportUrl: string): string {
  return transportUrl.replace(/^rabbit:\/\//, 'amqp://');
}
