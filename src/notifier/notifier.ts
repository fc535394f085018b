// oslo_messaging.Notifier as Cinder builds it (cinder/rpc.py init/get_notifier): one Notifier per
// process on the notification transport, prepared with publisher_id `<service>.<host>`.
// _notify (oslo_messaging/notify/notifier.py) builds {message_id, publisher_id, event_type,
// priority, payload, timestamp} and hands it to every configured driver:
//  - noop (or no driver, the default): nothing, not even a log line;
//  - log (notify/_impl_log.py LogDriver): one line on logger oslo.messaging.notification.<event_type>
//    at the priority, the message as JSON with its passwords masked;
//  - messaging / messagingv2 (notify/messaging.py): published on the control exchange to
//    `<topic>.<priority>` for each topic; the rabbit driver (amqpdriver._send with notify=True)
//    adds _unique_id and the `_context_*` keys, v2 wraps it in the oslo 2.0 envelope, and
//    impl_rabbit.notify_send declares the topic exchange and a queue named after the routing key.
// A failed send is logged and never reaches the caller (do_notify / MessagingDriver.notify catch
// everything). Unlike kombu's blocking publish, sending happens in the background in order, so a
// broker outage never holds a volume operation; the backlog is retried as [..] retry says.
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../common/context.js';
import { makeContext } from '../common/context.js';
import type { Logger } from '../common/log.js';
import { pyJsonDumps } from '../common/pyjson.js';
import { contextToWire } from '../rpc/context-codec.js';
import type { RpcTransport } from '../rpc/transport-api.js';
import type { NotificationSettings } from './options.js';
import { notificationsEnabled } from './options.js';
import { maskDictPassword } from './mask.js';

export type Priority = 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'DEBUG' | 'AUDIT' | 'SAMPLE';

export interface NotificationMessage {
  message_id: string;
  publisher_id: string;
  event_type: string;
  priority: Priority;
  payload: unknown;
  timestamp: string;
}

/** str(timeutils.utcnow()): 'YYYY-MM-DD HH:MM:SS[.ffffff]' (no offset; microseconds only when not 0). */
export function pyUtcNowStr(d: Date = new Date()): string {
  const iso = d.toISOString(); // ms precision
  const [date, time] = iso.slice(0, -1).split('T');
  const [hms, ms] = time.split('.');
  return ms === '000' ? `${date} ${hms}` : `${date} ${hms}.${ms}000`;
}

/**
 * _sanitize_context: only oslo's safe keys survive, and the context is rebuilt from them with
 * RequestContext.from_dict before the serializer's to_dict. Cinder 21.3.1's from_dict would raise
 * on the missing read_deleted with this oslo.messaging (ValueError out of notify); the port sends
 * what the sanitizer means: the safe keys, every other field at its constructor default.
 */
export function sanitizedContext(ctx: RequestContext): RequestContext {
  return makeContext({
    user_id: ctx.user_id,
    project_id: ctx.project_id,
    project_name: ctx.project_name,
    roles: [...ctx.roles],
    is_admin: ctx.is_admin,
    request_id: ctx.request_id,
    global_request_id: ctx.global_request_id,
  });
}

interface Pending {
  body: Buffer;
  routingKey: string;
  eventType: string;
  attempts: number;
}

/** How many unsent notifications are kept while the broker is away (the oldest go first). */
export const MAX_BACKLOG = 10_000;

