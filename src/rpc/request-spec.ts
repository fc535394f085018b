// RequestSpec (cinder/objects/request_spec.py, 1.5) and its VolumeProperties (1.1) as the create
// flow sends them to the scheduler (volume/flows/api/create_volume.py VolumeCastTask.execute) and
// the scheduler passes them on to the volume-manager. The receivers want plain dicts: the scheduler
// reads `volume_properties`, `volume_type`, `availability_zones`; the manager only relays them.
import type { Volume } from '../objects/volume.js';
import { K_DATA, K_NAME, K_NAMESPACE, K_VERSION, OBJ_NAMESPACE, UnknownOvo, isOvoPrimitive, volumeToPrimitive, volumeTypeToPrimitive, type OvoPrimitive, type VolumeTypeData } from './ovo.js';

const REQUEST_SPEC_VERSION = '1.5';
const VOLUME_PROPERTIES_VERSION = '1.1';

/** The fields of VolumeProperties the create flow fills (EntryCreateTask.execute). */
export interface VolumeProperties {
  size: number;
  user_id: string | null;
  project_id: string | null;
  status: string;
  attach_status: string;
  availability_zone?: string | null;
  display_name: string | null;
  display_description: string | null;
  encryption_key_id: string | null;
  multiattach: boolean;
  metadata: Record<string, string>;
  volume_type_id: string | null;
  qos_specs: Record<string, string> | null;
  snapshot_id: string | null;
  source_volid: string | null;
  consistencygroup_id: string | null;
  group_id: string | null;
  reservations: string[] | null;
}

/** A request spec as plain JSON (what the scheduler's filters read). */
export interface RequestSpec {
  volume_id: string;
  volume?: Volume | Record<string, unknown> | null;
  volume_properties: Partial<VolumeProperties> & Record<string, unknown>;
  volume_type: VolumeTypeData | null;
  availability_zones?: string[] | null;
  snapshot_id?: string | null;
  image_id?: string | null;
  source_volid?: string | null;
  consistencygroup_id?: string | null;
  cgsnapshot_id?: string | null;
  group_id?: string | null;
  backup_id?: string | null;
  resource_backend?: string | null;
  [k: string]: unknown;
}

function ovo(name: string, version: string, data: Record<string, unknown>): OvoPrimitive {
  return { [K_NAME]: name, [K_NAMESPACE]: OBJ_NAMESPACE, [K_VERSION]: version, [K_DATA]: data } as OvoPrimitive;
}

/** The request spec as the API's create flow sends it: a RequestSpec with a VolumeProperties and the Volume. */
export function requestSpecToPrimitive(spec: RequestSpec, volume: Volume): OvoPrimitive {
  const { volume_properties: props, volume: _v, volume_type, ...rest } = spec;
  return ovo('RequestSpec', REQUEST_SPEC_VERSION, {
    ...rest,
    volume: volumeToPrimitive(volume),
    // A VolumeType object, as Python schedulers deserialize the RequestSpec's ObjectField.
    volume_type: volume_type ? volumeTypeToPrimitive(volume_type) : null,
    volume_properties: ovo('VolumeProperties', VOLUME_PROPERTIES_VERSION, { ...props }),
  });
}

/** versioned_object.data all the way down: a received RequestSpec (or a legacy dict) as plain JSON. */
export function plainFromWire(v: unknown): unknown {
  if (v instanceof UnknownOvo) return plainFromWire(v.primitive);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plainFromWire);
  if (isOvoPrimitive(v)) return plainFromWire(v[K_DATA]);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainFromWire(x)]));
}


