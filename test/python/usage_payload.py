#!/usr/bin/python3
"""Cinder 21.3.1's own notification payload for a volume of a cinder-ts SQLite database.

  usage_payload.py <sqlite file> <volume id>

Loads the volume with cinder.objects.Volume.get_by_id over Cinder's own SQLAlchemy models (the
tables cinder-ts does not have, e.g. consistencygroups and groups, are created empty first, so
the joins Cinder makes find them), runs volume_utils._usage_from_volume and renders it as the
notifier's serializer does (jsonutils.to_primitive(convert_instances=True)); prints it as JSON.
"""
import json
import os
import sys

if os.path.realpath(sys.executable) != os.path.realpath('/usr/bin/python3'):
    os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)

from oslo_config import cfg  # noqa: E402
from oslo_serialization import jsonutils  # noqa: E402

from cinder.common import config  # noqa: E402,F401
from cinder import context, objects  # noqa: E402


def main():
    path, volume_id = sys.argv[1], sys.argv[2]
    objects.register_all()
    conf = cfg.CONF
    conf([], project='cinder', default_config_files=[])
    conf.set_override('connection', 'sqlite:///' + os.path.abspath(path), group='database')
    from cinder.db.sqlalchemy import api as sa_api, models
    models.BASE.metadata.create_all(sa_api.get_engine(), checkfirst=True)
    from cinder.volume import volume_utils
    ctx = context.get_admin_context()
    volume = objects.Volume.get_by_id(ctx, volume_id)
    payload = volume_utils._usage_from_volume(ctx, volume)
    print(json.dumps(jsonutils.to_primitive(payload, convert_instances=True)))


if __name__ == '__main__':
    main()
