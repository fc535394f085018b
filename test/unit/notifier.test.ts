// oslo.messaging's Notifier as src/notifier builds it: options, drivers, the wire message.
import { describe, it, expect } from 'vitest';
import { makeContext } from '../../src/common/context.js';
import { parseConfig } from '../../src/common/config.js';
import { OsloNotifier, pyUtcNowStr } from '../../src/notifier/notifier.js';
import { notificationSettings, notificationsEnabled } from '../../src/notifier/options.js';
import { maskDictPassword } from '../../src/notifier/mask.js';
import { createNotifier } from '../../src/notifier/index.js';
import { Topology } from '../../src/rpc/topology.js';
import type { PublishRequest, RpcTransport } from '../../src/rpc/transport-api.js';
import { resolveTransportOptions } from '../../src/rpc/transport-options.js';
import { capturingLogger } from '../support/lvm-manager.js';
import { loggedNotifications } from '../support/notifications.js';

const ctx = makeContext({ user_id: 'u1', project_id: 'p1', roles: ['member'], auth_token: 'secret-token', remote_address: '10.0.0.1' });

function fakeTransport(fail = 0) {
  const sent: PublishRequest[] = [];
  let failures = fail;
  const t: RpcTransport = {
    topology: new Topology(resolveTransportOptions({ controlExchange: 'openstack' })),
    async publish(req) {
      if (failures-- > 0) throw new Error('broker away');
      sent.push(req);
      return 'ok';
    },
    async consume() {
      throw new Error('not used');
    },
  };
  return { t, sent };
}

const settings = (driver: string[], extra: Partial<{ topics: string[]; retry: number }> = {}) => ({
  driver,
  transport_url: undefined,
  topics: extra.topics ?? ['notifications'],
  retry: extra.retry ?? -1,
});

