// The create flow of cinder/volume/api.py create (cinder/volume/flows/api/create_volume.py):
// ExtractVolumeRequestTask's type, zone, key, multiattach and QoS; QuotaReserveTask and
// QuotaCommitTask around EntryCreateTask's row; then VolumeCastTask's request spec to the
// scheduler. VolumeAPI delegates here (src/volume-api/api.ts).
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../common/context.js';
import { InvalidAvailabilityZone, InvalidVolume } from '../common/exceptions.js';
import { authorize } from '../common/policy.js';
import * as dbapi from '../db/api.js';
import { qosSpecsGet } from '../db/qos-specs.js';
import type { Volume, VolumeTypeData } from '../objects/volume.js';
import { reserveForCreate } from '../quota/index.js';
import { requestSpecToPrimitive, type RequestSpec } from '../rpc/request-spec.js';
import type { VolumeApiDeps } from './api.js';
import type { AvailabilityZones } from './availability-zones.js';
import { createEncryptionKey } from './key-manager.js';
import { getDefaultVolumeType, provisionFilterOnSize } from './volume-types.js';

export interface CreateVolumeRequest {
  size: number;
  name?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
  availability_zone?: string | null;
  bootable?: boolean;
  /** The type the caller named (by name or id), already looked up; else the default type. */
  volume_type?: VolumeTypeData | null;
}

/**
 * What the create flow uses of VolumeAPI's dependencies, defaults applied (defaultAvailabilityZone
 * already falls back to storage_availability_zone, then 'nova'), plus VolumeAPI's zone cache.
 */
export type CreateDeps = Pick<VolumeApiDeps, 'db' | 'scheduler' | 'logger' | 'storageAvailabilityZone'> &
  Required<Pick<VolumeApiDeps, 'defaultAvailabilityZone' | 'allowAvailabilityZoneFallback' | 'defaultVolumeType' | 'quotas'>> & {
    azs: AvailabilityZones;
  };

/**
 * The create flow (volume/flows/api/create_volume.py): the volume row in 'creating' with no host,
 * then VolumeCastTask hands the request spec to the scheduler, which places it on a pool.
 */
export async function create(d: CreateDeps, ctx: RequestContext, req: CreateVolumeRequest): Promise<Volume> {
  authorize(ctx, 'volume:create');
  // volume_types.provision_filter_on_size reads the configured default, not the project's.
  provisionFilterOnSize(req.volume_type ?? (await getDefaultVolumeType(d.db, d.defaultVolumeType, null)), req.size);
  // ExtractVolumeRequestTask: the type (never none), the zone, the key, multiattach, QoS.
  const volumeType = req.volume_type ?? (await getDefaultVolumeType(d.db, d.defaultVolumeType, ctx));
  const availabilityZone = await availabilityZoneFor(d, req.availability_zone ?? null);
  const encryptionKeyId = await createEncryptionKey(d.db, volumeType.id);
  const multiattach = volumeType.extra_specs?.multiattach === '<is> True';
  if (multiattach && encryptionKeyId) throw new InvalidVolume({ reason: 'Multiattach cannot be used with encrypted volumes.' });
  if (multiattach) authorize(ctx, 'volume:multiattach');
  const qos = volumeType.qos_specs_id ? await qosSpecsGet(d.db, volumeType.qos_specs_id) : null;
  const qosSpecs = qos && Object.keys(qos.specs).length > 0 ? qos.specs : null;
  // QuotaReserveTask; QuotaCommitTask once the row exists (rollback if it could not be made).
  const reservations = await reserveForCreate(d.quotas, ctx, req.size, volumeType.id);
  const volumeId = randomUUID();
  const volume = await dbapi.volumeCreate(
    d.db,
    {
      id: volumeId,
      user_id: ctx.user_id,
      project_id: ctx.project_id,
      size: req.size,
      availability_zone: availabilityZone,
      status: 'creating',
      attach_status: 'detached',
      display_name: req.name ?? null,
      display_description: req.description ?? null,
      bootable: req.bootable ?? false,
      multiattach,
      volume_type_id: volumeType.id,
      encryption_key_id: encryptionKeyId,
      use_quota: true,
      // ExtractVolumeRequestTask computes replication_status, but EntryCreateTask never stores
      // it (not among its requires): the row, and every view, shows NULL.
    },
    req.metadata ?? {},
    // scheduler/rpcapi.py create_volume's create_worker (no service yet): a volume-manager claims
    // it when it starts the work, and its restart finds it (doCleanup).
    (q) => dbapi.workerSetIn(d.db, q, volumeId, 'creating', null).then(() => undefined),
  ).catch(async (e: unknown) => {
    await d.quotas.rollback(ctx, reservations).catch((re: unknown) => d.logger.error({ err: re }, 'Failed rolling back quota'));
    throw e;
  });
  await d.quotas.commit(ctx, reservations);
  const spec: RequestSpec = {
    volume_id: volume.id,
    volume_properties: {
      size: req.size,
      user_id: ctx.user_id,
      project_id: ctx.project_id,
      status: 'creating',
      attach_status: 'detached',
      encryption_key_id: encryptionKeyId,
      display_description: req.description ?? null,
      display_name: req.name ?? null,
      multiattach,
      availability_zone: availabilityZone,
      metadata: req.metadata ?? {},
      volume_type_id: volumeType.id,
      qos_specs: qosSpecs,
      snapshot_id: null,
      source_volid: null,
      consistencygroup_id: null,
      group_id: null,
      reservations: null,
    },
    volume_type: volumeType,
    availability_zones: [availabilityZone],
    snapshot_id: null,
    image_id: null,
    source_volid: null,
    consistencygroup_id: null,
    cgsnapshot_id: null,
    group_id: null,
    backup_id: null,
  };
  await d.scheduler.createVolume(ctx, volume, requestSpecToPrimitive(spec, volume), {});
  d.logger.info({ volume_id: volume.id }, 'Create volume request issued successfully.');
  return volume;
}

/**
 * The create flow's _extract_availability_zones: the requested zone, else the default one, must
 * be a zone of some cinder-volume service (InvalidAvailabilityZone, 400), unless fallback is on.
 */
async function availabilityZoneFor(d: CreateDeps, requested: string | null): Promise<string> {
  const az = requested ?? d.defaultAvailabilityZone;
  // API.create: the cached zones (az_cache_duration) plus storage_availability_zone.
  const zones = (await d.azs.list({ enableCache: true })).map((z) => z.name);
  if (d.storageAvailabilityZone) zones.push(d.storageAvailabilityZone);
  if (zones.includes(az)) return az;
  // A zone not found refreshes the cache at once (create's refresh_az / InvalidAvailabilityZone).
  await d.azs.list({ enableCache: true, refreshCache: true });
  if (!d.allowAvailabilityZoneFallback) throw new InvalidAvailabilityZone({ az });
  d.logger.warn(`Availability zone '${az}' not found, falling back to '${d.defaultAvailabilityZone}'.`);
  return d.defaultAvailabilityZone;
}
