// The cluster's fixtures: the projects, connectors and the volumes the fuzzer aims at, one per role
// (a state a volume can be in), re-made when a request has moved one out of its role.
import { randomUUID } from 'node:crypto';
import type { Cluster, CinderClient } from '../../support/cluster.js';

export const PROJECT = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
export const OTHER = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
export const CONNECTOR = { initiator: 'iqn.1994-05.com.redhat:fuzz1', host: 'fuzz1', ip: '192.0.2.41', multipath: false, platform: 'x86_64' };
export const CONNECTOR2 = { initiator: 'iqn.1994-05.com.redhat:fuzz2', host: 'fuzz2', ip: '192.0.2.42', multipath: false };

export type Role = 'available' | 'inuse' | 'reserved' | 'detaching' | 'attachments' | 'multiattach' | 'maintenance' | 'other';
export const ROLES: Role[] = ['available', 'inuse', 'reserved', 'detaching', 'attachments', 'multiattach', 'maintenance', 'other'];
/** The status a role's volume must have to still play it. */
export const ROLE_STATUS: Record<Role, string> = {
  available: 'available',
  inuse: 'in-use',
  reserved: 'reserved',
  detaching: 'detaching',
  attachments: 'in-use',
  multiattach: 'in-use',
  maintenance: 'maintenance',
  other: 'available',
};

export class Fixtures {
  readonly ids = new Map<Role, string>();
  readonly missing = randomUUID();
  refreshes = 0;
  constructor(
    private readonly cluster: Cluster,
    private readonly api: CinderClient,
    private readonly other: CinderClient,
  ) {}

  private async make(role: Role): Promise<string> {
    const c = this.cluster;
    const v344 = { 'OpenStack-API-Version': 'volume 3.44' };
    switch (role) {
      case 'available':
        return c.newVolume(this.api);
      case 'other':
        return c.newVolume(this.other);
      case 'maintenance': {
        const id = await c.newVolume(this.api);
        c.setVolume(id, { status: 'maintenance' });
        return id;
      }
      case 'inuse':
        return (await c.attachedVolume(this.api, CONNECTOR)).id;
      case 'detaching': {
        const { id } = await c.attachedVolume(this.api, CONNECTOR);
        const r = await this.api.action(id, { 'os-begin_detaching': null });
        if (r.status !== 202) throw new Error(`begin_detaching: ${r.status} ${r.text}`);
        return id;
      }
      case 'reserved': {
        const id = await c.newVolume(this.api);
        const r = await this.api.request('POST', `/v3/${PROJECT}/attachments`, { attachment: { volume_uuid: id, instance_uuid: randomUUID() } }, v344);
        if (r.status !== 200) throw new Error(`attachment create: ${r.status} ${r.text}`);
        return id;
      }
      case 'attachments': {
        const id = await c.newVolume(this.api);
        const r = await this.api.request(
          'POST',
          `/v3/${PROJECT}/attachments`,
          { attachment: { volume_uuid: id, instance_uuid: randomUUID(), connector: CONNECTOR2 } },
          v344,
        );
        if (r.status !== 200) throw new Error(`attachment create: ${r.status} ${r.text}`);
        const done = await this.api.request('POST', `/v3/${PROJECT}/attachments/${r.json.attachment.id}/action`, { 'os-complete': null }, v344);
        if (done.status !== 204) throw new Error(`os-complete: ${done.status} ${done.text}`);
        return id;
      }
      case 'multiattach': {
        const id = await c.newVolume(this.api);
        c.setVolume(id, { multiattach: 1 });
        for (const [body, code] of [
          [{ 'os-reserve': null }, 202],
          [{ 'os-initialize_connection': { connector: CONNECTOR } }, 200],
          [{ 'os-attach': { instance_uuid: randomUUID(), mountpoint: '/dev/vdc', mode: 'rw' } }, 202],
        ] as const) {
          const r = await this.api.action(id, body);
          if (r.status !== code) throw new Error(`multiattach ${Object.keys(body)[0]}: ${r.status} ${r.text}`);
        }
        return id;
      }
    }
  }

  async setUp(): Promise<void> {
    for (const role of ROLES) this.ids.set(role, await this.make(role));
  }

  /** Re-make the volumes whose state no longer fits their role (bounded: a failed re-make keeps the old id). */
  async refresh(): Promise<number> {
    let n = 0;
    for (const role of ROLES) {
      const row = this.cluster.volumeRow(this.ids.get(role)!);
      if (row && !row.deleted && row.status === ROLE_STATUS[role]) continue;
      try {
        this.ids.set(role, await this.make(role));
        n++;
      } catch {
        /* the cluster may be in a state that refuses it; keep fuzzing the old one */
      }
    }
    this.refreshes += n;
    return n;
  }
}
