import { type RawBuilder, sql } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { LegacySchema } from '../db/legacy-schema.js';

/**
 * Every foreign-key column of orgshift's tables must be indexed (docs/design.md#data-model):
 * PostgreSQL does not index the referencing side, and without the index every
 * anti-join of the audit and every delete of a parent becomes a scan. Read
 * from the catalog, so a dropped or forgotten index shows up as
 * `fk_unindexed` with `table(column, …)` in the sample.
 */
export function fkUnindexedQuery(dialect: Dialect, legacy: LegacySchema): RawBuilder<{ name: string }> {
  const tables = [
    'roles',
    'orgs',
    'users',
    'org_members',
    'migration_failures',
    legacy.usersTable,
    ...legacy.dependents.map((d) => d.table),
  ];
  return dialect === 'postgres' ? postgresQuery(tables) : sqliteQuery(tables);
}

/** An index covers a foreign key when its leading columns are exactly the key's columns, and it is not partial. */
function postgresQuery(tables: readonly string[]): RawBuilder<{ name: string }> {
  return sql<{ name: string }>`
    select t.relname || '(' || (
        select string_agg(a.attname, ', ' order by a.attnum) from pg_attribute a
        where a.attrelid = c.conrelid and a.attnum = any(c.conkey)
      ) || ')' as name
    from pg_constraint c
    join pg_class t on t.oid = c.conrelid
    where c.contype = 'f'
      and t.relnamespace = current_schema()::regnamespace
      and t.relname = any(${[...tables]}::text[])
      and not exists (
        select 1 from pg_index i
        where i.indrelid = c.conrelid and i.indpred is null
          and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
          and c.conkey @> (i.indkey::int2[])[0:cardinality(c.conkey) - 1])
    order by 1`;
}

/** Column by column: the index must hold each key column at the key's position (all keys here have one). */
function sqliteQuery(tables: readonly string[]): RawBuilder<{ name: string }> {
  return sql<{ name: string }>`
    select t.name || '(' || f."from" || ')' as name
    from sqlite_master t, pragma_foreign_key_list(t.name) f
    where t.type = 'table' and t.name in (${sql.join(tables)})
      and not exists (
        select 1 from pragma_index_list(t.name) il, pragma_index_info(il.name) ii
        where il.partial = 0 and ii.seqno = f.seq and ii.name = f."from")
    order by 1`;
}
