// Volume transfers (cinder/transfer/api.py API): create hands out an auth key once (only its
// salted hmac-sha1 is stored), accept moves the volume and its quota from the donor project to the
// accepting one (reserve in the destination, negative in the donor, commit both after the volume
// manager's accept_transfer and the DB update).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { elevated, type RequestContext } from '../common/context.js';
import { InvalidAuthKey, InvalidVolume, TransferNotFound, VolumeNotFound, VolumeSizeExceedsLimit } from '../common/exceptions.js';
import type { Logger } from '../common/log.js';
import { authorize } from '../common/policy.js';
import * as dbapi from '../db/api.js';
import type { Db } from '../db/client.js';
import type { Notifier } from '../manager/notifier.js';
import type { Volume } from '../objects/volume.js';
import { OverQuotaError, processReserveOverQuota, type QuotaEngine } from '../quota/index.js';

// cinder/policies/volume_transfer.py
const CREATE_POLICY = 'volume:create_transfer';
const ACCEPT_POLICY = 'volume:accept_transfer';
const DELETE_POLICY = 'volume:delete_transfer';
const GET_POLICY = 'volume:get_transfer';
const GET_ALL_POLICY = 'volume:get_all_transfers';

/** volume_transfer_salt_length and volume_transfer_key_length (transfer/api.py). */
const SALT_LENGTH = 8;
const KEY_LENGTH = 16;

export interface TransferApiDeps {
  db: Db;
  quotas: QuotaEngine;
  rpc: { acceptTransfer(ctx: RequestContext, volume: Volume, newUser: string | null, newProject: string | null, noSnapshots: boolean): Promise<unknown> };
  notifier?: Notifier;
  logger: Logger;
}

/** API._get_random_string: hex of sha224 over random bytes, cut to length. */
function randomString(length: number): string {
  let s = '';
  while (s.length < length) s += createHash('sha224').update(randomBytes(255)).digest('hex');
  return s.slice(0, length);
}

/** API._get_crypt_hash: hmac-sha1 keyed by the salt over the auth key, hex. */
export function cryptHash(salt: string, authKey: string | number): string {
  return createHmac('sha1', Buffer.from(String(salt), 'utf8')).update(Buffer.from(String(authKey), 'utf8')).digest('hex');
}

export type CreatedTransfer = dbapi.Transfer & { auth_key: string };

export class TransferAPI {
  constructor(private readonly d: TransferApiDeps) {}

  private async volume(ctx: RequestContext, id: string): Promise<Volume> {
    const v = await dbapi.volumeGet(this.d.db, id, { projectId: ctx.is_admin ? undefined : ctx.project_id });
    if (!v) throw new VolumeNotFound({ volume_id: id });
    return v;
  }

  private async transfer(ctx: RequestContext, id: string): Promise<dbapi.Transfer> {
    const t = await dbapi.transferGet(this.d.db, id, ctx);
    if (!t) throw new TransferNotFound({ transfer_id: id });
    return t;
  }

  /** API.get */
  get(ctx: RequestContext, id: string): Promise<dbapi.Transfer> {
    authorize(ctx, GET_POLICY);
    return this.transfer(ctx, id);
  }

  /** API.get_all: the caller's project's transfers, or every project's for an admin asking all_tenants. */
  getAll(ctx: RequestContext, filters: { allTenants?: boolean; displayName?: string } = {}): Promise<dbapi.Transfer[]> {
    authorize(ctx, GET_ALL_POLICY);
    const projectId = ctx.is_admin && filters.allTenants ? undefined : (ctx.project_id ?? '');
    return dbapi.transferGetAll(this.d.db, { projectId, displayName: filters.displayName });
  }

  /** API.create */
  async create(ctx: RequestContext, volumeId: string, name: string | null, opts: { noSnapshots?: boolean; allowEncrypted?: boolean } = {}): Promise<CreatedTransfer> {
    const volume = await this.volume(ctx, volumeId);
    authorize(ctx, CREATE_POLICY, volume);
    if (volume.status !== 'available') throw new InvalidVolume({ reason: 'status must be available' });
    if (volume.encryption_key_id !== null && volume.encryption_key_id !== undefined) {
      if (!opts.allowEncrypted) throw new InvalidVolume({ reason: 'transferring encrypted volume is not supported' });
      if (opts.noSnapshots) throw new InvalidVolume({ reason: 'transferring an encrypted volume without its snapshots is not supported' });
    }
    this.d.notifier?.info(ctx, volume, 'transfer.create.start');
    const salt = randomString(SALT_LENGTH);
    const authKey = randomString(KEY_LENGTH);
    const row = await dbapi.transferCreate(this.d.db, {
      volume_id: volumeId,
      display_name: name,
      salt,
      crypt_hash: cryptHash(salt, authKey),
      no_snapshots: opts.noSnapshots ?? false,
      source_project_id: volume.project_id,
    });
    if (!row) throw new InvalidVolume({ reason: `Transfer: Volume id ${volumeId} expected in available state.` });
    this.d.notifier?.info(ctx, volume, 'transfer.create.end');
    return { ...row, auth_key: authKey };
  }

