import { type RawBuilder, sql } from 'kysely';
import type { Executor, SetWrite } from '../db/database.js';
import type { MapSql } from '../db/map-sql.js';
import { FAILURES_TABLE } from '../db/own-tables.js';
import { columnOf } from '../schema-map/catalog.js';
import type { DependentModel } from '../schema-map/map-model.js';
import { recordMigrations } from './in-place-record.js';
import type { MigrationContext } from './migration-context.js';
import type { PlannedUser } from './plan.js';

/**
 * Writes the organization side of the planned users and flips their
 * markers, set-based: the statements are the same for one user (a
 * just-in-time migration) and for a backfill batch of thousands, so neither
 * pays a round trip per user per table. Returns how many users the fence
 * counted; the caller compares it with the number planned.
 *
 * The fence is the marker's conditional flip (only rows still pending are
 * touched), or, with a derived marker, the insert of the user row (moved:
 * its unique id refuses a second one) or the conditional set of its org
 * column (in place).
 *
 * The users travel as one JSON parameter: one bind value whatever their
 * number, and every value typed by its own column on the way in.
 */
export async function writeMigration(
  trx: Executor,
  ctx: MigrationContext,
  users: readonly PlannedUser[],
): Promise<number> {
  if (users.length === 0) return 0;
  const payload = JSON.stringify(users.map((u) => u.payload));
  return ctx.db.runSetWrites(trx, payload, (source) => migrationWrites(ctx.sql, source));
}

/** In foreign-key order: SQLite checks each statement as it runs. */
function migrationWrites(m: MapSql, source: RawBuilder<unknown>): SetWrite[] {
  const model = m.model;
  const writes: SetWrite[] = [insertFrom(m, source, 'o', m.org, model.org.table, payloadColumns(m, 'o'))];
  const derived = model.legacy.marker.type === 'derived';
  if (model.shape === 'moved') {
    writes.push({ ...insertFrom(m, source, 'u', m.user, model.user.table, payloadColumns(m, 'u')), counted: derived });
  } else {
    writes.push({ sql: updateUserInPlace(m, source), counted: true });
  }
  writes.push(insertFrom(m, source, 'm', m.membership, model.membership.table, payloadColumns(m, 'm')));
  model.dependents.forEach((d, n) => {
    if (d.org) writes.push({ sql: repointDependent(m, source, d, n) });
    if (d.copyTo) writes.push({ sql: copyDependent(m, source, d, n) });
  });
  writes.push({
    sql: sql`delete from ${sql.raw(FAILURES_TABLE)} where kind = 'key' and subject in (select ${sql.raw(m.dialect.payloadKey)} from ${source})`,
  });
  if (model.shape === 'in-place') writes.push({ sql: recordMigrations(m, source) });
  if (!derived && model.shape === 'moved') writes.push({ sql: markLegacyRows(m, source), counted: true });
  return writes;
}

/** The columns a payload group carries, in a stable order (the statement text must not vary per batch). */
export function payloadColumns(m: MapSql, group: 'o' | 'u' | 'm'): string[] {
  const model = m.model;
  switch (group) {
    case 'o':
      return unique([
        model.org.id.column,
        ...(model.org.kind ? [model.org.kind.column] : []),
        ...(model.org.owner ? [model.org.owner] : []),
        ...model.org.fields.map((f) => f.column),
      ]);
    case 'u':
      return unique([
        model.user.id,
        model.user.currentOrg,
        ...(model.user.migratedAt ? [model.user.migratedAt] : []),
        ...model.user.fields.map((f) => f.column),
      ]);
    case 'm':
      return unique([
        model.membership.org,
        model.membership.user,
        model.membership.role.column,
        ...(model.membership.status ? [model.membership.status.column] : []),
        ...(model.membership.id ? [model.membership.id.column] : []),
        ...model.membership.fields.map((f) => f.column),
      ]);
  }
}

function unique(columns: string[]): string[] {
  return [...new Set(columns)];
}

export function insertFrom(
  m: MapSql,
  source: RawBuilder<unknown>,
  group: string,
  table: string,
  name: Parameters<MapSql['table']>[0],
  columns: readonly string[],
): SetWrite {
  const alias = `p${group}`;
  const list = columns.map((c) => m.q(c)).join(', ');
  const values = columns.map((c) => m.dialect.payloadValue(group, alias, c)).join(', ');
  const record = m.dialect.payloadRecord(group, m.table(name), alias);
  return {
    sql: sql`insert into ${sql.raw(table)} (${sql.raw(list)}) select ${sql.raw(values)} from ${source} ${sql.raw(record)}`,
  };
}

/**
 * In place, the user row is the legacy row: it gets its org column (and any
 * mapped fields) and, in the same update, its marker. Only a row still
 * pending is touched, so this update is the fence.
 */
