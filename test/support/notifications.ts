// Notifications as the `log` driver writes them (oslo_messaging/notify/_impl_log.py): a line on
// logger oslo.messaging.notification.<event_type> whose message is the notification as JSON.
export interface LoggedNotification {
  message_id: string;
  publisher_id: string;
  event_type: string;
  priority: string;
  payload: any;
  timestamp: string;
}

const PREFIX = 'oslo.messaging.notification.';

/** The notifications among parsed pino lines (objects) or raw JSON lines (strings), in order. */
export function loggedNotifications(lines: Array<string | Record<string, unknown>>): LoggedNotification[] {
  const out: LoggedNotification[] = [];
  for (const l of lines) {
    let o: Record<string, unknown>;
    if (typeof l === 'string') {
      if (!l.includes(PREFIX)) continue;
      try {
        o = JSON.parse(l) as Record<string, unknown>;
      } catch {
        continue;
      }
    } else o = l;
    if (typeof o.logger !== 'string' || !o.logger.startsWith(PREFIX) || typeof o.msg !== 'string') continue;
    out.push(JSON.parse(o.msg) as LoggedNotification);
  }
  return out;
}

/** cinder.conf lines that turn the log driver on. */
export const LOG_DRIVER_CONFIG = '[oslo_messaging_notifications]\ndriver = log\n';
