#!/usr/bin/python3
"""A real oslo.messaging notification listener (Debian's python3-oslo.messaging), for
test/process/notifications.test.ts.

  notification_listener.py --transport-url URL [--topic notifications] [--exchange openstack]
                           [--pool NAME]

Builds the listener as a Ceilometer-style consumer does: get_notification_transport, a Target on
the topic (and control exchange), oslo_messaging.get_notification_listener with one endpoint that
has a method for every priority, the threading executor. Prints {"ready": true} once the listener
is consuming, then one JSON line per notification received:
  {"priority": ..., "publisher_id": ..., "event_type": ..., "payload": {...}, "metadata": {...},
   "ctxt": {...}}
Stops (and prints {"stopped": true}) when stdin is closed.
"""
import argparse
import json
import os
import sys
import threading

if os.path.realpath(sys.executable) != os.path.realpath('/usr/bin/python3'):
    os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)

from oslo_config import cfg  # noqa: E402
import oslo_messaging  # noqa: E402

_lock = threading.Lock()


def emit(obj):
    with _lock:
        sys.stdout.write(json.dumps(obj, default=str) + '\n')
        sys.stdout.flush()


class Endpoint(object):
    """One handler per priority; the dispatcher consumes `<topic>.<priority>` for each."""

    def _record(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        emit({'priority': priority, 'publisher_id': publisher_id, 'event_type': event_type,
              'payload': payload, 'metadata': metadata, 'ctxt': ctxt})
        return oslo_messaging.NotificationResult.HANDLED

    def audit(self, ctxt, publisher_id, event_type, payload, metadata):
        return self._record('audit', ctxt, publisher_id, event_type, payload, metadata)

    def debug(self, ctxt, publisher_id, event_type, payload, metadata):
        return self._record('debug', ctxt, publisher_id, event_type, payload, metadata)

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        return self._record('info', ctxt, publisher_id, event_type, payload, metadata)

    def warn(self, ctxt, publisher_id, event_type, payload, metadata):
        return self._record('warn', ctxt, publisher_id, event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        return self._record('error', ctxt, publisher_id, event_type, payload, metadata)

    def critical(self, ctxt, publisher_id, event_type, payload, metadata):
        return self._record('critical', ctxt, publisher_id, event_type, payload, metadata)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--transport-url', required=True)
    p.add_argument('--topic', default='notifications')
    p.add_argument('--exchange', default=None)
    p.add_argument('--pool', default=None)
    a = p.parse_args()

    conf = cfg.ConfigOpts()
    conf([], project='cinder-ts-test')
    transport = oslo_messaging.get_notification_transport(conf, url=a.transport_url)
    target = oslo_messaging.Target(topic=a.topic, exchange=a.exchange)
    listener = oslo_messaging.get_notification_listener(
        transport, [target], [Endpoint()], executor='threading', pool=a.pool)
    listener.start()
    emit({'ready': True})
    try:
        for _ in sys.stdin:
            pass
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
        emit({'stopped': True})


if __name__ == '__main__':
    main()