const until = async (f: () => boolean, ms = 2000) => {
  for (let i = 0; i < ms / 10 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('[oslo_messaging_notifications]', () => {
  it('defaults: no driver (disabled), topic notifications, retry -1', () => {
    const s = parseConfig('[DEFAULT]\n').oslo_messaging_notifications;
    expect(s).toEqual({ driver: [], transport_url: undefined, topics: ['notifications'], retry: -1 });
    expect(notificationsEnabled(s)).toBe(false);
    expect(notificationsEnabled(settings(['noop']))).toBe(false);
    expect(notificationsEnabled(settings(['noop', 'log']))).toBe(true);
  });

  it('driver is multi-valued; topics a list; the deprecated [DEFAULT] names are read', () => {
    const s = notificationSettings('[oslo_messaging_notifications]\ndriver = log\ndriver = messagingv2\ntopics = a, b\ntransport_url = rabbit://x:y@h:5672/v\n');
    expect(s).toEqual({ driver: ['log', 'messagingv2'], transport_url: 'rabbit://x:y@h:5672/v', topics: ['a', 'b'], retry: -1 });
    expect(notificationSettings('[DEFAULT]\nnotification_driver = messaging\nnotification_topics = t\n')).toMatchObject({ driver: ['messaging'], topics: ['t'] });
    expect(() => parseConfig('[oslo_messaging_notifications]\ndriver = kafka\n')).toThrow(/\[oslo_messaging_notifications\] driver/);
  });
});

describe('drivers', () => {
  it('none: nothing published and nothing logged', () => {
    const lines: Record<string, unknown>[] = [];
    const { t, sent } = fakeTransport();
    new OsloNotifier(settings([]), capturingLogger(lines), t).info(ctx, 'volume.h', 'volume.detach.start', { a: 1 });
    expect(sent).toEqual([]);
    expect(lines).toEqual([]);
  });

  it("log: one line on oslo.messaging.notification.<event_type>, the message as JSON, passwords masked", () => {
    const lines: Record<string, unknown>[] = [];
    const n = new OsloNotifier(settings(['log']), capturingLogger(lines));
    n.info(ctx, 'volume.h@lvm', 'volume.attach.end', { password: 'x', nested: { auth_password: 'y' }, info: '{"auth_password": "z"}' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, logger: 'oslo.messaging.notification.volume.attach.end' });
    const [m] = loggedNotifications(lines);
    expect(m).toMatchObject({ publisher_id: 'volume.h@lvm', event_type: 'volume.attach.end', priority: 'INFO' });
    expect(m.payload).toEqual({ password: '***', nested: { auth_password: '***' }, info: '{"auth_password": "***"}' });
    expect(Object.keys(m)).toEqual(['message_id', 'publisher_id', 'event_type', 'priority', 'payload', 'timestamp']);
  });

  it('messagingv2: <topic>.<priority> on the control exchange, the 2.0 envelope, the sanitized context', async () => {
    const { t, sent } = fakeTransport();
    const n = new OsloNotifier(settings(['messagingv2'], { topics: ['notifications', 'other'] }), capturingLogger([]), t);
    n.info(ctx, 'volume.h', 'volume.detach.end', { volume_id: 'v' });
    await until(() => sent.length === 2);
    expect(sent.map((r) => [r.exchange, r.routingKey, r.declareQueue?.name])).toEqual([
      ['openstack', 'notifications.info', 'notifications.info'],
      ['openstack', 'other.info', 'other.info'],
    ]);
    const outer = JSON.parse(sent[0].body.toString());
    expect(Object.keys(outer)).toEqual(['oslo.version', 'oslo.message']);
    expect(outer['oslo.version']).toBe('2.0');
    const inner = JSON.parse(outer['oslo.message']);
    expect(inner).toMatchObject({ publisher_id: 'volume.h', event_type: 'volume.detach.end', priority: 'INFO', payload: { volume_id: 'v' } });
    expect(inner._unique_id).toMatch(/^[0-9a-f]{32}$/);
    expect(inner).toMatchObject({ _context_user_id: 'u1', _context_project_id: 'p1', _context_request_id: ctx.request_id, _context_read_deleted: 'no' });
    // _sanitize_context keeps the safe keys only: no token, no address.
    expect(inner._context_auth_token).toBeNull();
    expect(inner._context_remote_address).toBeNull();
  });

  it('messaging (1.0): the bare message', async () => {
    const { t, sent } = fakeTransport();
    new OsloNotifier(settings(['messaging']), capturingLogger([]), t).error(ctx, 'scheduler.h', 'scheduler.retype', {});
    await until(() => sent.length === 1);
    expect(sent[0].routingKey).toBe('notifications.error');
    expect(JSON.parse(sent[0].body.toString())).toMatchObject({ event_type: 'scheduler.retype', priority: 'ERROR' });
  });

  it('a broker failure never reaches the caller; the backlog is sent in order when it is back', async () => {
    const lines: Record<string, unknown>[] = [];
    const { t, sent } = fakeTransport(2);
    const n = new OsloNotifier(settings(['messagingv2']), capturingLogger(lines), t);
    expect(() => {
      n.info(ctx, 'p', 'e.1', {});
      n.info(ctx, 'p', 'e.2', {});
    }).not.toThrow();
    // Retried after 1 s, then 2 s.
    await until(() => sent.length === 2, 10_000);
    expect(sent.map((r) => JSON.parse(JSON.parse(r.body.toString())['oslo.message']).event_type)).toEqual(['e.1', 'e.2']);
    expect(lines.some((l) => l.msg === 'notification not sent yet; retrying')).toBe(true);
  }, 15_000);

  it('retry = 0: a failed notification is logged and dropped', async () => {
    const lines: Record<string, unknown>[] = [];
    const { t, sent } = fakeTransport(1);
    const n = new OsloNotifier(settings(['messagingv2'], { retry: 0 }), capturingLogger(lines), t);
    n.info(ctx, 'p', 'lost', {});
    n.info(ctx, 'p', 'kept', {});
    await until(() => sent.length === 1);
    expect(JSON.parse(JSON.parse(sent[0].body.toString())['oslo.message']).event_type).toBe('kept');
    expect(lines.some((l) => l.msg === 'Could not send notification to notifications.info.')).toBe(true);
  });
});

describe('createNotifier (cinder/rpc.py init)', () => {
  const conf = (extra: string) =>
    parseConfig(`[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:5672/v\n[oslo_messaging_notifications]\ndriver = messagingv2\n${extra}`);

  it('publishes on the RPC transport unless [oslo_messaging_notifications] transport_url names another', async () => {
    const same = fakeTransport();
    const n1 = createNotifier(conf(''), same.t, capturingLogger([]));
    n1.info(ctx, 'p', 'e', {});
    await until(() => same.sent.length === 1);
    expect(same.sent).toHaveLength(1);

    const other = fakeTransport();
    // Nothing listens on port 1: the notifier's own transport keeps trying until it is closed.
    const n2 = createNotifier(conf('transport_url = rabbit://guest:guest@127.0.0.1:1/elsewhere\n'), other.t, capturingLogger([]));
    n2.info(ctx, 'p', 'e', {});
    await new Promise((r) => setTimeout(r, 200));
    expect(other.sent).toEqual([]);
    await n2.close(0);
  });

  it('no driver: no transport is used at all', () => {
    const f = fakeTransport();
    createNotifier(parseConfig('[DEFAULT]\n'), f.t, capturingLogger([])).info(ctx, 'p', 'e', {});
    expect(f.sent).toEqual([]);
  });
});

describe('helpers', () => {
  it("str(utcnow()): microseconds only when not zero, no 'T', no offset", () => {
    expect(pyUtcNowStr(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02 03:04:05.678000');
    expect(pyUtcNowStr(new Date('2026-01-02T03:04:05.000Z'))).toBe('2026-01-02 03:04:05');
  });

  it('mask_dict_password: secret keys and secrets inside strings', () => {
    expect(maskDictPassword({ admin_password: 'a', user: 'u', s: 'auth_password=abc x' })).toEqual({ admin_password: '***', user: 'u', s: 'auth_password=*** x' });
  });
});
