// cinder/volume/api.py API.retype: the checks, the conditional update to 'retyping' (with the
// volume's status kept in previous_status), then the cast to the scheduler, which finds whether the
// volume's backend takes the new type. Quotas are not implemented in this port: Cinder reserves the
// per-type volume/gigabyte counts here (quota_utils.get_volume_type_reservation) and passes the
// reservations on; here there are none, so quota_reservations and old_reservations are None.
import { elevated, type RequestContext } from '../common/context.js';
import { CinderException, InvalidInput, InvalidVolume, InvalidVolumeType } from '../common/exceptions.js';
import { OverQuotaError, processReserveOverQuota, type QuotaEngine } from '../quota/index.js';
import type { Logger } from '../common/log.js';
import { authorize } from '../common/policy.js';
import type { Db } from '../db/client.js';
import * as dbapi from '../db/api.js';
import { volumeRetypeConditionalUpdate } from '../db/retype.js';
import { volumeTypeGet } from '../db/volume-types.js';
import type { Volume, VolumeAttachment, VolumeTypeData } from '../objects/volume.js';
import { ATTACHMENT_FIELDS, VOLUME_SCALARS_HEAD, VOLUME_SCALARS_TAIL, fromOvoDatetime } from '../rpc/ovo.js';
import type { SchedulerRpcApi } from '../rpc/scheduler-rpcapi.js';
import { getByNameOrId, provisionFilterOnSize } from './volume-types.js';

export interface RetypeDeps {
  /** QUOTAS: the type quotas move from the old type to the new one. */
  quotas?: QuotaEngine;
  db: Db;
  scheduler: Pick<SchedulerRpcApi, 'retype'>;
  logger: Logger;
}

/** What the os-retype action calls (the volume as api.get loaded it). */
export interface RetypeApiSurface {
  retype(ctx: RequestContext, volume: Volume, newType: string, migrationPolicy?: string | null): Promise<void>;
}

export const RETYPE_REFUSED =
  'Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, ' +
  'requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.';

// ---------------------------------------------------------------------------------------------
// jsonutils.to_primitive of the objects in the request spec: plain dicts (every set field, then the
// Volume's extra fields, in the objects' field order, src/rpc/ovo.ts), datetimes as
// timeutils.PERFECT_TIME_FORMAT.

const TYPE_FIELDS = ['id', 'name', 'description', 'is_public', 'projects', 'extra_specs', 'qos_specs_id', 'created_at', 'updated_at', 'deleted_at', 'deleted'] as const;
const DATETIMES = new Set(['scheduled_at', 'launched_at', 'terminated_at', 'created_at', 'updated_at', 'deleted_at', 'attach_time', 'detach_time']);

/** '%Y-%m-%dT%H:%M:%S.%f' of a DB timestamp (either engine's text form). */
function perfectTime(v: unknown): string | null {
  const t = fromOvoDatetime(v);
  return t === null ? null : t.replace(' ', 'T');
}

function fieldsOf(src: Record<string, unknown>, names: readonly string[], dflt: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of names) {
    const v = src[f] === undefined ? (dflt[f] ?? null) : src[f];
    out[f] = DATETIMES.has(f) ? perfectTime(v) : v;
  }
  return out;
}

export function volumeTypeToDict(t: VolumeTypeData): Record<string, unknown> {
  return fieldsOf(t, TYPE_FIELDS.filter((f) => f in t), { deleted: false });
}

function attachmentToDict(a: VolumeAttachment): Record<string, unknown> {
  return fieldsOf(a as unknown as Record<string, unknown>, ATTACHMENT_FIELDS, { deleted: false });
}

/** The Volume object as to_primitive makes it a dict (admin_metadata only loaded for admins). */
export function volumeToDict(volume: Volume, isAdmin: boolean): Record<string, unknown> {
  const src = volume as unknown as Record<string, unknown>;
  const defaults = { use_quota: true, deleted: false, bootable: false, multiattach: false, shared_targets: true };
  const out = fieldsOf(src, VOLUME_SCALARS_HEAD, defaults);
  out.metadata = { ...volume.metadata };
  if (isAdmin) out.admin_metadata = { ...volume.admin_metadata };
  if (volume.volume_type !== undefined) out.volume_type = volume.volume_type ? volumeTypeToDict(volume.volume_type) : null;
  out.volume_attachment = volume.volume_attachment.map(attachmentToDict);
  Object.assign(out, fieldsOf(src, VOLUME_SCALARS_TAIL, defaults));
  const nameId = volume._name_id || volume.id;
  const kv = (md: Record<string, string>) => Object.entries(md).map(([key, value]) => ({ key, value }));
  Object.assign(out, {
    name: `volume-${nameId}`,
    name_id: nameId,
    volume_metadata: kv(volume.metadata),
    volume_admin_metadata: isAdmin ? kv(volume.admin_metadata) : [],
    volume_glance_metadata: [],
  });
  return out;
}

/** volume_utils.extract_availability_zones_from_volume_type. */
function typeAvailabilityZones(type: VolumeTypeData): string[] | null {
  const specs = type.extra_specs ?? {};
  if (!Object.hasOwn(specs, 'RESKEY:availability_zones')) return null;
  return (specs['RESKEY:availability_zones'] ?? '').split(',').filter((az) => az !== '').map((az) => az.trim());
}

