"""Makes the Nova of scripts/nova/start.sh <dir> know a server with a Cinder volume attached, by
writing the rows Nova itself would have written into its SQLite databases (standard library only,
~50 ms; importing Nova's objects instead would cost ~3.5 s a call):

  /usr/bin/python3 add-server-volume.py <dir> --server <uuid> --project <project_id> \\
      --user <user_id> --volume <volume_id> --attachment <cinder_attachment_id> [--device /dev/vdb]
      [--host cinder-ts-compute] [--name <display name>] [--connection-info '<json>'] [--tag <tag>]
      [--delete-on-termination]
  /usr/bin/python3 add-server-volume.py <dir> --server <uuid> --volume <volume_id> --remove
  /usr/bin/python3 add-server-volume.py <dir> --server <uuid> --remove-server

Adding writes, when the server is new: an ACTIVE instance in cell1 (instances, instance_extra with
an m1.tiny flavor, instance_info_caches with an empty network) and its instance_mappings row in the
API database; then a volume block_device_mapping row (source and destination 'volume') carrying
attachment_id. If the server already has a live BDM for that volume, that row is updated instead
(new attachment_id/device), so calling it again re-points the attachment. Then
GET /v2.1/servers/<server>/os-volume_attachments/<volume> (microversion >= 2.89) answers 200 with
"attachment_id": <cinder_attachment_id>.
--remove soft-deletes that BDM as Nova does on detach (deleted = id): the GET answers 404
"Instance ... is not attached to volume ...". --remove-server deletes the server's rows and its
mapping: the GET answers 404 "Instance ... could not be found.".
Prints one JSON object on stdout. Safe while Nova runs: the databases are in WAL mode (set by
serve.py) and every write is one short transaction with a 30 s busy timeout.
"""
import argparse
import datetime
import json
import os
import secrets
import sqlite3
import sys
import uuid as uuidlib

p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
p.add_argument('dir')
p.add_argument('--server', required=True)
p.add_argument('--project')
p.add_argument('--user')
p.add_argument('--volume')
p.add_argument('--attachment')
p.add_argument('--device', default='/dev/vdb')
p.add_argument('--host', default='cinder-ts-compute')
p.add_argument('--name')
p.add_argument('--connection-info', dest='connection_info')
p.add_argument('--tag')
p.add_argument('--delete-on-termination', action='store_true')
g = p.add_mutually_exclusive_group()
g.add_argument('--remove', action='store_true', help='soft-delete the BDM of --volume on --server')
g.add_argument('--remove-server', action='store_true', help='delete the server and its mapping')
a = p.parse_args()

state_dir = os.path.abspath(a.dir)
api_db = os.path.join(state_dir, 'nova_api.sqlite')
if not os.path.exists(api_db):
    raise SystemExit('add-server-volume: %s missing (start Nova with scripts/nova/start.sh %s)' % (api_db, a.dir))
server = str(uuidlib.UUID(a.server))
now = datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M:%S.%f')


def connect(path):
    c = sqlite3.connect(path, timeout=30, isolation_level=None)
    c.row_factory = sqlite3.Row
    return c


api = connect(api_db)
row = api.execute("SELECT id, database_connection FROM cell_mappings WHERE name = 'cell1'").fetchone()
if row is None or not row['database_connection'].startswith('sqlite:///'):
    raise SystemExit('add-server-volume: no sqlite cell1 in %s' % api_db)
cell_id, cell_db = row['id'], row['database_connection'][len('sqlite:///'):]
cell = connect(cell_db)
out = {'server': server}


def live_instance():
    return cell.execute('SELECT id, project_id, user_id FROM instances WHERE uuid = ? AND deleted = 0',
                        (server,)).fetchone()


if a.remove_server:
    cell.execute('BEGIN IMMEDIATE')
    n = cell.execute('DELETE FROM instances WHERE uuid = ?', (server,)).rowcount
    for t in ('block_device_mapping', 'instance_extra', 'instance_info_caches', 'instance_system_metadata',
              'instance_metadata'):
        cell.execute('DELETE FROM %s WHERE instance_uuid = ?' % t, (server,))
    cell.execute('COMMIT')
    m = api.execute('DELETE FROM instance_mappings WHERE instance_uuid = ?', (server,)).rowcount
    out.update(removed_server=bool(n or m))
    print(json.dumps(out))
    sys.exit(0)

if not a.volume:
    p.error('--volume is required (unless --remove-server)')
out['volume'] = a.volume

