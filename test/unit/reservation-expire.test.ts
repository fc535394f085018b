// The scheduler's _clean_expired_reservation (cinder/scheduler/manager.py): QUOTAS.expire at start
// and every reservation_clean_interval seconds rolls back the reservations past their expiry, as
// cinder/db/sqlalchemy/api.py reservation_expire (usage.reserved down by a positive delta, the row
// soft-deleted; a negative delta leaves reserved alone).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeContext } from '../../src/common/context.js';
import { parseConfig } from '../../src/common/config.js';
import { createLogger } from '../../src/common/log.js';
import * as dbapi from '../../src/db/api.js';
import type { Db } from '../../src/db/client.js';
import { QuotaEngine, QUOTA_DEFAULTS } from '../../src/quota/index.js';
import { startReservationCleaner } from '../../src/scheduler/service.js';
import { DB_ENGINES, openFreshDb } from '../support/db.js';

const P = 'b1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4';
const ctx = makeContext({ user_id: 'u', project_id: P, roles: ['member'] });

describe.each(DB_ENGINES)('expired reservations on %s', (engine) => {
  let db: Db;
  let remove: () => Promise<void>;
  beforeEach(async () => ({ db, remove } = await openFreshDb(engine)));
  afterEach(() => remove());

  it('the cleaner rolls back expired reservations at once, and leaves live ones', async () => {
    const expired = new QuotaEngine(db, { ...QUOTA_DEFAULTS, reservation_expire: 0 });
    const live = new QuotaEngine(db, QUOTA_DEFAULTS);
    await expired.reserve(ctx, { volumes: 1, gigabytes: 5 });
    await expired.commit(ctx, await expired.reserve(ctx, { volumes: 2 }));
    await expired.reserve(ctx, { volumes: -1 });
    await live.reserve(ctx, { gigabytes: 3 });
    expect(await dbapi.quotaUsageGetAllByProject(db, P)).toMatchObject({ volumes: { in_use: 2, reserved: 1 }, gigabytes: { in_use: 0, reserved: 8 } });
    await new Promise((r) => setTimeout(r, 1100));
    const timer = startReservationCleaner(live, 3600, createLogger('test', 'silent'));
    try {
      await expect.poll(async () => (await dbapi.quotaUsageGetAllByProject(db, P)).gigabytes.reserved).toBe(3);
      expect((await dbapi.quotaUsageGetAllByProject(db, P)).volumes).toEqual({ in_use: 2, reserved: 0 });
    } finally {
      if (timer) clearInterval(timer);
    }
  });
});

describe('reservation_clean_interval', () => {
  it("defaults to reservation_expire (cinder/quota.py '$reservation_expire'); negative: no task", () => {
    expect(parseConfig('').DEFAULT.reservation_clean_interval).toBeUndefined();
    expect(parseConfig('[DEFAULT]\nreservation_clean_interval = 600\n').DEFAULT.reservation_clean_interval).toBe(600);
    expect(startReservationCleaner({ expire: () => Promise.resolve() } as never, -1, createLogger('test', 'silent'))).toBeNull();
  });
});
