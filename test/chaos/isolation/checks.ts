// The checks on every answer: the other project's ids it shows that were not sent (visible, and
// visible beyond what Cinder 21.3.1 shows), the state it changed (the tables volumes,
// volume_attachment, volume_admin_metadata and the stand-in's LIO state, before/after), and whether
// it is Cinder's answer (status, and the whole body when one is expected).
import { sleep, type Cluster } from '../../support/cluster.js';
import { Tally, standinTargets } from '../lib/audit.js';
import type { Outcome, Probe } from './expect.js';
import { http } from './http.js';
import type { Setup } from './setup.js';

/** Admin-only attributes (volume_host_attribute, volume_mig_status_attribute). */
const ADMIN_ATTRS = ['os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat', 'os-vol-mig-status-attr:name_id'];

export class Checker {
  readonly tally = new Tally();
  readonly outcomes: Outcome[] = [];
  constructor(private readonly s: Setup) {}

  /** The state every request must leave alone. */
  state(): string {
    const cluster: Cluster = this.s.cluster;
    return JSON.stringify({
      volumes: cluster.sql('SELECT * FROM volumes ORDER BY id'),
      attachments: cluster.sql('SELECT * FROM volume_attachment ORDER BY id'),
      admin_metadata: cluster.sql('SELECT * FROM volume_admin_metadata ORDER BY id'),
      lio: [...standinTargets(cluster)].sort(([a], [b]) => a.localeCompare(b)),
    });
  }

  /** Which parts of the state differ. */
  private diffOf(a: string, b: string): string {
    const x = JSON.parse(a);
    const y = JSON.parse(b);
    return Object.keys(x)
      .filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]))
      .join(',');
  }

  /** Sends a probe with `token`; `foreign` are the ids the answer must not show. */
  async send(probe: Probe, token: string, foreign: string[]): Promise<Outcome> {
    const before = this.state();
    const a = await http(this.s.base, probe.method, probe.path, token, probe.body, probe.version, probe.headers);
    const after = this.state();
    this.tally.add(a.status);
    const sent = `${probe.path} ${JSON.stringify(probe.body ?? null)}`;
    const visible = foreign.filter((id) => a.text.includes(id) && !sent.includes(id));
    const visibleBeyondCinder = visible.filter((id) => !(probe.cinderShows ?? []).includes(id));
    // Cinder's answer, or the port's own where it is stricter on purpose (portAnswer).
    const want = probe.portAnswer ?? probe.expect;
    let matchesCinder = a.status === want.status;
    if (matchesCinder && want.body !== undefined && !probe.portUnrouted) {
      matchesCinder = JSON.stringify(a.json) === JSON.stringify(want.body);
    }
    const o: Outcome = {
      probe,
      status: a.status,
      visible,
      visibleBeyondCinder,
      changed: before !== after,
      diff: before !== after ? this.diffOf(before, after) : undefined,
      matchesCinder,
      text: a.text.slice(0, 300),
    };
    this.outcomes.push(o);
    return o;
  }

  /** How many of P's own volume views (show, detail; 3.0 and 3.70) fail or show admin-only attributes. */
  async adminAttrsShown(): Promise<number> {
    let shown = 0;
    for (const p of [`/volumes/${this.s.ids['in-use-legacy']}`, '/volumes/detail']) {
      for (const version of ['3.0', '3.70']) {
        const a = await this.s.asP('GET', p, undefined, version);
        this.tally.add(a.status);
        if (a.status !== 200 || ADMIN_ATTRS.some((k) => a.text.includes(`"${k}"`))) shown++;
      }
    }
    return shown;
  }

  /** P's own list carries P's attachments (so "no foreign ids" elsewhere is not an empty answer). */
  async ownListOk(): Promise<boolean> {
    const ownList = await this.s.asP('GET', '/attachments', undefined, '3.44');
    return ownList.status === 200 && Object.values(this.s.att).every((a) => ownList.text.includes(a));
  }

  /** Whether the state still changes after the last request (a cast?). */
  async lateChange(): Promise<boolean> {
    const settledBefore = this.state();
    await sleep(1000);
    return settledBefore !== this.state();
  }
}
