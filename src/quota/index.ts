// Cinder's quota engine (cinder/quota.py: QUOTAS, a VolumeTypeQuotaEngine with DbQuotaDriver, and
// GROUP_QUOTAS for 'groups'), used by cinder-api and the volume-managers alike. Limits resolve as
// DbQuotaDriver.get_project_quotas: the project's own row, else the context's quota class (none in
// this port's contexts), else the 'default' quota class (use_default_quota_class), else the
// quota_* options; per-type resources (volumes_<type>, gigabytes_<type>, snapshots_<type>)
// default to -1.
import type { RequestContext } from '../common/context.js';
import * as dbapi from '../db/api.js';
import type { Db } from '../db/client.js';
import { dbNow } from '../db/client.js';
import { QuotaResourceUnknown, InvalidQuotaValue, VolumeSizeExceedsAvailableQuota, VolumeLimitExceeded, UnexpectedOverQuota, VolumeSizeExceedsLimit } from '../common/exceptions.js';

export { OverQuotaError } from '../db/quotas.js';
import { OverQuotaError, type Limits, type SyncSpec, type Usage } from '../db/quotas.js';

/** [DEFAULT]'s quota options (cinder/quota.py quota_opts). */
export interface QuotaConfig {
  quota_volumes: number;
  quota_snapshots: number;
  quota_gigabytes: number;
  quota_backups: number;
  quota_backup_gigabytes: number;
  quota_groups: number;
  per_volume_size_limit: number;
  reservation_expire: number;
  until_refresh: number;
  max_age: number;
  use_default_quota_class: boolean;
}

export const QUOTA_DEFAULTS: QuotaConfig = {
  quota_volumes: 10,
  quota_snapshots: 10,
  quota_gigabytes: 1000,
  quota_backups: 10,
  quota_backup_gigabytes: 1000,
  quota_groups: 10,
  per_volume_size_limit: -1,
  reservation_expire: 86400,
  until_refresh: 0,
  max_age: 0,
  use_default_quota_class: true,
};

/** A registered resource: its default (the flag's value, -1 without one) and its usage sync (none: a limit only). */
export interface Resource {
  name: string;
  default: number;
  sync: SyncSpec | null;
}

export interface ProjectQuota extends Partial<Usage> {
  limit: number;
}

export type ReserveOpts = { projectId?: string | null };

export class QuotaEngine {
  constructor(
    readonly db: Db,
    readonly cfg: QuotaConfig = QUOTA_DEFAULTS,
  ) {}

  /** VolumeTypeQuotaEngine.resources: the global ones, then three per live volume type. */
  async resources(): Promise<Map<string, Resource>> {
    const c = this.cfg;
    const list: Resource[] = [
      { name: 'volumes', default: c.quota_volumes, sync: { kind: 'volumes' } },
      { name: 'per_volume_gigabytes', default: c.per_volume_size_limit, sync: null },
      { name: 'snapshots', default: c.quota_snapshots, sync: { kind: 'none' } },
      { name: 'gigabytes', default: c.quota_gigabytes, sync: { kind: 'gigabytes' } },
      { name: 'backups', default: c.quota_backups, sync: { kind: 'none' } },
      { name: 'backup_gigabytes', default: c.quota_backup_gigabytes, sync: { kind: 'none' } },
    ];
    for (const t of await dbapi.volumeTypeNames(this.db)) {
      list.push({ name: `volumes_${t.name}`, default: -1, sync: { kind: 'volumes', volumeTypeId: t.id } });
      list.push({ name: `gigabytes_${t.name}`, default: -1, sync: { kind: 'gigabytes', volumeTypeId: t.id } });
      list.push({ name: `snapshots_${t.name}`, default: -1, sync: { kind: 'none' } });
    }
    return new Map(list.map((r) => [r.name, r]));
  }

  /** GROUP_QUOTAS.resources: 'groups' only. */
  groupResources(): Map<string, Resource> {
    return new Map([['groups', { name: 'groups', default: this.cfg.quota_groups, sync: { kind: 'none' } }]]);
  }

  /** All resources the quota-set APIs show (QUOTAS and GROUP_QUOTAS together). */
  async allResources(): Promise<Map<string, Resource>> {
    return new Map([...(await this.resources()), ...this.groupResources()]);
  }

  /** DbQuotaDriver.get_defaults: the 'default' class's value, else the resource's default. */
  async getDefaults(resources: Map<string, Resource>): Promise<Limits> {
    const cls = this.cfg.use_default_quota_class ? await dbapi.quotaClassGetAllByName(this.db, 'default') : {};
    return Object.fromEntries([...resources.values()].map((r) => [r.name, cls[r.name] ?? r.default]));
  }

  /** DbQuotaDriver.get_class_quotas(defaults=True). */
  async getClassQuotas(className: string, resources: Map<string, Resource>): Promise<Limits> {
    const cls = await dbapi.quotaClassGetAllByName(this.db, className);
    const dflt = await dbapi.quotaClassGetAllByName(this.db, 'default');
    return Object.fromEntries([...resources.values()].map((r) => [r.name, cls[r.name] ?? dflt[r.name] ?? r.default]));
  }