/**
 * retype(context, volume, new_type, migration_policy). Answers once the scheduler has the request
 * (a cast); the volume is 'retyping' until the scheduler or the volume-manager puts it back.
 */
export async function retype(
  d: RetypeDeps,
  ctx: RequestContext,
  volume: Volume,
  newTypeRef: string,
  migrationPolicy: string | null = null,
): Promise<void> {
  const log = d.logger.child({ request_id: ctx.request_id, volume_id: volume.id });
  authorize(ctx, 'volume:retype', volume);

  // By id or name, as an admin sees types (private ones too): VolumeTypeNotFound(ByName) is a 404.
  let newType: VolumeTypeData;
  try {
    newType = await getByNameOrId(d.db, elevated(ctx), newTypeRef);
  } catch (e) {
    if (!(e instanceof InvalidVolumeType)) throw e;
    const msg = `Invalid volume_type passed: ${newTypeRef}.`;
    log.error(msg);
    throw new InvalidInput({ reason: msg });
  }
  // VolumeType.get_by_name_or_id loads the type's projects too.
  newType = (await volumeTypeGet(d.db, newType.id, { projects: true })) ?? newType;
  const newTypeId = newType.id;

  provisionFilterOnSize(newType, volume.size ?? 0);

  // An in-use volume cannot change its multiattach capability: the hypervisor set it up.
  const srcIsMultiattach = volume.multiattach;
  const tgtIsMultiattach = (newType.extra_specs ?? {}).multiattach === '<is> True';
  if (srcIsMultiattach !== tgtIsMultiattach) {
    if (volume.status !== 'available') {
      const msg =
        'Invalid volume_type passed, retypes affecting multiattach are only allowed on available volumes, ' +
        `the specified volume however currently has a status of: ${volume.status}.`;
      log.info(msg);
      throw new InvalidInput({ reason: msg });
    }
    if (tgtIsMultiattach) authorize(ctx, 'volume:multiattach', volume);
  }
  // _is_encrypted(new_type): an `encryption` extra spec (not the encryption table).
  if (tgtIsMultiattach && Object.hasOwn(newType.extra_specs ?? {}, 'encryption')) {
    throw new InvalidInput({ reason: 'Retype requested both encryption and multi-attach, which is not supported.' });
  }

  // The old type's own quotas given back (volumes_<old>, gigabytes_<old>; the totals do not change).
  let oldReservations: string[] | null = null;
  if (d.quotas) {
    try {
      const opts = await d.quotas.addVolumeTypeOpts({ volumes: -1, gigabytes: -(volume.size ?? 0) }, volume.volume_type_id);
      delete opts.volumes;
      delete opts.gigabytes;
      oldReservations = await d.quotas.reserve(ctx, opts, { projectId: volume.project_id });
    } catch (e) {
      log.error({ err: e }, 'Failed to update quota usage while retyping volume.');
      throw new CinderException({}, 'Failed to update quota usage while retyping volume.');
    }
  }

  if (!(await volumeRetypeConditionalUpdate(d.db, volume.id, newTypeId))) {
    log.error(RETYPE_REFUSED);
    await d.quotas?.rollback(ctx, oldReservations);
    throw new InvalidVolume({ reason: RETYPE_REFUSED });
  }
  // quota_utils.get_volume_type_reservation(reserve_vol_type_only=True) for the new type.
  let reservations: string[] | null = null;
  if (d.quotas) {
    try {
      const opts = await d.quotas.addVolumeTypeOpts({ volumes: 1, gigabytes: volume.size ?? 0 }, newTypeId);
      delete opts.volumes;
      delete opts.gigabytes;
      try {
        reservations = await d.quotas.reserve(ctx, opts, { projectId: volume.project_id });
      } catch (e) {
        if (e instanceof OverQuotaError) processReserveOverQuota(e, volume.size ?? 0);
        throw e;
      }
    } catch (e) {
      const cur = await dbapi.volumeGetOrThrow(d.db, volume.id);
      await dbapi.volumeUpdate(d.db, volume.id, { status: cur.previous_status });
      await d.quotas.rollback(ctx, oldReservations);
      throw e;
    }
  }
  // conditional_update reads back the fields it set from an ORM value (previous_status).
  const current = await dbapi.volumeGetOrThrow(d.db, volume.id);

  const requestSpec: Record<string, unknown> = {
    volume_properties: volumeToDict(current, ctx.is_admin),
    volume_id: current.id,
    volume_type: volumeTypeToDict(newType),
    migration_policy: migrationPolicy,
    quota_reservations: reservations,
    old_reservations: oldReservations,
    availability_zones: typeAvailabilityZones(newType) ?? [current.availability_zone],
  };
  await d.scheduler.retype(ctx, current, requestSpec, {});
  // volume.multiattach = tgt_is_multiattach; volume.save()
  await dbapi.volumeUpdate(d.db, volume.id, { multiattach: tgtIsMultiattach });
  log.info('Retype volume request issued successfully.');
}
