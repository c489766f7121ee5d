import { type Kysely, sql } from 'kysely';
import {
  type Catalog,
  type ColumnInfo,
  catalogKey,
  type ForeignKeyInfo,
  type IndexInfo,
  type OnDelete,
  snapshotOf,
  type TableInfo,
  type TypeFamily,
} from '../../../schema-map/catalog.js';
import type { QualifiedName } from '../../../schema-map/table-name.js';

const DEFAULT_SCHEMA = 'main';

/** SQLite's type affinity rules, refined by the names people declare (json, uuid, boolean, timestamp). */
export function sqliteFamily(declared: string): TypeFamily {
  const type = declared.toLowerCase();
  if (type === '') return 'other';
  if (type.includes('json')) return 'json';
  if (type.includes('uuid')) return 'uuid';
  if (type.includes('bool')) return 'boolean';
  if (type.includes('timestamp') || type.includes('datetime')) return 'timestamptz';
  if (type === 'date') return 'date';
  if (type.includes('bigint')) return 'bigint';
  if (type.includes('int')) return 'integer';
  if (type.includes('char') || type.includes('clob') || type.includes('text')) return 'text';
  if (type.includes('blob')) return 'bytes';
  if (/real|floa|doub|num|dec/.test(type)) return 'numeric';
  return 'other';
}

interface ColumnRow {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
  hidden: number;
}

/** pragma_* table-valued functions; `schema` is 'main' or an attached database. */
export function sqliteCatalog(db: Kysely<unknown>): Catalog {
  const describeOne = async (name: QualifiedName): Promise<TableInfo | null> => {
    const schema = name.schema ?? DEFAULT_SCHEMA;
    const columns = await sql<ColumnRow>`select * from pragma_table_xinfo(${name.name}, ${schema})`.execute(db);
    if (columns.rows.length === 0) return null;
    const primaryKey = columns.rows.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const rowidAlias = primaryKey.length === 1 && primaryKey[0]?.type.toLowerCase() === 'integer';
    const indexList = await sql<{ name: string; unique: number; origin: string; partial: number }>`
      select name, "unique", origin, partial from pragma_index_list(${name.name}, ${schema})`.execute(db);
    const indexes: IndexInfo[] = [];
    for (const index of indexList.rows) {
      const info = await sql<{ name: string | null; seqno: number }>`
        select name, seqno from pragma_index_info(${index.name}, ${schema}) order by seqno`.execute(db);
      indexes.push(
        Object.freeze({
          name: index.name,
          columns: Object.freeze(info.rows.map((r) => r.name).filter((n): n is string => n !== null)),
          unique: index.unique === 1,
          primary: index.origin === 'pk',
          partial: index.partial === 1,
        }),
      );
    }
    if (rowidAlias && primaryKey[0]) {
      indexes.push(
        Object.freeze({
          name: 'rowid',
          columns: Object.freeze([primaryKey[0].name]),
          unique: true,
          primary: true,
          partial: false,
        }),
      );
    }
    const info: ColumnInfo[] = columns.rows.map((c) =>
      Object.freeze({
        name: c.name,
        type: c.type,
        family: sqliteFamily(c.type),
        // SQLite lets a non-integer primary key hold NULL unless declared NOT NULL; integer rowid aliases never do.
        nullable: c.notnull === 0 && !(rowidAlias && c.pk === 1),
        hasDefault: c.dflt_value !== null,
        generated: c.hidden === 2 || c.hidden === 3 || (rowidAlias && c.pk === 1),
      }),
    );
    const qualified = Object.freeze({ schema, name: name.name });
    return Object.freeze({
      name: qualified,
      columns: Object.freeze(info),
      indexes: Object.freeze(indexes),
      foreignKeys: Object.freeze(await foreignKeysOf(db, qualified)),
    });
  };
  return {
    async describe(names) {
      const result = new Map<string, TableInfo>();
      for (const name of names) {
        const table = await describeOne(name);
        if (table !== null) result.set(catalogKey(table.name, DEFAULT_SCHEMA), table);
      }
      return snapshotOf(result, DEFAULT_SCHEMA);
    },
    async referencing(table) {
      const target = table.name;
      const all: ForeignKeyInfo[] = [];
      for (const name of await listTables(db)) {
        for (const fk of await foreignKeysOf(db, name)) {
          if (fk.references.name === target && fk.references.schema === (table.schema ?? DEFAULT_SCHEMA)) all.push(fk);
        }
      }
      return all;
    },
    tables: () => listTables(db),
  };
}

async function listTables(db: Kysely<unknown>): Promise<QualifiedName[]> {
  const rows = await sql<{ name: string }>`
    select name from sqlite_schema where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
  return rows.rows.map((r) => Object.freeze({ schema: DEFAULT_SCHEMA, name: r.name }));
}

const ON_DELETE: Readonly<Record<string, OnDelete>> = Object.freeze({
  'NO ACTION': 'no action',
  RESTRICT: 'restrict',
  CASCADE: 'cascade',
  'SET NULL': 'set null',
  'SET DEFAULT': 'set default',
});

async function foreignKeysOf(db: Kysely<unknown>, table: QualifiedName): Promise<ForeignKeyInfo[]> {
  const schema = table.schema ?? DEFAULT_SCHEMA;
  const rows = await sql<{
    id: number;
    seq: number;
    table: string;
    from: string;
    to: string | null;
    on_delete: string;
  }>`
    select id, seq, "table", "from", "to", on_delete from pragma_foreign_key_list(${table.name}, ${schema})
    order by id, seq`.execute(db);
  const byId = new Map<number, { table: string; from: string[]; to: (string | null)[]; onDelete: string }>();
  for (const row of rows.rows) {
    const fk = byId.get(row.id) ?? { table: row.table, from: [], to: [], onDelete: row.on_delete };
    fk.from.push(row.from);
    fk.to.push(row.to);
    byId.set(row.id, fk);
  }
  const result: ForeignKeyInfo[] = [];
  for (const [id, fk] of byId) {
    const references = Object.freeze({ schema, name: fk.table });
    // A foreign key that names no columns points at the parent's primary key.
    const referencedColumns = fk.to.every((c) => c !== null) ? (fk.to as string[]) : await primaryKeyOf(db, references);
    result.push(
      Object.freeze({
        name: `${table.name}_fk_${id}`,
        table: Object.freeze({ schema, name: table.name }),
        columns: Object.freeze(fk.from),
        references,
        referencedColumns: Object.freeze(referencedColumns),
        onDelete: ON_DELETE[fk.onDelete.toUpperCase()] ?? 'no action',
      }),
    );
  }
  return result;
}

async function primaryKeyOf(db: Kysely<unknown>, table: QualifiedName): Promise<string[]> {
  const rows = await sql<{ name: string; pk: number }>`
    select name, pk from pragma_table_info(${table.name}, ${table.schema ?? DEFAULT_SCHEMA}) where pk > 0 order by pk`.execute(
    db,
  );
  return rows.rows.map((r) => r.name);
}
