// The volume types' db layer and cinder/volume/volume_types.py logic on both engines (a SQLite file;
// a MariaDB database on the run's server), after cinder/tests/unit/test_volume_types.py and
// db/test_volume_type.py: create/update/destroy rules, the list's filters, sorting and pages, access
// rows (soft-deleted with deleted = id), extra specs, default types, get_by_name_or_id,
// get_default_volume_type.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eq, ne } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import * as dbapi from '../../src/db/api.js';
import * as vtdb from '../../src/db/api.js';
import * as vt from '../../src/volume-api/volume-types.js';
import {
  InvalidVolumeType,
  VolumeTypeAccessExists,
  VolumeTypeAccessNotFound,
  VolumeTypeDefaultDeletionError,
  VolumeTypeDefaultMisconfiguredError,
  VolumeTypeDeletionError,
  VolumeTypeExists,
  VolumeTypeExtraSpecsNotFound,
  VolumeTypeInUse,
  VolumeTypeNotFound,
  VolumeTypeNotFoundByName,
} from '../../src/common/exceptions.js';
import { DB_ENGINES, openFreshDb } from '../support/db.js';

const P = '0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a';
const Q = '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b';
const admin = { is_admin: true, project_id: P };
const member = { is_admin: false, project_id: P };
const otherMember = { is_admin: false, project_id: Q };