if a.remove:
    n = cell.execute('UPDATE block_device_mapping SET deleted = id, deleted_at = ?, updated_at = ? '
                     'WHERE instance_uuid = ? AND volume_id = ? AND deleted = 0',
                     (now, now, server, a.volume)).rowcount
    out.update(removed_bdms=n)
    print(json.dumps(out))
    sys.exit(0)

if not (a.attachment and a.project and a.user):
    p.error('--attachment, --project and --user are required to add')
attachment = str(uuidlib.UUID(a.attachment))
out.update(attachment_id=attachment, device=a.device)

cell.execute('BEGIN IMMEDIATE')
try:
    inst = live_instance()
    if inst is None:
        name = a.name or 'server-' + server[:8]
        cell.execute(
            'INSERT INTO instances (created_at, updated_at, launched_at, uuid, user_id, project_id, image_ref,'
            ' launch_index, power_state, vm_state, task_state, memory_mb, vcpus, root_gb, ephemeral_gb,'
            ' instance_type_id, hostname, host, node, launched_on, display_name, display_description,'
            ' reservation_id, availability_zone, locked, config_drive, root_device_name, progress,'
            ' auto_disk_config, shutdown_terminate, disable_terminate, cleaned, hidden, deleted)'
            " VALUES (?, ?, ?, ?, ?, ?, '', 0, 1, 'active', NULL, 512, 1, 1, 0, 1, ?, ?, ?, ?, ?, ?, ?,"
            " 'nova', 0, '', '/dev/vda', 0, 0, 0, 0, 0, 0, 0)",
            (now, now, now, server, a.user, a.project, name, a.host, a.host, a.host, name, name,
             'r-' + secrets.token_hex(4)))
        flavor = {'cur': {
            'nova_object.name': 'Flavor', 'nova_object.namespace': 'nova', 'nova_object.version': '1.2',
            'nova_object.data': {
                'id': 1, 'name': 'm1.tiny', 'memory_mb': 512, 'vcpus': 1, 'root_gb': 1, 'ephemeral_gb': 0,
                'flavorid': '1', 'swap': 0, 'rxtx_factor': 1.0, 'vcpu_weight': 0, 'disabled': False,
                'is_public': True, 'extra_specs': {}, 'description': None},
            'nova_object.changes': []}, 'old': None, 'new': None}
        cell.execute("INSERT INTO instance_extra (created_at, instance_uuid, flavor, pci_requests, deleted)"
                     " VALUES (?, ?, ?, '[]', 0)", (now, server, json.dumps(flavor)))
        cell.execute("INSERT INTO instance_info_caches (created_at, instance_uuid, network_info, deleted)"
                     " VALUES (?, ?, '[]', 0)", (now, server))
        out['created_server'] = True
    else:
        if inst['project_id'] != a.project:
            raise SystemExit('add-server-volume: server %s exists in project %s, not %s'
                             % (server, inst['project_id'], a.project))
        out['created_server'] = False

    bdm = cell.execute('SELECT id, uuid FROM block_device_mapping WHERE instance_uuid = ? AND volume_id = ?'
                       ' AND deleted = 0', (server, a.volume)).fetchone()
    values = (a.device, int(a.delete_on_termination), a.connection_info, attachment, a.tag, now)
    if bdm is None:
        bdm_uuid = str(uuidlib.uuid4())
        cur = cell.execute(
            'INSERT INTO block_device_mapping (device_name, delete_on_termination, connection_info,'
            ' attachment_id, tag, created_at, instance_uuid, volume_id, uuid, source_type, destination_type,'
            " device_type, disk_bus, no_device, encrypted, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " 'volume', 'volume', 'disk', 'virtio', 0, 0, 0)",
            values + (server, a.volume, bdm_uuid))
        bdm_id = cur.lastrowid
    else:
        bdm_id, bdm_uuid = bdm['id'], bdm['uuid']
        cell.execute('UPDATE block_device_mapping SET device_name = ?, delete_on_termination = ?,'
                     ' connection_info = ?, attachment_id = ?, tag = ?, updated_at = ? WHERE id = ?',
                     values + (bdm_id,))
    cell.execute('COMMIT')
except BaseException:
    cell.execute('ROLLBACK')
    raise

# The mapping last: a GET that finds the mapping then finds the instance too.
if api.execute('SELECT 1 FROM instance_mappings WHERE instance_uuid = ?', (server,)).fetchone() is None:
    api.execute('INSERT INTO instance_mappings (created_at, instance_uuid, cell_id, project_id, user_id,'
                ' queued_for_delete) VALUES (?, ?, ?, ?, ?, 0)', (now, server, cell_id, a.project, a.user))
out.update(bdm_id=bdm_id, bdm_uuid=bdm_uuid)
print(json.dumps(out))