  /** API.delete */
  async delete(ctx: RequestContext, id: string): Promise<void> {
    const t = await this.transfer(ctx, id);
    const volume = await this.volume(ctx, t.volume_id);
    authorize(ctx, DELETE_POLICY, volume);
    this.d.notifier?.info(ctx, volume, 'transfer.delete.start');
    if (volume.status !== 'awaiting-transfer') this.d.logger.error({ volume_id: volume.id }, 'Volume in unexpected state');
    await dbapi.transferDestroy(this.d.db, id, t.volume_id);
    this.d.notifier?.info(ctx, volume, 'transfer.delete.end');
  }

  /** API.accept: returns {id, display_name, volume_id}. */
  async accept(ctx: RequestContext, id: string, authKey: string | number): Promise<{ id: string; display_name: string | null; volume_id: string }> {
    authorize(ctx, ACCEPT_POLICY);
    const admin = elevated(ctx);
    const t = await this.transfer(admin, id);
    if (cryptHash(t.salt ?? '', authKey) !== t.crypt_hash) throw new InvalidAuthKey({ reason: `Attempt to transfer ${id} with invalid auth key.` });
    const volume = await this.volume(admin, t.volume_id);
    if (volume.consistencygroup_id) throw new InvalidVolume({ reason: `Volume ${volume.id} must not be part of a consistency group.` });
    const { quotas } = this.d;
    const size = volume.size ?? 0;
    try {
      await quotas.limitCheck(ctx, { per_volume_gigabytes: size }, { projectId: ctx.project_id });
    } catch (e) {
      if (e instanceof OverQuotaError) throw new VolumeSizeExceedsLimit({ size, limit: e.quotas.per_volume_gigabytes });
      throw e;
    }
    let reservations: string[];
    try {
      reservations = await quotas.reserve(ctx, await quotas.addVolumeTypeOpts({ volumes: 1, gigabytes: size }, volume.volume_type_id));
    } catch (e) {
      if (e instanceof OverQuotaError) processReserveOverQuota(e, size);
      throw e;
    }
    const donorId = volume.project_id;
    const donor = await quotas
      .reserve(admin, await quotas.addVolumeTypeOpts({ volumes: -1, gigabytes: -size }, volume.volume_type_id), { projectId: donorId })
      .catch((e: unknown) => (this.d.logger.error({ err: e }, `Failed to update quota donating volume transfer id ${id}`), null));
    // _handle_snapshot_quota: this port has no snapshots, so the deltas are 0 (still reserved, as Cinder does).
    let snapRes: string[] | null = null;
    let snapDonor: string[] | null = null;
    if (!t.no_snapshots) {
      try {
        snapRes = await quotas.reserve(ctx, await quotas.addVolumeTypeOpts({ snapshots: 0, gigabytes: 0 }, volume.volume_type_id));
      } catch (e) {
        await quotas.rollback(ctx, reservations);
        if (donor) await quotas.rollback(admin, donor, { projectId: donorId });
        if (e instanceof OverQuotaError) processReserveOverQuota(e, 0);
        throw e;
      }
      snapDonor = await quotas
        .reserve(admin, await quotas.addVolumeTypeOpts({ snapshots: -0, gigabytes: -0 }, volume.volume_type_id), { projectId: donorId })
        .catch(() => null);
    }
    this.d.notifier?.info(ctx, volume, 'transfer.accept.start');
    try {
      // volume/api.py accept_transfer, then the manager's (a call to the volume's backend).
      if (volume.status === 'maintenance') throw new InvalidVolume({ reason: 'The volume cannot accept transfer in maintenance mode.' });
      await this.d.rpc.acceptTransfer(ctx, volume, ctx.user_id, ctx.project_id, Boolean(t.no_snapshots));
      if (!(await dbapi.transferAccept(this.d.db, id, t.volume_id, ctx.user_id, ctx.project_id))) {
        throw new InvalidVolume({ reason: `Transfer ${id}: Volume id ${t.volume_id} expected in awaiting-transfer state.` });
      }
      await quotas.commit(ctx, reservations);
      if (snapRes) await quotas.commit(ctx, snapRes);
      if (donor) await quotas.commit(ctx, donor, { projectId: donorId });
      if (snapDonor) await quotas.commit(ctx, snapDonor, { projectId: donorId });
    } catch (e) {
      await quotas.rollback(ctx, reservations);
      if (snapRes) await quotas.rollback(ctx, snapRes);
      if (donor) await quotas.rollback(ctx, donor, { projectId: donorId });
      if (snapDonor) await quotas.rollback(ctx, snapDonor, { projectId: donorId });
      throw e;
    }
    const after = (await dbapi.volumeGet(this.d.db, t.volume_id)) ?? volume;
    this.d.notifier?.info(ctx, after, 'transfer.accept.end');
    return { id, display_name: t.display_name, volume_id: after.id };
  }
}
