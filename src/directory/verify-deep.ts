import { sql } from 'kysely';
import type { Row } from '../db/database.js';
import { isOrgshiftError } from '../errors.js';
import { type FieldContext, fieldValue, legacySecret } from '../migration/field-values.js';
import type { MigrationContext } from '../migration/migration-context.js';
import { columnOf, type TableInfo } from '../schema-map/catalog.js';
import type { DependentModel, TargetField } from '../schema-map/map-model.js';
import { sameValue } from './same-value.js';
import type { LoadedUser } from './user-graph.js';
import type { StructureCheck } from './verify-structure.js';
import { type Violation, type ViolationCode, violation } from './violations.js';

/**
 * Structural checks plus what needs more queries: the dependent tables and
 * fidelity, every mapped field recomputed from the legacy row as it is now
 * and compared with what the target holds (secrets decrypted on both sides
 * and compared in memory, never reported). Fields whose value is the
 * migration time are not compared. `native`: the user was created in the
 * new shape, not migrated (in place, where it still has a legacy row), so
 * its fields have no legacy source to be faithful to.
 */
export async function verifyDeep(
  ctx: MigrationContext,
  structure: StructureCheck,
  loaded: LoadedUser,
  native: boolean,
): Promise<Violation[]> {
  const found = [...structure(loaded)];
  const user = loaded.user;
  // `loaded` is a full graph (UserLoader.loadFull): its legacy status is known.
  if (user === null || (loaded.legacy?.rows ?? 0) === 0 || !isMigrated(ctx, loaded)) return found;
  const orgId = loaded.personalOrg?.id ?? null;
  if (orgId !== null) found.push(...(await checkDependents(ctx, loaded.id, orgId)));
  if (!native) found.push(...(await checkFidelity(ctx, loaded, orgId)));
  return found;
}

function isMigrated(ctx: MigrationContext, loaded: LoadedUser): boolean {
  return ctx.sql.model.shape === 'in-place' ? loaded.legacy?.marked || loaded.user?.currentOrgId !== null : true;
}

async function checkDependents(ctx: MigrationContext, key: string, orgId: string): Promise<Violation[]> {
  const m = ctx.sql;
  const legacy = await legacyRow(ctx, key);
  if (legacy === undefined) return [];
  const found: Violation[] = [];
  for (const [n, d] of m.model.dependents.entries()) {
    const table = m.resolved.dependents[n]?.table;
    if (table === undefined) continue;
    const ref = legacy[d.userKey.references];
    if (ref === null || ref === undefined) continue;
    if (d.org) {
      const stray = await countStray(ctx, d, table, ref, orgId);
      if (stray > 0)
        found.push(violation('dependent_unmigrated', `${stray} row(s) of ${m.table(d.table)} not in org ${orgId}`));
    }
    const copy = m.resolved.dependents[n]?.copy;
    if (d.copyTo && copy) {
      const missing = await countUncopied(ctx, d, table, copy, ref);
      if (missing > 0)
        found.push(
          violation(
            'dependent_unmigrated',
            `${missing} row(s) of ${m.table(d.table)} have no copy in ${m.table(d.copyTo.table)}`,
          ),
        );
    }
  }
  return found;
}

async function countStray(
  ctx: MigrationContext,
  d: DependentModel,
  table: TableInfo,
  ref: unknown,
  orgId: string,
): Promise<number> {
  const m = ctx.sql;
  const spec = d.org as NonNullable<DependentModel['org']>;
  const org = sql.raw(m.col('d', spec.column));
  // With keepAssigned, a row in another org (a team's) is where it belongs; only an unassigned one is stray.
  const elsewhere = spec.keepAssigned ? sql`` : sql` or ${org} <> ${m.param(orgId, table, spec.column)}`;
  const result = await sql<{ n: number | string }>`
    select count(*) as n from ${sql.raw(m.table(d.table))} d
    where ${sql.raw(m.col('d', d.userKey.column))} = ${m.param(ref, table, d.userKey.column)}
      and (${org} is null${elsewhere})`.execute(ctx.db.kysely);
  return Number(result.rows[0]?.n ?? 0);
}

/** Rows of the user with no copy carrying their conflict key (when the map says how copies are recognized). */
async function countUncopied(
  ctx: MigrationContext,
  d: DependentModel,
  table: TableInfo,
  copy: TableInfo,
  ref: unknown,
): Promise<number> {
  const m = ctx.sql;
  const spec = d.copyTo as NonNullable<DependentModel['copyTo']>;
  const matches = spec.conflict.flatMap((name) => {
    const source = spec.columns.find((c) => c.column === name)?.source;
    if (source?.kind !== 'column') return [];
    const type = columnOf(copy, name)?.type;
    const value = m.col('d', source.column);
    return [`${m.col('c', name)} = ${type ? m.dialect.cast(value, type) : value}`];
  });
  if (matches.length === 0 || matches.length !== spec.conflict.length) return 0;
  const result = await sql<{ n: number | string }>`
    select count(*) as n from ${sql.raw(m.table(d.table))} d
    where ${sql.raw(m.col('d', d.userKey.column))} = ${m.param(ref, table, d.userKey.column)}
      and not exists (select 1 from ${sql.raw(m.table(spec.table))} c where ${sql.raw(matches.join(' and '))})`.execute(
    ctx.db.kysely,
  );
  return Number(result.rows[0]?.n ?? 0);
}

