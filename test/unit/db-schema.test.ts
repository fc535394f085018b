// The SQLite and MariaDB table definitions (src/db/schema.ts, src/db/schema-mysql.ts) describe the
// same tables: this fails when a column, its nullability, default, kind, an index or a foreign key
// is added or changed on one side only.
import { describe, expect, it } from 'vitest';
import { getTableConfig as sqliteConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { getTableConfig as mysqlConfig, type MySqlTable } from 'drizzle-orm/mysql-core';
import * as sqlite from '../../src/db/schema.js';
import * as mysql from '../../src/db/schema-mysql.js';

const TABLES = [
  'volumes', 'volumeAttachment', 'volumeAdminMetadata', 'volumeMetadata', 'services', 'workers',
  'volumeTypes', 'volumeTypeExtraSpecs', 'volumeTypeProjects', 'defaultVolumeTypes', 'qualityOfServiceSpecs', 'encryption',
  'quotas', 'quotaClasses', 'quotaUsages', 'reservations', 'transfers', 'messages',
] as const;

/** The kind a column stores, in words both dialects map to. */
function kind(dialect: 'sqlite' | 'mysql', c: { columnType: string; name: string }): string {
  const t = c.columnType;
  if (dialect === 'sqlite') {
    if (t === 'SQLiteBoolean') return 'boolean';
    if (t === 'SQLiteInteger') return 'integer';
    // SQLite stores SQLAlchemy's DateTime as text: the column's name tells a timestamp apart.
    if (t === 'SQLiteText') return /_(at|time)$|^expire$/.test(c.name) ? 'datetime' : 'string';
  } else {
    if (t === 'MySqlBoolean') return 'boolean';
    if (t === 'MySqlInt') return 'integer';
    if (t === 'MySqlDateTimeString' || t === 'MySqlDateTime') return 'datetime';
    if (t === 'MySqlVarChar' || t === 'MySqlText') return 'string';
  }
  return `unknown ${t}`;
}

function describeTable(dialect: 'sqlite' | 'mysql', table: SQLiteTable | MySqlTable) {
  const cfg = dialect === 'sqlite' ? sqliteConfig(table as SQLiteTable) : mysqlConfig(table as MySqlTable);
  return {
    name: cfg.name,
    columns: Object.fromEntries(
      cfg.columns.map((c) => [
        c.name,
        { kind: kind(dialect, c), notNull: c.notNull, primary: c.primary, default: c.hasDefault ? c.default : undefined },
      ]),
    ),
    indexes: cfg.indexes.map((i) => ({ name: i.config.name, unique: !!i.config.unique, on: i.config.columns.map((c) => (c as { name: string }).name) })),
    uniques: cfg.uniqueConstraints.map((u) => ({ name: u.name, on: u.columns.map((c) => c.name) })),
    foreignKeys: cfg.foreignKeys.map((f) => {
      const r = f.reference();
      return { from: r.columns.map((c) => c.name), to: r.foreignColumns.map((c) => c.name) };
    }),
  };
}

describe('the SQLite and MariaDB schemas', () => {
  it.each(TABLES)('%s: the same columns, kinds, nullability, defaults, keys and indexes', (name) => {
    const a = describeTable('sqlite', sqlite[name]);
    const b = describeTable('mysql', mysql[name]);
    expect(Object.values(a.columns).map((c) => c.kind)).not.toContain(expect.stringMatching(/^unknown/));
    expect(Object.values(b.columns).map((c) => c.kind)).not.toContain(expect.stringMatching(/^unknown/));
    expect(b).toEqual(a);
  });

  it('name the same tables', () => {
    const names = (m: Record<string, unknown>, cfg: (t: never) => { name: string }) =>
      Object.values(m)
        .filter((v) => typeof v === 'object' && v !== null && Symbol.for('drizzle:IsDrizzleTable') in (v as object))
        .map((t) => cfg(t as never).name)
        .sort();
    expect(names(mysql, mysqlConfig as never)).toEqual(names(sqlite, sqliteConfig as never));
    expect(names(sqlite, sqliteConfig as never)).toHaveLength(TABLES.length);
  });
});