describe.each(DB_ENGINES)('%s', (engine) => {
  let db: Db;
  let handle: Awaited<ReturnType<typeof openFreshDb>>;
  beforeAll(async () => {
    handle = await openFreshDb(engine);
    db = handle.db;
  });
  afterAll(async () => {
    await handle?.remove();
  });
  beforeEach(async () => {
    const t = db.t;
    await db.run(async (q) => {
      await q.delete(t.volumeTypeExtraSpecs);
      await q.delete(t.volumeTypeProjects);
      await q.delete(t.defaultVolumeTypes);
      await q.delete(t.encryption);
      await q.delete(t.volumes);
      await q.delete(t.volumeTypes).where(ne(t.volumeTypes.name, '__DEFAULT__'));
    });
  });

  const names = (ts: { name: string | null }[]) => ts.map((t) => t.name);

  describe('create', () => {
    it('stores the type, its specs and its distinct projects', async () => {
      const t = await vtdb.volumeTypeCreate(db, { name: 'gold', description: 'd', is_public: false, extra_specs: { a: '1', b: null } }, [P, P, Q]);
      expect(t).toMatchObject({ name: 'gold', description: 'd', is_public: false, deleted: false, extra_specs: { a: '1', b: null } });
      expect(t.projects!.sort()).toEqual([P, Q]);
      expect(t.created_at).toMatch(/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/);
    });

    it('VolumeTypeExists for a live name (message names it); a deleted one’s name is free', async () => {
      const t = await vtdb.volumeTypeCreate(db, { name: 'gold' });
      await vtdb.volumeTypeCreate(db, { name: 'other' });
      await expect(vtdb.volumeTypeCreate(db, { name: 'gold' })).rejects.toThrow(new VolumeTypeExists({ id: 'gold' }).message);
      await expect(vtdb.volumeTypeCreate(db, { name: 'x', id: t.id })).rejects.toThrow(VolumeTypeExists);
      await vtdb.volumeTypeDestroy(db, t.id);
      expect((await vtdb.volumeTypeCreate(db, { name: 'gold' })).name).toBe('gold');
    });
  });

  describe('update', () => {
    it('leaves null fields alone, bumps updated_at, refuses another live type’s name', async () => {
      const t = await vtdb.volumeTypeCreate(db, { name: 'a', description: 'keep' });
      await vtdb.volumeTypeCreate(db, { name: 'b' });
      await vtdb.volumeTypeUpdate(db, t.id, { name: null, description: null, is_public: false });
      const u = (await vtdb.volumeTypeGet(db, t.id))!;
      expect(u).toMatchObject({ name: 'a', description: 'keep', is_public: false });
      expect(u.updated_at).not.toBeNull();
      await expect(vtdb.volumeTypeUpdate(db, t.id, { name: 'b' })).rejects.toThrow(VolumeTypeExists);
      await vtdb.volumeTypeUpdate(db, t.id, { name: 'a' });
      await expect(vtdb.volumeTypeUpdate(db, '99999999-9999-4999-8999-999999999999', { name: 'z' })).rejects.toThrow(VolumeTypeNotFound);
    });

    it('volume_types.update reads the type first (404) and maps db failures', async () => {
      await expect(vt.updateType(db, admin, null, 'x', null)).rejects.toThrow(InvalidVolumeType);
      await expect(vt.updateType(db, admin, 'nope', 'x', null)).rejects.toThrow('Volume type nope could not be found.');
    });
  });

  describe('destroy', () => {
    it('refuses the only type, an unknown one and one in use; soft-deletes type, specs, encryption and projects', async () => {
      const dflt = (await vtdb.volumeTypeGetByName(db, '__DEFAULT__'))!;
      await expect(vtdb.volumeTypeDestroy(db, dflt.id)).rejects.toThrow(VolumeTypeDeletionError);
      await expect(vtdb.volumeTypeDestroy(db, dflt.id)).rejects.toThrow(
        `The volume type ${dflt.id} is the only currently defined volume type and cannot be deleted.`,
      );
      const t = await vtdb.volumeTypeCreate(db, { name: 'gold', is_public: false, extra_specs: { a: '1' } }, [P, Q]);
      await expect(vtdb.volumeTypeDestroy(db, 'nope')).rejects.toThrow(VolumeTypeNotFound);
      const vol = await dbapi.volumeCreate(db, { id: '11111111-2222-4333-8444-555555555555', project_id: P, user_id: 'u', size: 1, status: 'available', volume_type_id: t.id });
      await expect(vtdb.volumeTypeDestroy(db, t.id)).rejects.toThrow(VolumeTypeInUse);
      await dbapi.volumeDestroy(db, vol.id);
      await db.run((q) => q.insert(db.t.encryption).values({ encryption_id: 'e1', volume_type_id: t.id, cipher: 'aes', deleted: false }));
      const res = await vtdb.volumeTypeDestroy(db, t.id);
      expect(res.deleted).toBe(true);
      expect(await vtdb.volumeTypeGet(db, t.id)).toBeNull();
      // a volume keeps reading its type (inactive)
      expect((await vtdb.volumeTypeGet(db, t.id, { inactive: true }))?.deleted).toBe(true);
      const specs = await db.run((q) => q.select().from(db.t.volumeTypeExtraSpecs).where(eq(db.t.volumeTypeExtraSpecs.volume_type_id, t.id)));
      expect(specs.every((s) => s.deleted)).toBe(true);
      const enc = await db.run((q) => q.select().from(db.t.encryption).where(eq(db.t.encryption.volume_type_id, t.id)));
      expect(enc[0].deleted).toBe(true);
      const projects = await db.run((q) => q.select().from(db.t.volumeTypeProjects).where(eq(db.t.volumeTypeProjects.volume_type_id, t.id)));
      expect(projects.map((p) => p.deleted)).toEqual(projects.map((p) => p.id));
    });

    it('volume_types.destroy refuses the configured default type and any project default', async () => {
      const gold = await vtdb.volumeTypeCreate(db, { name: 'gold' });
      const silver = await vtdb.volumeTypeCreate(db, { name: 'silver' });
      await expect(vt.destroyType(db, 'gold', admin, gold.id)).rejects.toThrow(`The volume type ${gold.id} is a default volume type and cannot be deleted.`);
      await vtdb.projectDefaultVolumeTypeSet(db, silver.id, Q);
      await expect(vt.destroyType(db, '__DEFAULT__', admin, silver.id)).rejects.toThrow(VolumeTypeDefaultDeletionError);
      await expect(vt.destroyType(db, 'missing', admin, gold.id)).rejects.toThrow(VolumeTypeDefaultMisconfiguredError);
      await vtdb.projectDefaultVolumeTypeUnset(db, Q);
      await vt.destroyType(db, '__DEFAULT__', admin, silver.id);
      await expect(vt.getByNameOrId(db, admin, silver.id)).rejects.toThrow(VolumeTypeNotFound);
    });
  });

  describe('get_all', () => {
    it('non-admins see public types and the private ones shared with their project', async () => {
      await vtdb.volumeTypeCreate(db, { name: 'pub' });
      await vtdb.volumeTypeCreate(db, { name: 'mine', is_public: false }, [P]);
      await vtdb.volumeTypeCreate(db, { name: 'theirs', is_public: false }, [Q]);
      const list = async (reader: vtdb.TypeReader, filters?: Record<string, unknown>) =>
        names(await vtdb.volumeTypeGetAll(db, reader, { filters })).sort();
      expect(await list(admin)).toEqual(['__DEFAULT__', 'mine', 'pub', 'theirs']);
      expect(await list(admin, { is_public: true })).toEqual(['__DEFAULT__', 'mine', 'pub']);
      expect(await list(admin, { is_public: false })).toEqual(['mine', 'theirs']);
      expect(await list(admin, { is_public: null })).toEqual(['__DEFAULT__', 'mine', 'pub', 'theirs']);
      expect(await list(member, { is_public: true })).toEqual(['__DEFAULT__', 'mine', 'pub']);
      expect(await list(otherMember, { is_public: true })).toEqual(['__DEFAULT__', 'pub', 'theirs']);
      // a removed access no longer counts
      const mine = (await vtdb.volumeTypeGetByName(db, 'mine'))!;
      await vtdb.volumeTypeAccessRemove(db, mine.id, P);
      expect(await list(member, { is_public: true })).toEqual(['__DEFAULT__', 'pub']);
    });

    it('extra_specs filters: exact values (all must match), availability zones by substring, empty dict is an IndexError', async () => {
      await vtdb.volumeTypeCreate(db, { name: 't1', extra_specs: { key1: 'value1', 'RESKEY:availability_zones': 'az1,az2' } });
      await vtdb.volumeTypeCreate(db, { name: 't2', extra_specs: { key2: 'value2', 'RESKEY:availability_zones': 'az1,az3' } });
      const list = async (extra_specs: unknown) => names(await vtdb.volumeTypeGetAll(db, admin, { filters: { extra_specs }, sortKeys: ['name'], sortDirs: ['asc'] })).sort();
      expect(await list(new Map([['key1', 'value1']]))).toEqual(['t1']);
      expect(await list({ key1: 'value1', key2: 'value2' })).toEqual([]);
      expect(await list({ 'RESKEY:availability_zones': 'az1' })).toEqual(['t1', 't2']);
      expect(await list({ 'RESKEY:availability_zones': 'az3' })).toEqual(['t2']);
      await expect(list({})).rejects.toThrow('IndexError');
      await expect(list('key1')).rejects.toThrow('AttributeError');
    });

    it('other filters: columns by equality; an unknown key gives no types', async () => {
      const gold = await vtdb.volumeTypeCreate(db, { name: 'gold', description: 'g' });
      expect(names(await vtdb.volumeTypeGetAll(db, admin, { filters: { name: 'gold' } }))).toEqual(['gold']);
      expect(names(await vtdb.volumeTypeGetAll(db, admin, { filters: { id: gold.id, description: 'g' } }))).toEqual(['gold']);
      expect(await vtdb.volumeTypeGetAll(db, admin, { filters: { foo: 'x' } })).toEqual([]);
    });

    it('sorts (default created_at desc, id desc), pages after a marker, offsets, limits', async () => {
      // digits sort before '_' under both SQLite's binary and MariaDB's case-insensitive collation
      const a = await vtdb.volumeTypeCreate(db, { name: '1a' });
      const b = await vtdb.volumeTypeCreate(db, { name: '1b' });
      const c = await vtdb.volumeTypeCreate(db, { name: '1c' });
      const byName = { sortKeys: ['name'], sortDirs: ['asc'] };
      expect(names(await vtdb.volumeTypeGetAll(db, admin, { ...byName, limit: 2 }))).toEqual(['1a', '1b']);
      expect(names(await vtdb.volumeTypeGetAll(db, admin, { ...byName, marker: a.id, limit: 1 }))).toEqual(['1b']);
      expect(names(await vtdb.volumeTypeGetAll(db, admin, { ...byName, offset: 2 }))).toEqual(['1c', '__DEFAULT__']);
      expect(names(await vtdb.volumeTypeGetAll(db, admin, { sortKeys: ['name'], sortDirs: ['desc'], marker: c.id }))).toEqual(['1b', '1a']);
      // default order: created_at desc, then id desc
      const all = await vtdb.volumeTypeGetAll(db, admin);
      const expected = [...all].sort((x, y) => (x.created_at! < y.created_at! ? 1 : x.created_at! > y.created_at! ? -1 : x.id < y.id ? 1 : -1));
      expect(all.map((t) => t.id)).toEqual(expected.map((t) => t.id));
      // a marker the reader cannot see is none
      const hidden = await vtdb.volumeTypeCreate(db, { name: '1h', is_public: false });
      expect(names(await vtdb.volumeTypeGetAll(db, member, { ...byName, marker: hidden.id }))).toEqual(['1a', '1b', '1c', '__DEFAULT__']);
      await expect(vtdb.volumeTypeGetAll(db, admin, { sortKeys: ['nope'] })).rejects.toThrow('Invalid sort key');
      await expect(vtdb.volumeTypeGetAll(db, admin, { sortKeys: ['is_public'], marker: a.id })).rejects.toThrow();
    });
  });

  describe('access', () => {
    it('add / duplicate / remove / remove again / unknown type', async () => {
      const t = await vtdb.volumeTypeCreate(db, { name: 'p', is_public: false });
      await vtdb.volumeTypeAccessAdd(db, t.id, Q);
      await expect(vtdb.volumeTypeAccessAdd(db, t.id, Q)).rejects.toThrow(VolumeTypeAccessExists);
      expect(await vtdb.volumeTypeAccessGetAll(db, t.id)).toEqual([{ volume_type_id: t.id, project_id: Q }]);
      await vtdb.volumeTypeAccessRemove(db, t.id, Q);
      await expect(vtdb.volumeTypeAccessRemove(db, t.id, Q)).rejects.toThrow(VolumeTypeAccessNotFound);
      await vtdb.volumeTypeAccessAdd(db, t.id, Q);
      await vtdb.volumeTypeAccessRemove(db, t.id, Q);
      await vtdb.volumeTypeAccessAdd(db, t.id, Q);
      expect(await vtdb.volumeTypeAccessGetAll(db, t.id)).toHaveLength(1);
      await expect(vtdb.volumeTypeAccessGetAll(db, 'nope')).rejects.toThrow(VolumeTypeNotFound);
      await expect(vtdb.volumeTypeAccessAdd(db, 'nope', Q)).rejects.toThrow(VolumeTypeNotFound);
    });

    it('volume_types.add/remove_volume_type_access refuse public types', async () => {
      const pub = await vtdb.volumeTypeCreate(db, { name: 'pub' });
      const msg = 'Invalid volume type: Type access modification is not applicable to public volume type.';
      await expect(vt.addVolumeTypeAccess(db, admin, pub.id, Q)).rejects.toThrow(msg);
      await expect(vt.removeVolumeTypeAccess(db, admin, pub.id, Q)).rejects.toThrow(msg);
      await expect(vt.addVolumeTypeAccess(db, admin, null, Q)).rejects.toThrow('Invalid volume type: volume_type_id cannot be None');
    });
  });

  describe('extra specs', () => {
    it('update_or_create, get, delete (soft), NotFound', async () => {
      const t = await vtdb.volumeTypeCreate(db, { name: 't', extra_specs: { a: '1' } });
      await vtdb.volumeTypeExtraSpecsUpdateOrCreate(db, t.id, { a: '2', b: '3' });
      expect(await vtdb.volumeTypeExtraSpecsGet(db, t.id)).toEqual({ a: '2', b: '3' });
      await vtdb.volumeTypeExtraSpecsDelete(db, t.id, 'a');
      expect(await vtdb.volumeTypeExtraSpecsGet(db, t.id)).toEqual({ b: '3' });
      await expect(vtdb.volumeTypeExtraSpecsDelete(db, t.id, 'a')).rejects.toThrow(`Volume Type ${t.id} has no extra specs with key a.`);
      await expect(vtdb.volumeTypeExtraSpecsDelete(db, t.id, 'zz')).rejects.toThrow(VolumeTypeExtraSpecsNotFound);
      await vtdb.volumeTypeExtraSpecsUpdateOrCreate(db, t.id, { a: 'again' });
      expect((await vtdb.volumeTypeGet(db, t.id))!.extra_specs).toEqual({ b: '3', a: 'again' });
    });
  });

  describe('default types and lookups', () => {
    it('set updates the row, get/get_all, unset is a hard delete', async () => {
      const a = await vtdb.volumeTypeCreate(db, { name: 'a' });
      const b = await vtdb.volumeTypeCreate(db, { name: 'b' });
      expect(await vtdb.projectDefaultVolumeTypeSet(db, a.id, P)).toMatchObject({ project_id: P, volume_type_id: a.id });
      expect(await vtdb.projectDefaultVolumeTypeSet(db, b.id, P)).toMatchObject({ project_id: P, volume_type_id: b.id });
      expect(await vtdb.projectDefaultTypeId(db, P)).toBe(b.id);
      await vtdb.projectDefaultVolumeTypeSet(db, a.id, Q);
      expect(await vtdb.projectDefaultVolumeTypeGetAll(db)).toHaveLength(2);
      expect(await vtdb.projectsWithDefaultType(db, a.id)).toEqual([expect.objectContaining({ project_id: Q })]);
      await vtdb.projectDefaultVolumeTypeUnset(db, P);
      expect(await vtdb.projectDefaultVolumeTypeGet(db, P)).toBeNull();
      const rows = await db.run((q) => q.select().from(db.t.defaultVolumeTypes));
      expect(rows).toHaveLength(1);
    });

    it('get_by_name_or_id: ids, names, uuid-like names; NotFound vs NotFoundByName', async () => {
      const uuidName = '12345678-1234-4234-8234-123456789abc';
      const t = await vtdb.volumeTypeCreate(db, { name: uuidName });
      const g = await vtdb.volumeTypeCreate(db, { name: 'gold', is_public: false });
      expect((await vt.getByNameOrId(db, admin, t.id)).id).toBe(t.id);
      expect((await vt.getByNameOrId(db, admin, uuidName)).id).toBe(t.id);
      expect((await vt.getByNameOrId(db, admin, 'gold')).id).toBe(g.id);
      // by name a private type is found whoever asks (_volume_type_get_by_name has no access filter) …
      expect((await vt.getByNameOrId(db, member, 'gold')).id).toBe(g.id);
      // … by id it is not
      await expect(vt.getByNameOrId(db, member, g.id)).rejects.toThrow(`Volume type ${g.id} could not be found.`);
      const missing = '99999999-9999-4999-8999-999999999999';
      const e1 = await vt.getByNameOrId(db, admin, missing).catch((e) => e);
      expect(e1).toBeInstanceOf(VolumeTypeNotFound);
      expect(e1).not.toBeInstanceOf(VolumeTypeNotFoundByName);
      const e2 = await vt.getByNameOrId(db, admin, 'nope').catch((e) => e);
      expect(e2).toBeInstanceOf(VolumeTypeNotFoundByName);
      expect(e2.message).toBe('Volume type with name nope could not be found.');
    });

    it('get_default_volume_type: the project default first, then [DEFAULT] default_volume_type', async () => {
      const a = await vtdb.volumeTypeCreate(db, { name: 'a' });
      expect((await vt.getDefaultVolumeType(db, undefined, member)).name).toBe('__DEFAULT__');
      expect((await vt.getDefaultVolumeType(db, { DEFAULT: { default_volume_type: 'a' } }, null)).id).toBe(a.id);
      expect((await vt.getDefaultVolumeType(db, 'a', member)).id).toBe(a.id);
      await expect(vt.getDefaultVolumeType(db, 'missing', null)).rejects.toThrow(
        'The request cannot be fulfilled as the default volume type missing cannot be found.',
      );
      const b = await vtdb.volumeTypeCreate(db, { name: 'b' });
      await vtdb.projectDefaultVolumeTypeSet(db, b.id, P);
      expect((await vt.getDefaultVolumeType(db, 'missing', member)).id).toBe(b.id);
      expect((await vt.getDefaultVolumeType(db, '__DEFAULT__', otherMember)).name).toBe('__DEFAULT__');
    });
  });
});
