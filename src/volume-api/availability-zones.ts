// cinder/volume/api.py API.list_availability_zones: the zones of the cinder-volume services, each
// available when any of its services is enabled; with enable_cache the answer is kept for
// [DEFAULT] az_cache_duration seconds (the create path's use), refreshed at once on request.
import type { Db } from '../db/client.js';
import { serviceGetAll } from '../db/services-admin.js';

export interface AvailabilityZone {
  name: string | null;
  available: boolean;
}

export class AvailabilityZones {
  private cached: AvailabilityZone[] = [];
  private fetchedAt: number | null = null;

  constructor(
    private readonly db: Db,
    /** az_cache_duration (seconds; Cinder's default 3600). */
    private readonly cacheDurationS = 3600,
    private readonly now: () => number = Date.now,
  ) {}

  async list(opts: { enableCache?: boolean; refreshCache?: boolean } = {}): Promise<AvailabilityZone[]> {
    let refresh = opts.refreshCache ?? false;
    if (opts.enableCache && (this.fetchedAt === null || (this.now() - this.fetchedAt) / 1000 >= this.cacheDurationS)) refresh = true;
    if (opts.enableCache && !refresh) return [...this.cached];
    const disabled = new Map<string | null, boolean>();
    for (const s of await serviceGetAll(this.db, { topic: 'cinder-volume' })) {
      disabled.set(s.availability_zone, (disabled.get(s.availability_zone) ?? true) && Boolean(s.disabled));
    }
    const azs = [...disabled].map(([name, d]) => ({ name, available: !d }));
    if (refresh) {
      this.cached = azs;
      this.fetchedAt = this.now();
    }
    return azs;
  }
}
