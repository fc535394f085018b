// What a transport is configured with: the transport URL and the rabbit driver's options.
//
// - parseTransportUrl follows oslo.messaging's transport.py TransportURL.parse: hosts split on
//   ',', each `user:pass@host:port`, the path is the virtual host; a host without credentials
//   gets kombu's guest/guest.
// - resolveTransportOptions fills in oslo.messaging 14's defaults: control_exchange
//   (transport.py _transport_opts), amqp_durable_queues / amqp_auto_delete (_drivers/amqp.py
//   amqp_opts), and the rabbit_* / heartbeat_timeout_threshold options (_drivers/impl_rabbit.py
//   rabbit_opts). Topology (topology.ts) and Transport (transport.ts) read the resolved form.

export interface TransportOptions {
  /** rabbit://user:pass@host:port[,user:pass@host2:port]/vhost (amqp:// accepted too). */
  url: string;
  /** heartbeat_timeout_threshold (s). */
  heartbeat?: number;
  /** [DEFAULT] control_exchange. */
  controlExchange?: string;
  /** amqp_durable_queues: durable topic exchange and topic queues. */
  durableQueues?: boolean;
  /** amqp_auto_delete: auto_delete on the topic exchange and topic queues. */
  autoDelete?: boolean;
  /** rabbit_quorum_queue: topic queues durable with x-queue-type quorum (exchange durable). */
  quorumQueues?: boolean;
  /** rabbit_ha_queues: x-ha-policy all on every queue. */
  haQueues?: boolean;
  /** rabbit_transient_queues_ttl (s): x-expires of reply and fanout queues. */
  transientQueuesTtl?: number;
  /** rabbit_retry_interval / rabbit_retry_backoff / rabbit_interval_max (s). */
  retryInterval?: number;
  retryBackoff?: number;
  intervalMax?: number;
  /** TCP connect timeout (ms). */
  connectTimeoutMs?: number;
}

export interface ResolvedTransportOptions {
  heartbeat: number;
  controlExchange: string;
  durableQueues: boolean;
  autoDelete: boolean;
  quorumQueues: boolean;
  haQueues: boolean;
  transientQueuesTtl: number;
  retryInterval: number;
  retryBackoff: number;
  intervalMax: number;
  connectTimeoutMs: number;
}

/** Defaults are oslo.messaging 14's. */
export function resolveTransportOptions(opts: Omit<TransportOptions, 'url'> = {}): ResolvedTransportOptions {
  return {
    heartbeat: opts.heartbeat ?? 60,
    controlExchange: opts.controlExchange ?? 'openstack',
    durableQueues: opts.durableQueues ?? false,
    autoDelete: opts.autoDelete ?? false,
    quorumQueues: opts.quorumQueues ?? false,
    haQueues: opts.haQueues ?? false,
    transientQueuesTtl: opts.transientQueuesTtl ?? 1800,
    retryInterval: opts.retryInterval ?? 1,
    retryBackoff: opts.retryBackoff ?? 2,
    intervalMax: opts.intervalMax ?? 30,
    connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
  };
}

export interface BrokerAddress {
  hostname: string;
  port: number;
  username: string;
  password: string;
}

/** Parse an oslo transport URL (several comma-separated hosts allowed). `vhost` stays escaped. */
export function parseTransportUrl(url: string): { hosts: BrokerAddress[]; vhost: string } {
  const m = /^(rabbit|amqp):\/\/([^/?#]*)(\/[^?#]*)?(?:\?[^#]*)?$/.exec(url.trim());
  if (!m) throw new Error(`unsupported transport URL (expected rabbit://...): ${url.replace(/:[^:@/]*@/, ':***@')}`);
  const hosts = m[2].split(',').map((part): BrokerAddress => {
    const at = part.lastIndexOf('@');
    const cred = at >= 0 ? part.slice(0, at) : '';
    const hostport = at >= 0 ? part.slice(at + 1) : part;
    const colon = cred.indexOf(':');
    const username = at >= 0 ? decodeURIComponent(colon >= 0 ? cred.slice(0, colon) : cred) : 'guest';
    const password = at >= 0 ? decodeURIComponent(colon >= 0 ? cred.slice(colon + 1) : '') : 'guest';
    const hp = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(hostport);
    const hostname = (hp?.[1] ?? hostport).replace(/^\[|\]$/g, '') || 'localhost';
    return { hostname, port: hp?.[2] ? Number(hp[2]) : 5672, username, password };
  });
  return { hosts, vhost: (m[3] ?? '/').slice(1) };
}
