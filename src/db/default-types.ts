// default_volume_types (cinder/db/sqlalchemy/api.py project_default_volume_type_*, 3.62): one row
// per project naming its default type; unset is a hard delete.
import { and, eq } from 'drizzle-orm';
import type { Db, Tables } from './client.js';
import { dbNow } from './client.js';

/** default_volume_types: the project's own default type id (3.62), if one is set. */
export function projectDefaultTypeId(db: Db, projectId: string): Promise<string | null> {
  const { defaultVolumeTypes: d } = db.t;
  return db.run(async (q) => {
    const [row] = await q
      .select({ id: d.volume_type_id })
      .from(d)
      .where(and(eq(d.project_id, projectId), eq(d.deleted, false)))
      .limit(1);
    return row?.id ?? null;
  });
}

/** A default_volume_types row (3.62). */
export interface ProjectDefaultType {
  project_id: string;
  volume_type_id: string | null;
  created_at: string | null;
  updated_at: string | null;
}

const defaultTypeColumns = (t: Tables) => ({
  project_id: t.defaultVolumeTypes.project_id,
  volume_type_id: t.defaultVolumeTypes.volume_type_id,
  created_at: t.defaultVolumeTypes.created_at,
  updated_at: t.defaultVolumeTypes.updated_at,
});

/** project_default_volume_type_get(project_id): the project's row, or null. */
export function projectDefaultVolumeTypeGet(db: Db, projectId: string): Promise<ProjectDefaultType | null> {
  const { defaultVolumeTypes: d } = db.t;
  return db.run(async (q) => {
    const [row] = await q
      .select(defaultTypeColumns(db.t))
      .from(d)
      .where(and(eq(d.project_id, projectId), eq(d.deleted, false)))
      .limit(1);
    return row ?? null;
  });
}

/** project_default_volume_type_get(): every project's row. */
export function projectDefaultVolumeTypeGetAll(db: Db): Promise<ProjectDefaultType[]> {
  const { defaultVolumeTypes: d } = db.t;
  return db.run((q) => q.select(defaultTypeColumns(db.t)).from(d).where(eq(d.deleted, false)));
}

/** get_all_projects_with_default_type: the rows naming this type. */
export function projectsWithDefaultType(db: Db, typeId: string): Promise<ProjectDefaultType[]> {
  const { defaultVolumeTypes: d } = db.t;
  return db.run((q) =>
    q
      .select(defaultTypeColumns(db.t))
      .from(d)
      .where(and(eq(d.volume_type_id, typeId), eq(d.deleted, false))),
  );
}

/** project_default_volume_type_set: updates the project's row, or creates it. */
export async function projectDefaultVolumeTypeSet(db: Db, typeId: string, projectId: string): Promise<ProjectDefaultType> {
  const { defaultVolumeTypes: d } = db.t;
  await db.tx(async (q) => {
    const now = dbNow();
    const [row] = await q
      .select({ project_id: d.project_id })
      .from(d)
      .where(and(eq(d.project_id, projectId), eq(d.deleted, false)))
      .limit(1);
    if (row) await q.update(d).set({ volume_type_id: typeId, updated_at: now }).where(eq(d.project_id, projectId));
    else await q.insert(d).values({ project_id: projectId, volume_type_id: typeId, created_at: now, deleted: false });
  });
  return (await projectDefaultVolumeTypeGet(db, projectId))!;
}

/** project_default_volume_type_unset: a hard delete of the project's row (none is fine). */
export async function projectDefaultVolumeTypeUnset(db: Db, projectId: string): Promise<void> {
  const { defaultVolumeTypes: d } = db.t;
  await db.run((q) => q.delete(d).where(eq(d.project_id, projectId)));
}