export class OsloNotifier {
  private readonly queue: Pending[] = [];
  private pumping: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly settings: NotificationSettings,
    private readonly logger: Logger,
    /** The notification transport (messaging drivers only). */
    private readonly transport: RpcTransport | null = null,
    private readonly ownsTransport: { close(): Promise<void> } | null = null,
  ) {
    const needsBus = settings.driver.some((d) => d === 'messaging' || d === 'messagingv2');
    if (needsBus && !transport) throw new Error('a messaging notification driver needs a transport');
  }

  get enabled(): boolean {
    return notificationsEnabled(this.settings);
  }

  /** Notifier._notify: never throws. */
  notify(ctx: RequestContext, publisherId: string, eventType: string, priority: Priority, payload: unknown): void {
    if (!this.enabled || this.closed) return;
    try {
      const msg: NotificationMessage = {
        message_id: randomUUID(),
        publisher_id: publisherId,
        event_type: eventType,
        priority,
        payload,
        timestamp: pyUtcNowStr(),
      };
      for (const d of new Set(this.settings.driver)) {
        try {
          if (d === 'log') this.logDriver(msg);
          else if (d === 'messaging' || d === 'messagingv2') this.messagingDriver(ctx, msg, d === 'messagingv2');
        } catch (err) {
          this.logger.error({ err, event_type: eventType }, `Problem '${(err as Error).message}' attempting to send to notification system.`);
        }
      }
    } catch (err) {
      this.logger.error({ err, event_type: eventType }, 'notification not sent');
    }
  }

  info(ctx: RequestContext, publisherId: string, eventType: string, payload: unknown): void {
    this.notify(ctx, publisherId, eventType, 'INFO', payload);
  }

  error(ctx: RequestContext, publisherId: string, eventType: string, payload: unknown): void {
    this.notify(ctx, publisherId, eventType, 'ERROR', payload);
  }

  /** LogDriver.notify: logger `oslo.messaging.notification.<event_type>`, method = priority.lower(). */
  private logDriver(msg: NotificationMessage): void {
    const method = ({ info: 'info', warn: 'warn', error: 'error', critical: 'fatal', debug: 'debug' } as const)[
      msg.priority.toLowerCase() as 'info'
    ];
    if (!method) {
      this.logger.warn(`Unable to log message as notify cannot find a logger with the priority specified ${msg.priority.toLowerCase()}`);
      return;
    }
    const log = this.logger.child({ logger: `oslo.messaging.notification.${msg.event_type}` });
    log[method](pyJsonDumps(maskDictPassword(msg)));
  }

  /** MessagingDriver.notify + AMQPDriverBase._send(notify=True): one publish per topic. */
  private messagingDriver(ctx: RequestContext, msg: NotificationMessage, v2: boolean): void {
    const wire = { ...msg, _unique_id: randomUUID().replace(/-/g, ''), ...contextToWire(sanitizedContext(ctx)) };
    const inner = pyJsonDumps(wire);
    const body = Buffer.from(v2 ? pyJsonDumps({ 'oslo.version': '2.0', 'oslo.message': inner }) : inner, 'utf8');
    for (const topic of this.settings.topics) {
      if (this.queue.length >= MAX_BACKLOG) {
        const dropped = this.queue.shift()!;
        this.logger.error({ event_type: dropped.eventType, routing_key: dropped.routingKey }, 'notification backlog full; oldest notification dropped');
      }
      this.queue.push({ body, routingKey: `${topic}.${msg.priority.toLowerCase()}`, eventType: msg.event_type, attempts: 0 });
    }
    this.pumping ??= this.pump().finally(() => {
      this.pumping = null;
    });
  }

  /** Publishes the backlog in order; a failed message waits and is tried again as `retry` allows. */
  private async pump(): Promise<void> {
    const t = this.transport!;
    while (this.queue.length && !this.closed) {
      const p = this.queue[0];
      const routingKey = p.routingKey;
      const queue = t.topology.topicQueue(routingKey);
      try {
        await t.publish({
          exchange: t.topology.controlExchange().name,
          routingKey,
          body: p.body,
          declare: t.topology.controlExchange(),
          declareQueue: queue,
        });
        this.queue.shift();
      } catch (err) {
        p.attempts++;
        if (this.closed) return;
        if (this.settings.retry !== -1 && p.attempts > this.settings.retry) {
          this.queue.shift();
          this.logger.error({ err, routing_key: routingKey, event_type: p.eventType }, `Could not send notification to ${routingKey}.`);
          continue;
        }
        this.logger.warn({ err, routing_key: routingKey, event_type: p.eventType, attempt: p.attempts }, 'notification not sent yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(1000 * p.attempts, 30_000)).unref());
      }
    }
  }

  /** Waits (up to timeoutMs) for the backlog to drain, then stops; closes a transport of its own. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.pumping) await Promise.race([this.pumping, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.closed = true;
    if (this.ownsTransport) await this.ownsTransport.close().catch(() => undefined);
  }
}

/** The notifier of a process whose config says no driver: Cinder's utils.DO_NOTHING. */
export function noopNotifier(logger: Logger): OsloNotifier {
  return new OsloNotifier({ driver: [], transport_url: undefined, topics: ['notifications'], retry: -1 }, logger);
}
