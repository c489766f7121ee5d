import { type RawBuilder, sql } from 'kysely';
import type { ColumnInfo, TableInfo } from '../schema-map/catalog.js';
import { columnOf } from '../schema-map/catalog.js';
import type { MapModel } from '../schema-map/map-model.js';
import type { ResolvedMap } from '../schema-map/schema-check.js';
import type { QualifiedName } from '../schema-map/table-name.js';
import type { SqlDialect } from './dialect/dialect.js';

/**
 * The map's vocabulary in SQL: quoted table names, the marker's meaning,
 * and how a legacy key meets an id column of another type. Every statement
 * that touches the team's tables is built from this, so table and column
 * names appear nowhere else.
 */
export class MapSql {
  readonly legacy: string;
  readonly org: string;
  readonly user: string;
  readonly membership: string;
  readonly roles: string | null;

  constructor(
    readonly resolved: ResolvedMap,
    readonly dialect: SqlDialect,
  ) {
    const m = resolved.model;
    this.legacy = dialect.table(m.legacy.table);
    this.org = dialect.table(m.org.table);
    this.user = dialect.table(m.user.table);
    this.membership = dialect.table(m.membership.table);
    this.roles = m.membership.role.kind === 'table' ? dialect.table(m.membership.role.table) : null;
  }

  get model() {
    return this.resolved.model;
  }

  table(name: QualifiedName): string {
    return this.dialect.table(name);
  }

  /** `alias."column"`. */
  col(alias: string, column: string): string {
    return `${alias}.${this.dialect.quote(column)}`;
  }

  q(identifier: string): string {
    return this.dialect.quote(identifier);
  }

  /** The legacy key column of `alias`. */
  key(alias = 'l'): string {
    return this.col(alias, this.model.legacy.key.column);
  }

  /** True when the legacy row of `alias` says it was migrated. */
  marked(alias = 'l'): string {
    const m = this.model;
    const marker = m.legacy.marker;
    switch (marker.type) {
      case 'timestamp':
        return `(${this.col(alias, marker.column)} is not null)`;
      case 'boolean':
        return `(${this.col(alias, marker.column)} is true)`;
      case 'derived':
        return derivedMigrated(m, this.dialect, (key) => this.keyAs(key, this.resolved.user, m.user.id), alias);
    }
  }

  /** True when the legacy row of `alias` is still to be migrated. */
  pending(alias = 'l'): string {
    const marker = this.model.legacy.marker;
    switch (marker.type) {
      case 'timestamp':
        return `${this.col(alias, marker.column)} is null`;
      case 'boolean':
        return `${this.col(alias, marker.column)} is not true`;
      case 'derived':
        return `not ${this.marked(alias)}`;
    }
  }

  /** The marker's timestamp, where there is one (else SQL null). */
  markedAt(alias = 'l'): string {
    const marker = this.model.legacy.marker;
    return marker.type === 'timestamp' ? this.col(alias, marker.column) : 'null';
  }

  /** A column of a legacy table, for type lookups. */
  legacyColumn(name: string): ColumnInfo | undefined {
    return columnOf(this.resolved.legacy, name);
  }

  /** A legacy key expression as a value of `table.column`'s type (see keyAsColumn). */
  keyAs(expression: string, table: TableInfo, column: string): string {
    return keyAsColumn(
      this.dialect,
      this.legacyColumn(this.model.legacy.key.column),
      columnOf(table, column),
      expression,
    );
  }

  /** A bound value typed as `table.column` (parameters arrive as text otherwise). */
  param(value: unknown, table: TableInfo, column: string): RawBuilder<unknown> {
    const type = columnOf(table, column)?.type;
    if (type === undefined) return sql`${value}`;
    const [before = '', after = ''] = this.dialect.cast('\u0000', type).split('\u0000');
    return sql`${sql.raw(before)}${value}${sql.raw(after)}`;
  }

  /** A constant from the map as an SQL literal (strings quoted, booleans in the dialect's spelling). */
  literal(value: string | number | boolean): string {
    if (typeof value === 'boolean') return value ? this.dialect.trueLiteral : this.dialect.falseLiteral;
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
    return `'${value.replaceAll("'", "''")}'`;
  }

  /** Any column as text, to meet a key of another type (byte-wise). */
  asText(expression: string): string {
    return this.dialect.asText(expression);
  }
}

/**
 * True when the legacy row of `alias` is migrated as a derived marker
 * defines it: its target rows exist (moved: a user row with its key; in
 * place: the user's org column is set). `keyAs` turns the legacy key into a
 * value of the user id column. Also how `db migrate` finds the rows already
 * migrated when it adds a marker column.
 */
export function derivedMigrated(
  model: MapModel,
  dialect: SqlDialect,
  keyAs: (key: string) => string,
  alias: string,
): string {
  const col = (a: string, column: string) => `${a}.${dialect.quote(column)}`;
  if (model.shape === 'in-place') return `(${col(alias, model.user.currentOrg)} is not null)`;
  const key = keyAs(col(alias, model.legacy.key.column));
  return `exists (select 1 from ${dialect.table(model.user.table)} mu where ${col('mu', model.user.id)} = ${key})`;
}

/**
 * A legacy key expression as a value of the `target` column's type. Same type
 * family: as is. Text keys against a uuid or integer column: converted,
 * with a cheap guard that turns text which cannot be converted into NULL
 * instead of failing the whole statement (keys orgshift wrote were
 * validated; the guard is for the rows it has not looked at yet).
 */
export function keyAsColumn(
  dialect: SqlDialect,
  source: ColumnInfo | undefined,
  target: ColumnInfo | undefined,
  expression: string,
): string {
  if (target === undefined || source === undefined || target.family === source.family) return expression;
  return dialect.convertKey(expression, source.family, target.family, target.type);
}