async function legacyRow(ctx: MigrationContext, key: string): Promise<Row | undefined> {
  const m = ctx.sql;
  const list = m.model.legacyColumns.map((c) => `${m.col('l', c)} as ${m.q(c)}`).join(', ');
  const result =
    await sql<Row>`select ${sql.raw(list)} from ${sql.raw(m.legacy)} l where ${sql.raw(m.key('l'))} = ${key}`.execute(
      ctx.db.kysely,
    );
  return result.rows[0];
}

async function targetRow(
  ctx: MigrationContext,
  table: string,
  where: [string, unknown, TableInfo][],
): Promise<Row | undefined> {
  const m = ctx.sql;
  const conditions = where.map(
    ([column, value, info]) => sql`${sql.raw(m.col('t', column))} = ${m.param(value, info, column)}`,
  );
  const result = await sql<Row>`select * from ${sql.raw(table)} t where ${sql.join(conditions, sql` and `)}`.execute(
    ctx.db.kysely,
  );
  return result.rows[0];
}

async function checkFidelity(ctx: MigrationContext, loaded: LoadedUser, orgId: string | null): Promise<Violation[]> {
  const m = ctx.sql;
  const model = m.model;
  const key = loaded.id;
  const legacy = await legacyRow(ctx, key);
  if (legacy === undefined) return [];
  const r = m.resolved;
  const org = orgId === null ? undefined : await targetRow(ctx, m.org, [[model.org.id.column, orgId, r.org]]);
  // In place this is the legacy row again, read whole: the legacy read holds only the columns fields come from.
  const user = await targetRow(ctx, m.user, [[model.user.id, key, r.user]]);
  const member =
    orgId === null
      ? undefined
      : await targetRow(ctx, m.membership, [
          [model.membership.org, orgId, r.membership],
          [model.membership.user, key, r.membership],
        ]);
  const context: FieldContext = { key, orgId: orgId ?? '', now: '', row: legacy, codecs: ctx.codecs };
  const found: Violation[] = [];
  const compare = (fields: readonly TargetField[], row: Row | undefined, table: string, info: TableInfo) => {
    if (row === undefined) return;
    for (const field of fields) {
      const problem = compareField(ctx, context, field, row, info, info === r.user);
      if (problem !== null)
        found.push(violation(problem, `${table}.${m.q(field.column)} differs from its legacy source`));
    }
  };
  compare(model.org.fields, org, m.org, r.org);
  compare(model.user.fields, user, m.user, r.user);
  compare(model.membership.fields, member, m.membership, r.membership);
  return dedupe(found);
}

/** The violation code for a field that differs, or null when it matches (or cannot be compared). */
function compareField(
  ctx: MigrationContext,
  context: FieldContext,
  field: TargetField,
  row: Row,
  table: TableInfo,
  userTable: boolean,
): ViolationCode | null {
  const source = field.source;
  const actual = row[field.column];
  if (source.kind === 'now' || source.kind === 'org-id' || source.kind === 'user-key') return null;
  try {
    if (source.kind === 'secret') {
      const before = legacySecret(context, source.column, source.from);
      const after =
        actual === null || actual === undefined
          ? null
          : decodeTarget(ctx, source.to, String(actual), context.key, field.column);
      return before === after ? null : 'secret_mismatch';
    }
    const expected = fieldValue(field, context);
    if (sameValue(expected, actual, columnOf(table, field.column)?.family)) return null;
  } catch (error) {
    // A legacy value that no longer decodes cannot be compared; say so as a mismatch of that field.
    if (!isOrgshiftError(error)) throw error;
    return source.kind === 'secret' ? 'secret_mismatch' : 'field_mismatch';
  }
  if (source.kind === 'json-object') return 'settings_mismatch';
  if (userTable && ctx.sql.model.user.email === field.column) return 'email_mismatch';
  return 'field_mismatch';
}

function decodeTarget(
  ctx: MigrationContext,
  codec: string,
  stored: string,
  key: string,
  column: string,
): string | null {
  const found = ctx.codecs.get(codec);
  if (found === undefined) throw new TypeError(`codec ${codec} is not configured`);
  return found.decode(stored, { ownerId: key, column });
}

function dedupe(violations: Violation[]): Violation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    const id = `${v.code}\u0000${v.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
