// os-services' DB side on both engines: host matching as Cinder's _filter_host, service_update's
// modified_at, and the scheduler's view (servicesUp) skipping disabled and frozen services as
// host_manager.py get_all_backend_states does.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { serviceReport, servicesUp } from '../../src/db/services.js';
import { serviceConditionalFrozen, serviceGetAll, serviceGetByArgs, serviceUpdate } from '../../src/db/services-admin.js';
import { AvailabilityZones } from '../../src/volume-api/availability-zones.js';
import { DB_ENGINES, openFreshDb } from '../support/db.js';

const VERSIONS = { rpc: '3.18', objects: '1.39' };

describe.each(DB_ENGINES)('%s', (engine) => {
  let db: Db;
  let handle: Awaited<ReturnType<typeof openFreshDb>> | undefined;
  beforeAll(async () => {
    handle = await openFreshDb(engine);
    db = handle.db;
    for (const host of ['h1@lvm', 'h2@lvm']) {
      await serviceReport(db, { host, binary: 'cinder-volume', topic: 'cinder-volume', availability_zone: 'nova', ...VERSIONS });
    }
    await serviceReport(db, { host: 'h1', binary: 'cinder-scheduler', topic: 'cinder-scheduler', availability_zone: 'nova', ...VERSIONS });
  });
  afterAll(async () => {
    await handle?.remove();
  });

  it('matches a host as _filter_host: H finds H@B, H@B finds H@B, no prefix match', async () => {
    expect((await serviceGetByArgs(db, 'h1', 'cinder-volume'))?.host).toBe('h1@lvm');
    expect((await serviceGetByArgs(db, 'h1@lvm', 'cinder-volume'))?.host).toBe('h1@lvm');
    expect(await serviceGetByArgs(db, 'h', 'cinder-volume')).toBeUndefined();
    expect(await serviceGetByArgs(db, 'h1@lvm', 'invalid_binary')).toBeUndefined();
    expect((await serviceGetAll(db, { host: 'h1' })).map((s) => s.binary).sort()).toEqual(['cinder-scheduler', 'cinder-volume']);
  });

  it('disabling sets modified_at and keeps the heartbeat; the scheduler skips the service', async () => {
    const before = (await serviceGetByArgs(db, 'h2@lvm', 'cinder-volume'))!;
    expect((await servicesUp(db, 'cinder-volume')).map((s) => s.host)).toEqual(['h1@lvm', 'h2@lvm']);
    await serviceUpdate(db, before.id, { disabled: true, disabled_reason: 'maintenance' });
    const after = (await serviceGetByArgs(db, 'h2@lvm', 'cinder-volume'))!;
    expect(after).toMatchObject({ disabled: true, disabled_reason: 'maintenance', updated_at: before.updated_at });
    expect(after.modified_at).not.toBeNull();
    expect((await servicesUp(db, 'cinder-volume')).map((s) => s.host)).toEqual(['h1@lvm']);
    await serviceUpdate(db, before.id, { disabled: false });
    expect((await servicesUp(db, 'cinder-volume')).map((s) => s.host)).toEqual(['h1@lvm', 'h2@lvm']);
  });

  it('freezes once (conditional update) and a frozen service is not scheduled to', async () => {
    const s = (await serviceGetByArgs(db, 'h1@lvm', 'cinder-volume'))!;
    expect(await serviceConditionalFrozen(db, s.id, false, true)).toBe(true);
    expect(await serviceConditionalFrozen(db, s.id, false, true)).toBe(false);
    expect((await servicesUp(db, 'cinder-volume')).map((r) => r.host)).toEqual(['h2@lvm']);
    expect(await serviceConditionalFrozen(db, s.id, true, false)).toBe(true);
  });
});

describe('list_availability_zones cache (az_cache_duration)', () => {
  it('keeps the list for the duration, refreshes when asked or when it is old', async () => {
    const handle = await openFreshDb('sqlite');
    try {
      const db = handle.db;
      let now = 1_000_000;
      const azs = new AvailabilityZones(db, 60, () => now);
      await serviceReport(db, { host: 'a@lvm', binary: 'cinder-volume', topic: 'cinder-volume', availability_zone: 'z1', ...VERSIONS });
      expect(await azs.list({ enableCache: true })).toEqual([{ name: 'z1', available: true }]);
      await serviceReport(db, { host: 'b@lvm', binary: 'cinder-volume', topic: 'cinder-volume', availability_zone: 'z2', ...VERSIONS });
      expect((await azs.list({ enableCache: true })).map((z) => z.name)).toEqual(['z1']);
      expect((await azs.list()).map((z) => z.name)).toEqual(['z1', 'z2']);
      now += 60_000;
      expect((await azs.list({ enableCache: true })).map((z) => z.name)).toEqual(['z1', 'z2']);
      const b = (await serviceGetByArgs(db, 'b@lvm', 'cinder-volume'))!;
      await serviceUpdate(db, b.id, { disabled: true });
      expect(await azs.list({ enableCache: true, refreshCache: true })).toEqual([
        { name: 'z1', available: true },
        { name: 'z2', available: false },
      ]);
    } finally {
      await handle.remove();
    }
  });
});