function updateUserInPlace(m: MapSql, source: RawBuilder<unknown>): RawBuilder<unknown> {
  const model = m.model;
  const alias = 'pu';
  const columns = unique([model.user.currentOrg, ...model.user.fields.map((f) => f.column)]);
  const sets = columns.map((c) => `${m.q(c)} = ${m.dialect.payloadValue('u', alias, c)}`);
  const marker = model.legacy.marker;
  if (marker.type !== 'derived') sets.push(`${m.q(marker.column)} = ${markerValue(m)}`);
  const record = m.dialect.payloadRecord('u', m.user, alias);
  return sql`update ${sql.raw(m.user)} as l set ${sql.raw(sets.join(', '))}
    from ${source} ${sql.raw(record)}
    where ${sql.raw(m.key('l'))} = ${sql.raw(m.dialect.payloadValue('u', alias, model.user.id))} and ${sql.raw(m.pending('l'))}`;
}

/** The fence of the moved shape: only a row still unmarked is flipped, so two migrations of one user never both count it. */
function markLegacyRows(m: MapSql, source: RawBuilder<unknown>): RawBuilder<unknown> {
  const marker = m.model.legacy.marker;
  if (marker.type === 'derived') throw new TypeError('a derived marker has nothing to flip');
  const alias = 'pl';
  const record = m.dialect.payloadRecord('l', m.legacy, alias);
  return sql`update ${sql.raw(m.legacy)} as l set ${sql.raw(`${m.q(marker.column)} = ${markerValue(m)}`)}
    from ${source} ${sql.raw(record)}
    where ${sql.raw(m.key('l'))} = ${sql.raw(m.dialect.payloadValue('l', alias, m.model.legacy.key.column))} and ${sql.raw(m.pending('l'))}`;
}

function markerValue(m: MapSql): string {
  const marker = m.model.legacy.marker;
  return marker.type === 'timestamp' ? m.dialect.now : m.dialect.trueLiteral;
}

/** Points every row of the user at the personal org (with keepAssigned: every row not in an org yet). */
function repointDependent(m: MapSql, source: RawBuilder<unknown>, d: DependentModel, n: number): RawBuilder<unknown> {
  const table = m.table(d.table);
  const group = `d${n}`;
  const alias = `p${group}`;
  const orgColumn = (d.org as NonNullable<DependentModel['org']>).column;
  const record = m.dialect.payloadRecord(group, table, alias);
  const unassigned = d.org?.keepAssigned ? ` and ${m.col('d', orgColumn)} is null` : '';
  return sql`update ${sql.raw(table)} as d set ${sql.raw(`${m.q(orgColumn)} = ${m.dialect.payloadValue(group, alias, orgColumn)}`)}
    from ${source} ${sql.raw(record)}
    where ${sql.raw(m.col('d', d.userKey.column))} = ${sql.raw(m.dialect.payloadValue(group, alias, d.userKey.column))}${sql.raw(unassigned)}`;
}

/**
 * Copies every row of the user into the copy table. Columns copied from the
 * row are converted to the copy's column type; the rest (the org id, the
 * user key, constants) come typed from the payload. A copy that exists
 * already (same conflict key) is left alone. (`where true`: SQLite cannot
 * tell an upsert's ON from a join's without it.)
 */
function copyDependent(m: MapSql, source: RawBuilder<unknown>, d: DependentModel, n: number): RawBuilder<unknown> {
  const copy = d.copyTo as NonNullable<DependentModel['copyTo']>;
  const table = m.table(d.table);
  const target = m.table(copy.table);
  const copyInfo = m.resolved.dependents[n]?.copy ?? null;
  const keyGroup = `d${n}`;
  const valueGroup = `e${n}`;
  const keyAlias = `p${keyGroup}`;
  const valueAlias = `p${valueGroup}`;
  const values = copy.columns.map((c) => {
    if (c.source.kind !== 'column') return m.dialect.payloadValue(valueGroup, valueAlias, c.column);
    const type = copyInfo ? columnOf(copyInfo, c.column)?.type : undefined;
    const value = m.col('d', c.source.column);
    return type === undefined ? value : m.dialect.cast(value, type);
  });
  const list = copy.columns.map((c) => m.q(c.column)).join(', ');
  const conflict =
    copy.conflict.length > 0 ? `on conflict (${copy.conflict.map((c) => m.q(c)).join(', ')}) do nothing` : '';
  const records = `${m.dialect.payloadRecord(keyGroup, table, keyAlias)} ${m.dialect.payloadRecord(valueGroup, target, valueAlias)}`;
  return sql`insert into ${sql.raw(target)} (${sql.raw(list)})
    select ${sql.raw(values.join(', '))} from ${source} ${sql.raw(records)}
    join ${sql.raw(table)} as d on ${sql.raw(m.col('d', d.userKey.column))} = ${sql.raw(m.dialect.payloadValue(keyGroup, keyAlias, d.userKey.column))}
    where true ${sql.raw(conflict)}`;
}
