// volume_type_projects (cinder/db/sqlalchemy/api.py volume_type_access_*): the projects a private
// type is shared with. A removed row is soft-deleted with deleted = its id, so a project can be
// added again (the unique key includes deleted).
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db, Q, Tables } from './client.js';
import { dbNow } from './client.js';
import { VolumeTypeAccessExists, VolumeTypeAccessNotFound, VolumeTypeNotFound } from '../common/exceptions.js';

/** A write that hit a unique key (oslo.db's DBDuplicateEntry), on either engine. */
function isDuplicateEntry(e: unknown): boolean {
  for (let x = e as { code?: unknown; errno?: unknown; cause?: unknown } | undefined, i = 0; x && i < 4; x = x.cause as typeof x, i++) {
    if (x.code === 'SQLITE_CONSTRAINT_UNIQUE' || x.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || x.code === 'ER_DUP_ENTRY' || x.errno === 1062) {
      return true;
    }
  }
  return false;
}

/** The live volume_type_projects rows of a type. */
export interface TypeAccess {
  volume_type_id: string;
  project_id: string;
}

/** _volume_type_get_id_from_volume_type: the live type's id, or VolumeTypeNotFound. */
export async function liveTypeId(q: Q, t: Tables, typeId: string): Promise<string> {
  const { volumeTypes: vt } = t;
  const [row] = await q
    .select({ id: vt.id })
    .from(vt)
    .where(and(eq(vt.id, typeId), eq(vt.deleted, false)))
    .limit(1);
  if (!row) throw new VolumeTypeNotFound({ volume_type_id: typeId });
  return row.id;
}

/** volume_type_access_get_all: the projects a live type is shared with. */
export function volumeTypeAccessGetAll(db: Db, typeId: string): Promise<TypeAccess[]> {
  const { volumeTypeProjects: vtp } = db.t;
  return db.run(async (q) => {
    const id = await liveTypeId(q, db.t, typeId);
    const rows = await q
      .select({ volume_type_id: vtp.volume_type_id, project_id: vtp.project_id })
      .from(vtp)
      .where(and(eq(vtp.volume_type_id, id), eq(vtp.deleted, 0)))
      .orderBy(asc(vtp.id));
    return rows.map((r) => ({ volume_type_id: r.volume_type_id ?? id, project_id: r.project_id ?? '' }));
  });
}

/** volume_type_access_add: VolumeTypeNotFound, or VolumeTypeAccessExists for a live pair. */
export async function volumeTypeAccessAdd(db: Db, typeId: string, projectId: string): Promise<void> {
  const { volumeTypeProjects: vtp } = db.t;
  try {
    await db.tx(async (q) => {
      const id = await liveTypeId(q, db.t, typeId);
      const [dup] = await q
        .select({ id: vtp.id })
        .from(vtp)
        .where(and(eq(vtp.volume_type_id, id), eq(vtp.project_id, projectId), eq(vtp.deleted, 0)))
        .limit(1);
      if (dup) throw new VolumeTypeAccessExists({ volume_type_id: typeId, project_id: projectId });
      await q.insert(vtp).values({ volume_type_id: id, project_id: projectId, created_at: dbNow(), deleted: 0 });
    });
  } catch (e) {
    if (isDuplicateEntry(e)) throw new VolumeTypeAccessExists({ volume_type_id: typeId, project_id: projectId });
    throw e;
  }
}

/** volume_type_access_remove: soft-deletes the live pair (deleted = id); VolumeTypeAccessNotFound when none. */
export async function volumeTypeAccessRemove(db: Db, typeId: string, projectId: string): Promise<void> {
  const { volumeTypeProjects: vtp } = db.t;
  await db.tx(async (q) => {
    const id = await liveTypeId(q, db.t, typeId);
    const res = await q
      .update(vtp)
      .set({ deleted: sql`${vtp.id}`, deleted_at: dbNow(), updated_at: sql`${vtp.updated_at}` })
      .where(and(eq(vtp.volume_type_id, id), eq(vtp.project_id, projectId), eq(vtp.deleted, 0)));
    if (db.matched(res) === 0) throw new VolumeTypeAccessNotFound({ volume_type_id: typeId, project_id: projectId });
  });
}