  /** DbQuotaDriver.get_project_quotas (the context carries no quota class here). */
  async getProjectQuotas(
    projectId: string,
    resources: Map<string, Resource>,
    opts: { defaults?: boolean; usages?: boolean } = {},
  ): Promise<Record<string, ProjectQuota>> {
    const { defaults = true, usages = true } = opts;
    const own = await dbapi.quotaGetAllByProject(this.db, projectId);
    const used = usages ? await dbapi.quotaUsageGetAllByProject(this.db, projectId) : {};
    let dflt: Limits | null = null;
    const out: Record<string, ProjectQuota> = {};
    for (const r of resources.values()) {
      if (!defaults && !(r.name in own)) continue;
      let limit = own[r.name];
      if (limit === undefined) limit = (dflt ??= await this.getDefaults(resources))[r.name];
      out[r.name] = usages ? { limit, in_use: used[r.name]?.in_use ?? 0, reserved: used[r.name]?.reserved ?? 0 } : { limit };
    }
    return out;
  }

  /** _get_quotas: the limits of these resources, which must be known and (not) have a sync. */
  private async limitsFor(projectId: string, keys: string[], hasSync: boolean): Promise<{ limits: Limits; resources: Map<string, Resource> }> {
    const all = await this.resources();
    const sub = new Map([...all].filter(([k, r]) => keys.includes(k) && (r.sync !== null) === hasSync));
    if (sub.size !== new Set(keys).size) {
      throw new QuotaResourceUnknown({ unknown: pyList(keys.filter((k) => !sub.has(k)).sort()) });
    }
    const q = await this.getProjectQuotas(projectId, sub, { usages: false });
    return { limits: Object.fromEntries(Object.entries(q).map(([k, v]) => [k, v.limit])), resources: sub };
  }

  /** QUOTAS.limit_check: the values against limit-only resources (per_volume_gigabytes). */
  async limitCheck(ctx: RequestContext, values: Record<string, number>, opts: ReserveOpts = {}): Promise<void> {
    const unders = Object.keys(values).filter((k) => values[k] < 0);
    if (unders.length) throw new InvalidQuotaValue({ unders: pyList(unders.sort()) });
    const projectId = opts.projectId ?? ctx.project_id ?? '';
    const { limits } = await this.limitsFor(projectId, Object.keys(values), false);
    const overs = Object.keys(values).filter((k) => limits[k] >= 0 && limits[k] < values[k]);
    if (overs.length) throw new OverQuotaError(overs.sort(), limits, {});
  }

  /** QUOTAS.reserve: reservation uuids, or OverQuotaError. Reservations expire after reservation_expire seconds. */
  async reserve(ctx: RequestContext, deltas: Record<string, number>, opts: ReserveOpts = {}): Promise<string[]> {
    const projectId = opts.projectId ?? ctx.project_id ?? '';
    const { limits, resources } = await this.limitsFor(projectId, Object.keys(deltas), true);
    return dbapi.quotaReserve(this.db, {
      projectId,
      deltas,
      quotas: limits,
      syncs: Object.fromEntries([...resources].map(([k, r]) => [k, r.sync!])),
      expire: dbNow(new Date(Date.now() + this.cfg.reservation_expire * 1000)),
      untilRefresh: this.cfg.until_refresh,
      maxAge: this.cfg.max_age,
    });
  }

  /** QUOTAS.commit. */
  commit(ctx: RequestContext, reservations: string[] | null | undefined, opts: ReserveOpts = {}): Promise<void> {
    return dbapi.reservationFinish(this.db, reservations ?? [], opts.projectId ?? ctx.project_id ?? '', true);
  }

  /** QUOTAS.rollback. */
  rollback(ctx: RequestContext, reservations: string[] | null | undefined, opts: ReserveOpts = {}): Promise<void> {
    return dbapi.reservationFinish(this.db, reservations ?? [], opts.projectId ?? ctx.project_id ?? '', false);
  }

  /** QUOTAS.expire. */
  expire(): Promise<void> {
    return dbapi.reservationExpire(this.db);
  }

  /** QUOTAS.add_volume_type_opts: copies volumes/gigabytes/snapshots deltas to the type's own resources. */
  async addVolumeTypeOpts(opts: Record<string, number>, volumeTypeId: string | null | undefined): Promise<Record<string, number>> {
    if (!volumeTypeId) return opts;
    const name = await dbapi.volumeTypeNameAnyState(this.db, volumeTypeId);
    if (name === null) return opts;
    for (const k of ['volumes', 'gigabytes', 'snapshots']) if (k in opts) opts[`${k}_${name}`] = opts[k];
    return opts;
  }
}

/** Python's repr of a list of str: ['a', 'b']. */
export function pyList(xs: string[]): string {
  return `[${xs.map((x) => `'${x}'`).join(', ')}]`;
}

