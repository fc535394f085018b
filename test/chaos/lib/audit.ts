// What every chaos script reports after its run, read from the shared database and the stand-in's
// LIO state as an operator would inspect them: requests by status, volumes stuck in a transient
// status, attachment rows lost or leaked, ACLs/targets leaked or missing, and process liveness.
import fs from 'node:fs';
import path from 'node:path';
import type { Cluster } from '../../support/cluster.js';

/** Statuses a volume must never be left in once every client has finished (and rolled back). */
export const TRANSIENT_VOLUME_STATUSES = ['creating', 'deleting', 'attaching', 'detaching', 'reserved', 'maintenance', 'error_detaching'];
/** Attachment statuses that mean work in hand. */
export const TRANSIENT_ATTACH_STATUSES = ['attaching', 'detaching', 'error_detaching', 'error_attaching'];

export class Tally {
  readonly byStatus = new Map<string, number>();
  add(status: number | string): void {
    const k = String(status);
    this.byStatus.set(k, (this.byStatus.get(k) ?? 0) + 1);
  }
  get total(): number {
    return [...this.byStatus.values()].reduce((a, b) => a + b, 0);
  }
  count(pred: (status: string) => boolean): number {
    return [...this.byStatus].filter(([k]) => pred(k)).reduce((a, [, n]) => a + n, 0);
  }
  toString(): string {
    return [...this.byStatus].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}=${n}`).join(' ') || '(none)';
  }
}

export interface AuditResult {
  volumes: number;
  byStatus: Record<string, number>;
  /** Volumes in a transient status (ids). */
  stuck: string[];
  /** in-use volumes without a live attached row. */
  attachmentsLost: string[];
  /** Live attachment rows (not detached) on a volume that is available, error or gone. */
  attachmentsLeaked: string[];
  /** ACLs whose initiator no live attachment of the volume uses (or the volume has none). */
  aclsLeaked: string[];
  /** Targets of volumes with no live attachment. */
  targetsLeaked: string[];
  /** Live attached rows whose connector's initiator has no ACL on the target. */
  aclsMissing: string[];
}

interface Row {
  id: string;
  status: string;
  deleted: number;
}
interface AttRow {
  id: string;
  volume_id: string;
  attach_status: string;
  connector: string | null;
}

function initiatorOf(connector: string | null): string | null {
  if (!connector) return null;
  try {
    const c = JSON.parse(connector) as { initiator?: unknown };
    return typeof c.initiator === 'string' ? c.initiator : null;
  } catch {
    return null;
  }
}

/** The stand-in's targets: volume id → ACL initiators. */
export function standinTargets(cluster: Cluster): Map<string, string[]> {
  const dir = path.join(cluster.standinState, 'targets');
  const out = new Map<string, string[]>();
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    if (!text) continue;
    const id = f.replace(/^.*:volume-/, '');
    out.set(id, text.split('\n').filter((l) => l.startsWith('acl ')).map((l) => l.split(' ')[1]));
  }
  return out;
}

/** Audit the volumes given (default: every volume row, deleted ones included). */
export function audit(cluster: Cluster, ids?: string[]): AuditResult {
  const all = cluster.sql<Row>('SELECT id, status, deleted FROM volumes');
  const vols = ids ? all.filter((v) => ids.includes(v.id)) : all;
  const atts = cluster.sql<AttRow>('SELECT id, volume_id, attach_status, connector FROM volume_attachment WHERE deleted = 0');
  const targets = standinTargets(cluster);
  const r: AuditResult = {
    volumes: vols.length,
    byStatus: {},
    stuck: [],
    attachmentsLost: [],
    attachmentsLeaked: [],
    aclsLeaked: [],
    targetsLeaked: [],
    aclsMissing: [],
  };
  for (const v of vols) {
    const status = v.deleted ? 'deleted' : v.status;
    r.byStatus[status] = (r.byStatus[status] ?? 0) + 1;
    if (TRANSIENT_VOLUME_STATUSES.includes(status)) r.stuck.push(v.id);
    const live = atts.filter((a) => a.volume_id === v.id && a.attach_status !== 'detached');
    const attached = live.filter((a) => a.attach_status === 'attached');
    if (status === 'in-use' && attached.length === 0) r.attachmentsLost.push(v.id);
    if (['available', 'error', 'deleted'].includes(status)) for (const a of live) r.attachmentsLeaked.push(a.id);
    for (const a of live) if (TRANSIENT_ATTACH_STATUSES.includes(a.attach_status) && !r.stuck.includes(v.id)) r.stuck.push(v.id);
    const acls = targets.get(v.id);
    if (acls === undefined) {
      for (const a of attached) if (initiatorOf(a.connector)) r.aclsMissing.push(a.id);
      continue;
    }
    if (live.length === 0) r.targetsLeaked.push(v.id);
    // Rows of the legacy path carry no connector: then any live attachment accounts for the ACLs.
    const used = new Set(live.map((a) => initiatorOf(a.connector)).filter((i): i is string => i !== null));
    const legacyRows = live.some((a) => initiatorOf(a.connector) === null);
    for (const acl of acls) if (live.length === 0 || (!used.has(acl) && !legacyRows)) r.aclsLeaked.push(`${v.id} ${acl}`);
    for (const a of attached) {
      const i = initiatorOf(a.connector);
      if (i && !acls.includes(i)) r.aclsMissing.push(a.id);
    }
  }
  return r;
}

export function alive(cluster: Cluster): { api: boolean; volume: boolean } {
  const up = (c?: { exitCode: number | null; signalCode: NodeJS.Signals | null }) => !!c && c.exitCode === null && c.signalCode === null;
  return { api: up(cluster.api), volume: up(cluster.volume) };
}

/** True when the audit found nothing wrong. */
export function clean(a: AuditResult): boolean {
  return !a.stuck.length && !a.attachmentsLost.length && !a.attachmentsLeaked.length && !a.aclsLeaked.length && !a.targetsLeaked.length && !a.aclsMissing.length;
}

/** The closing block every chaos script prints (one figure per line, greppable). */
export function report(title: string, f: { requests: Tally; audit: AuditResult; alive: { api: boolean; volume: boolean }; extra?: Record<string, string | number> }): string {
  const a = f.audit;
  const lines = [
    `== ${title}`,
    `requests by status: ${f.requests.toString()} (total ${f.requests.total})`,
    `volumes: ${a.volumes} ${JSON.stringify(a.byStatus)}`,
    `volumes stuck: ${a.stuck.length}${a.stuck.length ? ` ${a.stuck.slice(0, 5).join(' ')}` : ''}`,
    `attachment rows lost: ${a.attachmentsLost.length}  leaked: ${a.attachmentsLeaked.length}`,
    `ACLs leaked: ${a.aclsLeaked.length}  targets leaked: ${a.targetsLeaked.length}  ACLs missing: ${a.aclsMissing.length}`,
    `processes alive: api=${f.alive.api ? 'yes' : 'NO'} volume=${f.alive.volume ? 'yes' : 'NO'}`,
  ];
  for (const [k, v] of Object.entries(f.extra ?? {})) lines.push(`${k}: ${v}`);
  return lines.join('\n');
}

/** `--name value` / `--name=value` from argv. */
export function arg(name: string, dflt: string): string {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1] ?? dflt;
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return dflt;
}
