// [oslo_messaging_notifications] as oslo.messaging registers it (oslo_messaging/notify/notifier.py
// _notifier_opts): `driver` is a MultiStrOpt (one value per `driver =` line, default none, so the
// notifier is a no-op), `transport_url` (unset: the RPC transport's [DEFAULT] transport_url),
// `topics` (a ListOpt, default ['notifications']) and `retry` (-1: forever). The deprecated names
// ([DEFAULT] notification_driver / notification_transport_url / notification_topics) are read too.

export const NOTIFICATION_DRIVERS = ['messaging', 'messagingv2', 'log', 'noop'] as const;
export type NotificationDriver = (typeof NOTIFICATION_DRIVERS)[number];

export interface NotificationSettings {
  /** The drivers in the order given; empty (the default) or ['noop']: nothing is sent. */
  driver: string[];
  /** Where the messaging drivers publish; undefined: the RPC transport_url. */
  transport_url: string | undefined;
  topics: string[];
  /** Attempts after the first failed one; -1 forever, 0 none. */
  retry: number;
}

/** Every value of `key` in `[section]` of an oslo.config file, in order (MultiStrOpt semantics). */
export function multiValues(text: string, section: string, key: string): string[] {
  const out: string[] = [];
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      inSection = line.endsWith(']') && line.slice(1, -1).trim() === section;
      continue;
    }
    if (!inSection || raw.startsWith(' ') || raw.startsWith('\t')) continue;
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!m || m[1] !== key) continue;
    let v = m[2].trim();
    if (v.length >= 2 && v[0] === v[v.length - 1] && (v[0] === '"' || v[0] === "'")) v = v.slice(1, -1);
    out.push(v);
  }
  return out;
}

const last = (vs: string[]): string | undefined => (vs.length ? vs[vs.length - 1] : undefined);

/**
 * The notification options of a cinder.conf text. Unknown driver names fail as stevedore's
 * NamedExtensionManager would not load them (oslo logs and ignores a missing entry point; a
 * typo here is more useful as a start-up error naming the option).
 */
export function notificationSettings(text: string): NotificationSettings {
  const sec = 'oslo_messaging_notifications';
  let driver = multiValues(text, sec, 'driver');
  if (driver.length === 0) driver = multiValues(text, 'DEFAULT', 'notification_driver');
  // An empty `driver =` line is the empty string driver, which loads nothing.
  driver = driver.filter((d) => d !== '');
  for (const d of driver) {
    if (!(NOTIFICATION_DRIVERS as readonly string[]).includes(d)) {
      throw new Error(`config error: [${sec}] driver: expected one of ${NOTIFICATION_DRIVERS.join(', ')}, got '${d}'`);
    }
  }
  const url = last(multiValues(text, sec, 'transport_url')) ?? last(multiValues(text, 'DEFAULT', 'notification_transport_url'));
  if (url !== undefined && url !== '' && !/^(rabbit|amqp):\/\//.test(url)) {
    throw new Error(`config error: [${sec}] transport_url: must be a rabbit:// URL, got '${url.replace(/:[^:@/]*@/, ':***@')}'`);
  }
  const rawTopics = last(multiValues(text, sec, 'topics')) ?? last(multiValues(text, 'DEFAULT', 'notification_topics'));
  const topics = rawTopics === undefined ? ['notifications'] : rawTopics.split(',').map((t) => t.trim()).filter(Boolean);
  const rawRetry = last(multiValues(text, sec, 'retry'));
  const retry = rawRetry === undefined || rawRetry === '' ? -1 : Number(rawRetry);
  if (!Number.isInteger(retry) || retry < -1) throw new Error(`config error: [${sec}] retry: expected an integer >= -1, got '${rawRetry}'`);
  return { driver, transport_url: url === '' ? undefined : url, topics, retry };
}

/** oslo Notifier.is_enabled() and cinder.utils.notifications_enabled: any driver but 'noop' alone. */
export function notificationsEnabled(s: NotificationSettings): boolean {
  const set = new Set(s.driver);
  return set.size > 0 && !(set.size === 1 && set.has('noop'));
}
