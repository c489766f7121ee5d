import { type RawBuilder, sql } from 'kysely';
import type { Database, Executor, Row } from '../../db/database.js';
import type { MapSql } from '../../db/map-sql.js';
import type { ForeignKeyInfo, TableInfo } from '../../schema-map/catalog.js';
import { columnOf } from '../../schema-map/catalog.js';
import { labelOf, type QualifiedName, sameTable } from '../../schema-map/table-name.js';

/** Rows a rollback would have to delete or orphan: it refuses instead, naming where they are. */
export interface ForeignReference {
  readonly table: string;
  readonly rows: number;
  /** The row of ours they point at. */
  readonly references: 'personal org' | 'user' | 'membership';
}

interface Deleted {
  readonly what: ForeignReference['references'];
  readonly table: QualifiedName;
  readonly row: Row;
}

/**
 * Every row, in any table the catalog knows, whose foreign key points at a
 * row the rollback deletes (the personal org, the moved user row, the owner
 * membership), except the rows orgshift itself re-points or deletes: the
 * user's own dependent rows, the copies it made, its own membership and user
 * row. Whatever the foreign key says on delete: CASCADE would delete data
 * the legacy model has no place for, SET NULL would orphan it, and NO
 * ACTION would fail the rollback half-way.
 */
export async function foreignReferences(
  trx: Executor,
  db: Database,
  m: MapSql,
  key: string,
  deleted: { readonly org: Row | null; readonly user: Row | null; readonly membership: Row | null },
): Promise<ForeignReference[]> {
  const model = m.model;
  const rows: Deleted[] = [];
  if (deleted.org) rows.push({ what: 'personal org', table: model.org.table, row: deleted.org });
  if (deleted.user && model.shape === 'moved') rows.push({ what: 'user', table: model.user.table, row: deleted.user });
  if (deleted.membership) rows.push({ what: 'membership', table: model.membership.table, row: deleted.membership });
  const found: ForeignReference[] = [];
  const catalog = db.catalogOn(trx);
  for (const target of rows) {
    for (const fk of await catalog.referencing(target.table)) {
      const referencing = (await catalog.describe([fk.table])).get(fk.table);
      if (referencing === undefined) continue;
      const n = await countReferencing(trx, m, key, target, fk, referencing);
      if (n > 0) found.push({ table: labelOf(fk.table), rows: n, references: target.what });
    }
  }
  return found;
}

async function countReferencing(
  trx: Executor,
  m: MapSql,
  key: string,
  target: Deleted,
  fk: ForeignKeyInfo,
  table: TableInfo,
): Promise<number> {
  const alias = 'r';
  const values = fk.referencedColumns.map((c) => target.row[c]);
  if (values.some((v) => v === null || v === undefined)) return 0;
  const matches = fk.columns.map((c, i) => sql`${sql.raw(m.col(alias, c))} = ${m.param(values[i], table, c)}`);
  const ours = ownRows(m, key, fk, table, alias);
  const result = await sql<{ n: number | string }>`
    select count(*) as n from ${sql.raw(m.table(fk.table))} ${sql.raw(alias)}
    where ${sql.join(matches, sql` and `)}${ours === null ? sql`` : sql` and not (${ours})`}`.execute(trx);
  return Number(result.rows[0]?.n ?? 0);
}

/** Which of the referencing rows the rollback handles itself (an SQL condition on alias `r`), or null for none. */
function ownRows(m: MapSql, key: string, fk: ForeignKeyInfo, table: TableInfo, r: string): RawBuilder<unknown> | null {
  const model = m.model;
  const same = (name: QualifiedName) => sameTable(fk.table, name, m.resolved.catalog.defaultSchema);
  if (same(model.membership.table)) {
    // The user's own membership is deleted; any other one was refused already (other members, other orgs).
    return sql`${sql.raw(m.col(r, model.membership.user))} = ${m.param(key, table, model.membership.user)}`;
  }
  if (same(model.user.table) && (model.shape === 'moved' || same(model.legacy.table))) {
    return sql`${sql.raw(m.col(r, model.user.id))} = ${m.param(key, table, model.user.id)}`;
  }
  if (same(model.org.table)) {
    // The personal org itself (its owner column points at the user).
    const link = model.org.id.generate === 'user-key' ? model.org.id.column : (model.org.owner as string);
    return sql`${sql.raw(m.col(r, link))} = ${m.param(key, table, link)}`;
  }
  for (const [n, d] of model.dependents.entries()) {
    if (d.org && same(d.table) && fk.columns.includes(d.org.column)) {
      return userRowsOf(m, key, d.userKey.column, d.userKey.references, table, r);
    }
    const copy = m.resolved.dependents[n]?.copy;
    if (d.copyTo && copy && same(d.copyTo.table)) return copiesOf(m, key, n, r);
  }
  return null;
}

/** Rows of the user (by its key, or by the legacy column the dependent references). */
function userRowsOf(
  m: MapSql,
  key: string,
  column: string,
  references: string,
  table: TableInfo,
  r: string,
): RawBuilder<unknown> {
  if (references === m.model.legacy.key.column)
    return sql`${sql.raw(m.col(r, column))} = ${m.param(key, table, column)}`;
  return sql`${sql.raw(m.col(r, column))} in (select ${sql.raw(m.col('l', references))} from ${sql.raw(m.legacy)} l where ${sql.raw(m.key('l'))} = ${key})`;
}

/** Copies orgshift made of the user's rows: recognized by their conflict columns, or by the user key they carry. */
function copiesOf(m: MapSql, key: string, n: number, r: string): RawBuilder<unknown> | null {
  const d = m.model.dependents[n];
  const copy = m.resolved.dependents[n]?.copy;
  const source = m.resolved.dependents[n]?.table;
  if (d?.copyTo === undefined || d.copyTo === null || !copy || !source) return null;
  const byColumn = d.copyTo.conflict.flatMap((name) => {
    const field = d.copyTo?.columns.find((c) => c.column === name)?.source;
    return field?.kind === 'column' ? [[name, field.column] as const] : [];
  });
  if (byColumn.length > 0 && byColumn.length === d.copyTo.conflict.length) {
    const matches = byColumn.map(([name, from]) => {
      const type = columnOf(copy, name)?.type;
      const value = m.col('d', from);
      return `${m.col(r, name)} = ${type ? m.dialect.cast(value, type) : value}`;
    });
    return sql`exists (select 1 from ${sql.raw(m.table(d.table))} d where ${userRowsOf(m, key, d.userKey.column, d.userKey.references, source, 'd')} and ${sql.raw(matches.join(' and '))})`;
  }
  const carrier = d.copyTo.columns.find((c) => c.source.kind === 'user-key');
  return carrier ? sql`${sql.raw(m.col(r, carrier.column))} = ${m.param(key, copy, carrier.column)}` : null;
}
