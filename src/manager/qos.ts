// What a volume's type adds to its connection info (cinder/volume/manager.py
// _parse_connection_options): the front-end QoS specs, scaled per GB, and the extra specs the
// cacheable flag reads. Both are read from the DB at each connection, as Cinder's
// volume_types.get_volume_type_qos_specs / get_volume_type_extra_specs do.
import type { Db } from '../db/client.js';
import { qosSpecsGet } from '../db/qos-specs.js';
import { volumeTypeGet } from '../db/volume-types.js';
import type { Volume } from '../objects/volume.js';
import { PyValueError } from '../rpc/errors.js';

const TUNE_OPTS = ['read_iops_sec', 'read_bytes_sec', 'write_iops_sec', 'write_bytes_sec', 'total_iops_sec', 'total_bytes_sec'];

/** Python int() of a spec value (a decimal integer string, surrounding whitespace allowed). */
function pyInt(v: string | number): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (!/^\s*[+-]?\d+\s*$/.test(v)) throw new PyValueError(`invalid literal for int() with base 10: '${v}'`);
  return Number.parseInt(v, 10);
}

/**
 * The specs of the type's QoS when its consumer is 'front-end' or 'both' (the hypervisor applies
 * them), else null; `<opt>_per_gb` becomes `<opt>` = max(`<opt>_per_gb_min`, per_gb × size),
 * capped at `<opt>_max`.
 */
export async function frontEndQos(db: Db, volume: Pick<Volume, 'volume_type_id' | 'size'>): Promise<Record<string, string | number> | null> {
  if (!volume.volume_type_id) return null;
  const type = await volumeTypeGet(db, volume.volume_type_id);
  if (!type?.qos_specs_id) return null;
  const qos = await qosSpecsGet(db, type.qos_specs_id);
  if (!qos || !['front-end', 'both'].includes(qos.consumer)) return null;
  const specs: Record<string, string | number> = { ...qos.specs };
  const size = pyInt(volume.size ?? 0);
  for (const option of TUNE_OPTS) {
    const perGb = `${option}_per_gb`;
    if (!(perGb in specs)) continue;
    const minimum = pyInt(specs[`${option}_per_gb_min`] ?? 0);
    delete specs[`${option}_per_gb_min`];
    const perGbValue = Math.max(minimum, pyInt(specs[perGb]) * size);
    const max = pyInt(specs[`${option}_max`] ?? perGbValue);
    delete specs[`${option}_max`];
    specs[option] = Math.min(perGbValue, max);
    delete specs[perGb];
  }
  return specs;
}

/** The extra specs of the volume's type (null for a volume without one). */
export async function typeExtraSpecs(db: Db, volume: Pick<Volume, 'volume_type_id'>): Promise<Record<string, string | null> | null> {
  if (!volume.volume_type_id) return null;
  return (await volumeTypeGet(db, volume.volume_type_id))?.extra_specs ?? null;
}
