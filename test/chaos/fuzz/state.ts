// State snapshots: the DB tables and the stand-in's LIO/LVM files, read before and after a request,
// and their differences; and the wait for what an accepted request started, so that a diff belongs
// to the request that made it.
import fs from 'node:fs';
import path from 'node:path';
import { sleep, type Cluster } from '../../support/cluster.js';
import type { Req, Res } from './types.js';

const TABLES = ['volumes', 'volume_attachment', 'volume_admin_metadata', 'workers'] as const;

/** What a request may change: every row of TABLES (id → JSON) and the stand-in's files. */
export interface Snapshot {
  db: Map<string, string>[];
  lio: Map<string, string>;
}

/** Reads through the cluster's read-only view of its database (SQLite or MariaDB: cluster.sql()). */
export class StateReader {
  constructor(private readonly cluster: Cluster) {}
  /** Nothing to close: the handle is the cluster's (closed by cluster.stop()). */
  close() {}
  dbRows(): Map<string, string>[] {
    return TABLES.map((t) => {
      const m = new Map<string, string>();
      for (const r of this.cluster.sql(`SELECT * FROM ${t} ORDER BY id`)) m.set(String(r.id), JSON.stringify(r));
      return m;
    });
  }
  /** targets/<iqn> and lvm/<vg>/<lv> of the stand-in, path → content. */
  lio(): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (dir: string, rel: string) => {
      if (!fs.existsSync(dir)) return;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
        else out.set(`${rel}${e.name}`, fs.readFileSync(p, 'utf8'));
      }
    };
    walk(path.join(this.cluster.standinState, 'targets'), 'targets/');
    walk(path.join(this.cluster.standinState, 'lvm'), 'lvm/');
    return out;
  }
  snapshot(): Snapshot {
    return { db: this.dbRows(), lio: this.lio() };
  }
  workers(): number {
    return Number(this.cluster.sql<{ n: number }>('SELECT count(*) AS n FROM workers')[0].n);
  }
  volumeStatus(id: string): { status: string; deleted: number } | undefined {
    return this.cluster.sql<{ status: string; deleted: number }>('SELECT status, deleted FROM volumes WHERE id = ?', id)[0];
  }
  attachmentIds(): { id: string; volume_id: string; deleted: number }[] {
    return this.cluster.sql<{ id: string; volume_id: string; deleted: number }>('SELECT id, volume_id, deleted FROM volume_attachment');
  }
  volumeIds(): string[] {
    return this.cluster.sql<{ id: string }>('SELECT id FROM volumes').map((r) => r.id);
  }
}

function diffMaps(before: Map<string, string>, after: Map<string, string>, label: string): string[] {
  const out: string[] = [];
  for (const [k, v] of after) {
    const b = before.get(k);
    if (b === undefined) out.push(`${label} +${k} ${v.slice(0, 2000)}`);
    else if (b !== v) {
      if (v.startsWith('{')) {
        const bo = JSON.parse(b) as Record<string, unknown>;
        const ao = JSON.parse(v) as Record<string, unknown>;
        const cols = Object.keys(ao).filter((c) => JSON.stringify(ao[c]) !== JSON.stringify(bo[c]));
        out.push(`${label} ~${k} ${cols.map((c) => `${c}: ${JSON.stringify(bo[c])}→${JSON.stringify(ao[c])}`).join(', ')}`);
      } else out.push(`${label} ~${k} ${JSON.stringify(b)}→${JSON.stringify(v)}`);
    }
  }
  for (const k of before.keys()) if (!after.has(k)) out.push(`${label} -${k}`);
  return out;
}

/** The rows and stand-in files a request changed, one line each. */
export function diffSnapshots(before: Snapshot, after: Snapshot): { db: string[]; lio: string[] } {
  return { db: TABLES.flatMap((t, k) => diffMaps(before.db[k], after.db[k], t)), lio: diffMaps(before.lio, after.lio, 'standin') };
}

/** Wait for what an accepted request started: a created volume leaving 'creating', a deleted one gone, no workers rows. */
async function until(pred: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !pred()) await sleep(15);
}

/**
 * Wait until no workers row is left: the manager destroys a create's row just after the volume turns
 * `available` (the cleanable decorator's finally), so a caller that waited for the status alone can
 * still see the row go during the next request.
 */
export function drained(reader: StateReader, ms = 5000): Promise<void> {
  return until(() => reader.workers() === 0, ms);
}

export async function settle(reader: StateReader, req: Req, res: Res): Promise<void> {
  if (req.method === 'POST' && /\/volumes(\?|$)/.test(req.path)) {
    let id: string | undefined;
    try {
      id = (JSON.parse(res.body) as { volume?: { id?: string } }).volume?.id;
    } catch {
      /* not JSON */
    }
    if (id) await until(() => reader.volumeStatus(id!)?.status !== 'creating', 5000);
  }
  // An accepted os-extend or os-retype is a cast through the scheduler to the manager: wait for the
  // volume to leave 'extending'/'retyping' (its size and status change then, not during the next request).
  if (req.method === 'POST' && req.targetId && /\/volumes\/[^/]+\/action$/.test(req.path.split('?')[0])) {
    const id = decodeURIComponent(req.targetId);
    await until(() => !['extending', 'retyping'].includes(reader.volumeStatus(id)?.status ?? ''), 5000);
  }
  if (req.method === 'DELETE' && req.targetId && /\/volumes\//.test(req.path)) {
    const id = decodeURIComponent(req.targetId);
    await until(() => {
      const s = reader.volumeStatus(id);
      return !s || !!s.deleted || s.status !== 'deleting';
    }, 5000);
  }
  await drained(reader);
}