/**
 * quota_utils.process_reserve_over_quota for volumes: 413 VolumeSizeExceedsAvailableQuota for a
 * gigabytes resource, VolumeLimitExceeded for a volumes one, else UnexpectedOverQuota.
 */
export function processReserveOverQuota(e: OverQuotaError, size: number | null): never {
  const consumed = (name: string) => (e.usages[name]?.reserved ?? 0) + (e.usages[name]?.in_use ?? 0);
  const invalid: string[] = [];
  for (const over of e.overs) {
    if (over.includes('gigabytes')) {
      throw new VolumeSizeExceedsAvailableQuota({ name: over, requested: size, consumed: consumed(over), quota: e.quotas[over] });
    }
    if (over.includes('volumes')) throw new VolumeLimitExceeded({ allowed: e.quotas[over], name: over });
    invalid.push(over);
  }
  throw new UnexpectedOverQuota({ name: invalid.join(', ') });
}

/** The volume create's QuotaReserveTask (create_volume.py): per_volume_gigabytes, then volumes/gigabytes (+ the type's). */
export async function reserveForCreate(quotas: QuotaEngine, ctx: RequestContext, size: number, volumeTypeId: string | null): Promise<string[]> {
  try {
    await quotas.limitCheck(ctx, { per_volume_gigabytes: size }, { projectId: ctx.project_id });
  } catch (e) {
    if (e instanceof OverQuotaError) throw new VolumeSizeExceedsLimit({ size, limit: e.quotas.per_volume_gigabytes });
    throw e;
  }
  const deltas = await quotas.addVolumeTypeOpts({ volumes: 1, gigabytes: size }, volumeTypeId);
  try {
    return await quotas.reserve(ctx, deltas);
  } catch (e) {
    if (e instanceof OverQuotaError) processReserveOverQuota(e, size);
    throw e;
  }
}

/**
 * The deltas of growing a volume to newSize (volume/api.py _extend): {gigabytes: newSize - size,
 * gigabytes_<type>: …}. reserveForExtend is the whole quota step; this is for callers that need
 * the deltas alone (e.g. a manager's rollback bookkeeping).
 */
export function extendDeltas(quotas: QuotaEngine, volume: { size: number | null; volume_type_id: string | null }, newSize: number): Promise<Record<string, number>> {
  return quotas.addVolumeTypeOpts({ gigabytes: newSize - (volume.size ?? 0) }, volume.volume_type_id);
}

/**
 * volume/api.py _extend's quota step, after its status conditional update: limit_check of
 * per_volume_gigabytes for the caller's project (VolumeSizeExceedsLimit, 413), then a reservation
 * of the size increase (and the type's gigabytes) in the volume's project; over quota is
 * VolumeSizeExceedsAvailableQuota (413) with the total gigabytes' usage and limit, as Cinder words
 * it. On any throw the caller rolls the volume's status back (Cinder's _roll_back_status). The
 * volume-manager's extend_volume commits the returned reservations with project_id =
 * volume.project_id once the driver extended the volume, or rolls them back when it failed.
 */
export async function reserveForExtend(
  quotas: QuotaEngine,
  ctx: RequestContext,
  volume: { size: number | null; volume_type_id: string | null; project_id: string | null },
  newSize: number,
): Promise<string[]> {
  try {
    await quotas.limitCheck(ctx, { per_volume_gigabytes: newSize }, { projectId: ctx.project_id });
  } catch (e) {
    if (e instanceof OverQuotaError) throw new VolumeSizeExceedsLimit({ size: newSize, limit: e.quotas.per_volume_gigabytes });
    throw e;
  }
  const increase = newSize - (volume.size ?? 0);
  try {
    return await quotas.reserve(ctx, await extendDeltas(quotas, volume, newSize), { projectId: volume.project_id });
  } catch (e) {
    if (!(e instanceof OverQuotaError)) throw e;
    const gb = e.usages.gigabytes ?? { in_use: 0, reserved: 0 };
    throw new VolumeSizeExceedsAvailableQuota({ name: 'gigabytes', requested: increase, consumed: gb.reserved + gb.in_use, quota: e.quotas.gigabytes });
  }
}

/** The deltas that give a deleted volume's quota back (delete_volume in volume/manager.py). */
export function releaseDeltas(quotas: QuotaEngine, volume: { size: number | null; volume_type_id: string | null }): Promise<Record<string, number>> {
  return quotas.addVolumeTypeOpts({ volumes: -1, gigabytes: -(volume.size ?? 0) }, volume.volume_type_id);
}

/** The [DEFAULT] section's quota options. */
export function quotaConfigOf(d: QuotaConfig): QuotaConfig {
  const out = { ...QUOTA_DEFAULTS };
  for (const k of Object.keys(QUOTA_DEFAULTS) as Array<keyof QuotaConfig>) (out as Record<string, unknown>)[k] = d[k];
  return out;
}
