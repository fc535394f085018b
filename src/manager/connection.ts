// cinder/volume/manager.py: what initialize_connection and _connection_create (manager.ts) both do
// between the connector check and the connection info they return: validate_connector,
// create_export with its model update, the driver's initialize_connection, then
// _parse_connection_options (the type's front-end QoS and cacheable come from qos.ts).
import {
  CinderException,
  ExportFailure,
  InvalidConnectorException,
  InvalidInput,
  VolumeBackendAPIException,
} from '../common/exceptions.js';
import type { Logger } from '../common/log.js';
import type { Db } from '../db/client.js';
import * as dbapi from '../db/api.js';
import type { VolumeDriver } from '../drivers/driver.js';
import type { Connector, Volume } from '../objects/volume.js';
import { frontEndQos, typeExtraSpecs } from './qos.js';
import { errText } from './utils.js';

export interface ConnectionDeps {
  db: Db;
  driver: VolumeDriver;
}

/**
 * The steps initialize_connection and _connection_create share: validate the connector,
 * create the export, save provider_location/auth, add the initiator, add the manager's keys.
 * The two differ only in the create-export wording and in the clean-up when the save fails.
 */
export async function exportAndConnect(
  d: ConnectionDeps,
  volume: Volume,
  connector: Connector,
  log: Logger,
  opts: { exportFailed: (msg: string) => string; removeExportIfSaveFails: boolean },
): Promise<{ driver_volume_type: string; data: Record<string, unknown> }> {
  try {
    d.driver.validateConnector(connector);
  } catch (e) {
    if (e instanceof InvalidConnectorException) throw new InvalidInput({ reason: e.message });
    const msg = `Validate volume connection failed (error: ${errText(e)}).`;
    log.error(msg);
    throw new VolumeBackendAPIException({ data: msg });
  }
  // Cinder's target reads provider_auth from the DB row, not from the volume the RPC carried: a
  // second host attaching a multiattach volume must reuse the CHAP pair the first one got.
  const stored = await dbapi.volumeGet(d.db, volume.id);
  if (stored) volume = { ...volume, provider_auth: stored.provider_auth };
  // Beyond Cinder: a volume-manager killed while `cinder-rtstool create` runs leaves a target the
  // command still finishes, and Cinder never saves its provider_location, so every later
  // remove_export skips it: the target outlives the volume. The location is known beforehand
  // with LIO; recorded first, the target is found and removed by the next detach or delete.
  const intent = stored && !stored.provider_location ? (d.driver.expectedProviderLocation?.(volume) ?? null) : null;
  if (intent) await dbapi.volumeSetExportIntent(d.db, volume.id, intent);
  let update;
  try {
    update = await d.driver.createExport(volume, connector);
  } catch (e) {
    if (intent) await dbapi.volumeSetExportIntent(d.db, volume.id, null);
    if (!(e instanceof CinderException)) throw e;
    const msg = opts.exportFailed(e.msg);
    log.error(msg);
    throw new VolumeBackendAPIException({ data: msg });
  }
  try {
    if (update && Object.keys(update).length > 0) {
      await dbapi.volumeUpdate(d.db, volume.id, update as Record<string, unknown>);
      Object.assign(volume, update);
    }
  } catch (e) {
    log.error({ err: errText(e) }, 'Model update failed.');
    if (opts.removeExportIfSaveFails) {
      try {
        await d.driver.removeExport(volume);
      } catch {
        log.error('Could not remove export after DB model failed.');
      }
    }
    throw new ExportFailure({ reason: errText(e) });
  }
  let conn;
  try {
    conn = await d.driver.initializeConnection(volume, connector);
  } catch (e) {
    const msg = `Driver initialize connection failed (error: ${errText(e)}).`;
    log.error(msg);
    await d.driver.removeExport(volume);
    throw new VolumeBackendAPIException({ data: msg });
  }
  return parseConnectionOptions(volume, conn, await frontEndQos(d.db, volume), await typeExtraSpecs(d.db, volume));
}

/** _parse_connection_options: qos_specs, access_mode, encrypted, cacheable. */
export function parseConnectionOptions(
  volume: Volume,
  conn: { driver_volume_type: string; data: Record<string, unknown> },
  qosSpecs: Record<string, string | number> | null,
  extraSpecs: Record<string, string | null> | null,
): { driver_volume_type: string; data: Record<string, unknown> } {
  const data = { ...conn.data };
  data.qos_specs = qosSpecs;
  const md = volume.admin_metadata;
  data.access_mode = md.attached_mode ?? (md.readonly === 'True' ? 'ro' : 'rw');
  if (data.encrypted === undefined || data.encrypted === null) data.encrypted = Boolean(volume.encryption_key_id);
  if (extraSpecs) {
    // The type's cacheable='<is> True' allows it; a driver's False is kept, its True needs the spec.
    const cacheable = extraSpecs.cacheable === '<is> True';
    data.cacheable = data.cacheable !== undefined && data.cacheable !== null ? Boolean(data.cacheable) && cacheable : cacheable;
  }
  return { driver_volume_type: conn.driver_volume_type, data };
}
