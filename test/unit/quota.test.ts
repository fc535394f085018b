// The quota engine (cinder/quota.py DbQuotaDriver with the db layer's quota_reserve,
// reservation_commit/rollback), on both engines: limits resolution, per-type resources, over-quota
// and the usage rows as Cinder leaves them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { makeContext } from '../../src/common/context.js';
import * as dbapi from '../../src/db/api.js';
import type { Db } from '../../src/db/client.js';
import { volumeTypeCreate } from '../../src/db/volume-types.js';
import { OverQuotaError, QuotaEngine, QUOTA_DEFAULTS, extendDeltas, reserveForCreate, reserveForExtend } from '../../src/quota/index.js';
import { VolumeLimitExceeded, VolumeSizeExceedsAvailableQuota, VolumeSizeExceedsLimit, QuotaResourceUnknown } from '../../src/common/exceptions.js';
import { DB_ENGINES, openFreshDb } from '../support/db.js';

const P = 'a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4';
const ctx = makeContext({ user_id: 'u', project_id: P, roles: ['member'] });

describe.each(DB_ENGINES)('quota engine on %s', (engine) => {
  let db: Db;
  let remove: () => Promise<void>;
  let quotas: QuotaEngine;
  let typeId: string;
  beforeEach(async () => {
    ({ db, remove } = await openFreshDb(engine));
    quotas = new QuotaEngine(db, QUOTA_DEFAULTS);
    typeId = (await volumeTypeCreate(db, { id: randomUUID(), name: 'gold', is_public: true } as never)).id;
  });
  afterEach(() => remove());

  it('resolves limits project → default class → options, per-type resources -1', async () => {
    await dbapi.quotaSet(db, P, 'volumes', 3);
    const q = await quotas.getProjectQuotas(P, await quotas.allResources());
    expect(q.volumes).toEqual({ limit: 3, in_use: 0, reserved: 0 });
    expect(q.gigabytes.limit).toBe(1000);
    expect(q.backups.limit).toBe(10);
    expect(q.groups.limit).toBe(10);
    expect(q.per_volume_gigabytes.limit).toBe(-1);
    expect(q.volumes_gold.limit).toBe(-1);
    const noClass = new QuotaEngine(db, { ...QUOTA_DEFAULTS, use_default_quota_class: false, quota_gigabytes: 7 });
    expect((await noClass.getDefaults(await noClass.resources())).gigabytes).toBe(7);
  });

  it('reserves, commits and rolls back as quota_reserve/reservation_commit', async () => {
    const r1 = await reserveForCreate(quotas, ctx, 5, typeId);
    let u = await dbapi.quotaUsageGetAllByProject(db, P);
    expect(u.gigabytes).toEqual({ in_use: 0, reserved: 5 });
    expect(u.volumes_gold).toEqual({ in_use: 0, reserved: 1 });
    await quotas.commit(ctx, r1);
    u = await dbapi.quotaUsageGetAllByProject(db, P);
    expect(u.gigabytes).toEqual({ in_use: 5, reserved: 0 });
    const r2 = await quotas.reserve(ctx, await extendDeltas(quotas, { size: 5, volume_type_id: typeId }, 8));
    await quotas.rollback(ctx, r2);
    u = await dbapi.quotaUsageGetAllByProject(db, P);
    expect(u.gigabytes_gold).toEqual({ in_use: 5, reserved: 0 });
    // Negative commits never go below 0.
    await quotas.commit(ctx, await quotas.reserve(ctx, { volumes: -3 }));
    expect((await dbapi.quotaUsageGetAllByProject(db, P)).volumes.in_use).toBe(0);
  });

  it('concurrent reserves never exceed the limit (usage rows created once, then locked)', async () => {
    await dbapi.quotaSet(db, P, 'volumes', 10);
    const results = await Promise.allSettled(Array.from({ length: 14 }, () => quotas.reserve(ctx, { volumes: 1 })));
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<string[]>[];
    expect(ok.length).toBe(10);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof OverQuotaError)).toBe(true);
    expect((await dbapi.quotaUsageGetAllByProject(db, P)).volumes).toEqual({ in_use: 0, reserved: 10 });
    await Promise.all(ok.map((r) => quotas.commit(ctx, r.value)));
    expect((await dbapi.quotaUsageGetAllByProject(db, P)).volumes).toEqual({ in_use: 10, reserved: 0 });
  });

  it('answers over quota with Cinder exceptions', async () => {
    await dbapi.quotaSet(db, P, 'gigabytes', 4);
    await expect(reserveForCreate(quotas, ctx, 5, typeId)).rejects.toThrow(
      new VolumeSizeExceedsAvailableQuota({ name: 'gigabytes', requested: 5, quota: 4, consumed: 0 }).message,
    );
    await dbapi.quotaSet(db, P, 'volumes_gold', 0);
    await expect(reserveForCreate(quotas, ctx, 1, typeId)).rejects.toBeInstanceOf(VolumeLimitExceeded);
    await dbapi.quotaSet(db, P, 'per_volume_gigabytes', 2);
    await expect(reserveForCreate(quotas, ctx, 3, typeId)).rejects.toBeInstanceOf(VolumeSizeExceedsLimit);
    await expect(quotas.reserve(ctx, { nope: 1 })).rejects.toBeInstanceOf(QuotaResourceUnknown);
    // volume/api.py _extend: the size increase against gigabytes, worded with the total's usage.
    await dbapi.quotaSet(db, P, 'per_volume_gigabytes', -1);
    await dbapi.quotaSet(db, P, 'gigabytes', 10);
    const r = await reserveForExtend(quotas, ctx, { size: 2, volume_type_id: typeId, project_id: P }, 6);
    expect((await dbapi.quotaUsageGetAllByProject(db, P)).gigabytes_gold).toEqual({ in_use: 0, reserved: 4 });
    await expect(reserveForExtend(quotas, ctx, { size: 6, volume_type_id: typeId, project_id: P }, 13)).rejects.toThrow(
      'Requested volume or snapshot exceeds allowed gigabytes quota. Requested 7G, quota is 10G and 4G has been consumed.',
    );
    await quotas.rollback(ctx, r);
    await expect(quotas.reserve(ctx, { volumes_gold: 1 })).rejects.toBeInstanceOf(OverQuotaError);
    // Nothing was reserved by the refused requests.
    expect(Object.values(await dbapi.quotaUsageGetAllByProject(db, P)).every((x) => x.reserved === 0)).toBe(true);
  });
});
