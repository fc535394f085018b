// The process's notifier from cinder.conf (cinder/rpc.py init): the messaging drivers publish on
// [oslo_messaging_notifications] transport_url when it is set (a connection of its own, as
// get_notification_transport gives), else on the RPC transport the process already has.
import type { CinderConfig } from '../common/config.js';
import { transportOptions } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { Transport } from '../rpc/transport.js';
import type { RpcTransport } from '../rpc/transport-api.js';
import { OsloNotifier } from './notifier.js';

export { OsloNotifier, noopNotifier } from './notifier.js';

export function createNotifier(cfg: CinderConfig, rpcTransport: RpcTransport, logger: Logger): OsloNotifier {
  const s = cfg.oslo_messaging_notifications;
  const log = logger.child({ component: 'notifier' });
  const needsBus = s.driver.some((d) => d === 'messaging' || d === 'messagingv2');
  if (!needsBus) return new OsloNotifier(s, log);
  if (s.transport_url === undefined || s.transport_url === cfg.DEFAULT.transport_url) return new OsloNotifier(s, log, rpcTransport);
  const own = new Transport({ ...transportOptions(cfg), url: s.transport_url }, log);
  return new OsloNotifier(s, log, own, own);
}
