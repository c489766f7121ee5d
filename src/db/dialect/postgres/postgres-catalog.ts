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

const FAMILY: Readonly<Record<string, TypeFamily>> = Object.freeze({
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  name: 'text',
  citext: 'text',
  uuid: 'uuid',
  int2: 'integer',
  int4: 'integer',
  int8: 'bigint',
  numeric: 'numeric',
  float4: 'numeric',
  float8: 'numeric',
  bool: 'boolean',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  date: 'date',
  json: 'json',
  jsonb: 'jsonb',
  bytea: 'bytes',
});

const ON_DELETE: Readonly<Record<string, OnDelete>> = Object.freeze({
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
});

interface ColumnRow {
  oid: number;
  schema: string;
  table: string;
  column: string;
  type: string;
  base: string;
  enum: boolean;
  not_null: boolean;
  has_default: boolean;
  generated: boolean;
}

interface IndexRow {
  oid: number;
  name: string;
  columns: string[] | null;
  unique: boolean;
  primary: boolean;
  partial: boolean;
}

interface ForeignKeyRow {
  name: string;
  schema: string;
  table: string;
  columns: string[];
  ref_schema: string;
  ref_table: string;
  ref_columns: string[];
  on_delete: string;
}

/** Reads pg_catalog directly: information_schema hides what the current role does not own. */
export function postgresCatalog(db: Kysely<unknown>): Catalog {
  let schema: Promise<string> | undefined;
  const currentSchema = () => {
    schema ??= sql<{ schema: string }>`select current_schema() as schema`
      .execute(db)
      .then((r) => r.rows[0]?.schema ?? 'public')
      .catch((error: unknown) => {
        schema = undefined;
        throw error;
      });
    return schema;
  };
  const oidsOf = (names: readonly QualifiedName[], defaultSchema: string) => {
    const schemas = names.map((n) => n.schema ?? defaultSchema);
    const tables = names.map((n) => n.name);
    return sql`(select c.oid from pg_class c join pg_namespace ns on ns.oid = c.relnamespace
      join unnest(${schemas}::text[], ${tables}::text[]) as want(schema, name)
        on want.schema = ns.nspname and want.name = c.relname
      where c.relkind in ('r', 'p', 'v', 'm', 'f'))`;
  };
  return {
    async describe(names) {
      const defaultSchema = await currentSchema();
      if (names.length === 0) return snapshotOf(new Map(), defaultSchema);
      const oids = oidsOf(names, defaultSchema);
      const columns = await sql<ColumnRow>`
        select c.oid::int as oid, ns.nspname as schema, c.relname as table, a.attname as column,
          format_type(a.atttypid, a.atttypmod) as type,
          coalesce(bt.typname, t.typname) as base, t.typtype = 'e' as enum,
          a.attnotnull as not_null, a.atthasdef as has_default,
          (a.attidentity <> '' or a.attgenerated <> '') as generated
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        join pg_namespace ns on ns.oid = c.relnamespace
        join pg_type t on t.oid = a.atttypid
        left join pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
        where a.attrelid in ${oids} and a.attnum > 0 and not a.attisdropped
        order by c.oid, a.attnum`.execute(db);
      const indexes = await sql<IndexRow>`
        select i.indrelid::int as oid, ic.relname as name, i.indisunique as unique, i.indisprimary as primary,
          i.indpred is not null as partial,
          (select array_agg(a.attname::text order by k.ord) from unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
            join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
            where k.ord <= i.indnkeyatts) as columns
        from pg_index i join pg_class ic on ic.oid = i.indexrelid
        where i.indrelid in ${oids}`.execute(db);
      const foreignKeys = await foreignKeysWhere(db, sql`con.conrelid in ${oids}`);
      return snapshotOf(assemble(columns.rows, indexes.rows, foreignKeys, defaultSchema), defaultSchema);
    },
    async referencing(table) {
      return foreignKeysWhere(db, sql`con.confrelid in ${oidsOf([table], await currentSchema())}`);
    },
    async tables() {
      const rows = await sql<{ schema: string; name: string }>`
        select ns.nspname as schema, c.relname as name from pg_class c
        join pg_namespace ns on ns.oid = c.relnamespace
        where c.relkind in ('r', 'p') and ns.nspname not in ('pg_catalog', 'information_schema')
          and ns.nspname not like 'pg_toast%'
        order by 1, 2`.execute(db);
      return rows.rows.map((r) => Object.freeze({ schema: r.schema, name: r.name }));
    },
  };
}

async function foreignKeysWhere(db: Kysely<unknown>, condition: ReturnType<typeof sql>): Promise<ForeignKeyInfo[]> {
  const rows = await sql<ForeignKeyRow>`
    select con.conname as name, ns.nspname as schema, c.relname as table,
      (select array_agg(a.attname::text order by k.ord) from unnest(con.conkey) with ordinality as k(attnum, ord)
        join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as columns,
      rns.nspname as ref_schema, rc.relname as ref_table,
      (select array_agg(a.attname::text order by k.ord) from unnest(con.confkey) with ordinality as k(attnum, ord)
        join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as ref_columns,
      con.confdeltype as on_delete
    from pg_constraint con
    join pg_class c on c.oid = con.conrelid join pg_namespace ns on ns.oid = c.relnamespace
    join pg_class rc on rc.oid = con.confrelid join pg_namespace rns on rns.oid = rc.relnamespace
    where con.contype = 'f' and ${condition}
    order by 2, 3, 1`.execute(db);
  return rows.rows.map((r) =>
    Object.freeze({
      name: r.name,
      table: Object.freeze({ schema: r.schema, name: r.table }),
      columns: Object.freeze(r.columns),
      references: Object.freeze({ schema: r.ref_schema, name: r.ref_table }),
      referencedColumns: Object.freeze(r.ref_columns),
      onDelete: ON_DELETE[r.on_delete] ?? 'no action',
    }),
  );
}

function familyOf(row: ColumnRow): TypeFamily {
  if (row.enum) return 'text';
  return FAMILY[row.base] ?? 'other';
}

function assemble(
  columns: readonly ColumnRow[],
  indexes: readonly IndexRow[],
  foreignKeys: readonly ForeignKeyInfo[],
  defaultSchema: string,
): Map<string, TableInfo> {
  const byOid = new Map<number, { name: QualifiedName; columns: ColumnInfo[] }>();
  for (const row of columns) {
    let table = byOid.get(row.oid);
    if (table === undefined) {
      table = { name: Object.freeze({ schema: row.schema, name: row.table }), columns: [] };
      byOid.set(row.oid, table);
    }
    table.columns.push(
      Object.freeze({
        name: row.column,
        type: row.type,
        family: familyOf(row),
        nullable: !row.not_null,
        hasDefault: row.has_default,
        generated: row.generated,
      }),
    );
  }
  const result = new Map<string, TableInfo>();
  for (const [oid, table] of byOid) {
    const own: IndexInfo[] = indexes
      .filter((i) => i.oid === oid)
      .map((i) =>
        Object.freeze({
          name: i.name,
          columns: Object.freeze(i.columns ?? []),
          unique: i.unique,
          primary: i.primary,
          partial: i.partial,
        }),
      );
    const fks = foreignKeys.filter((fk) => fk.table.schema === table.name.schema && fk.table.name === table.name.name);
    result.set(
      catalogKey(table.name, defaultSchema),
      Object.freeze({
        name: table.name,
        columns: Object.freeze(table.columns),
        indexes: Object.freeze(own),
        foreignKeys: Object.freeze(fks),
      }),
    );
  }
  return result;
}
