import { sql } from 'kysely';
import type { Executor, Row } from '../../db/database.js';
import { translateDatabaseError } from '../../db/database-errors.js';
import { FAILURES_TABLE, IN_PLACE_MIGRATIONS_TABLE } from '../../db/own-tables.js';
import { userLockKey } from '../../directory/user-directory.js';
import { LegacyKeyDuplicateError, RollbackRefusedError, UserNotFoundError } from '../../errors.js';
import { LockLostError } from '../../lock/errors.js';
import type { Lease, LockManager } from '../../lock/lock-manager.js';
import { hasRecordedMigration } from '../../migration/in-place-record.js';
import type { MigrationContext } from '../../migration/migration-context.js';
import { parseUserKey } from '../../schema-map/user-key.js';
import { foreignReferences } from './foreign-references.js';
import { type Discarded, planRestore } from './restore-plan.js';
import { loadRollbackState, type RollbackState } from './rollback-state.js';

export interface RollbackReport {
  readonly id: string;
  /** True when nothing was written: the report says what a rollback would do. */
  readonly dryRun: boolean;
  /** Legacy columns given back their value from the organization side. */
  readonly restored: readonly string[];
  /** Changes made after the migration that the legacy row cannot hold: lost by this rollback. */
  readonly discarded: readonly Discarded[];
  /** Dependent rows whose org column was cleared, over all dependent tables. */
  readonly dependentRows: number;
  /** Copies of dependent rows deleted. */
  readonly copiesDeleted: number;
}

export interface RollbackLocking {
  readonly locks: LockManager;
  readonly ttlMs: number;
  readonly waitMs: number;
}

export interface RollbackOptions {
  readonly dryRun?: boolean;
  /** Runs inside the rollback's transaction before it commits (the outbox), with the rows as they were. */
  readonly after?: (trx: Executor, report: RollbackReport, before: RolledBackRows) => Promise<void>;
}

/** The target rows a rollback removed (in place: the user row it restored), as they were before it. */
export interface RolledBackRows {
  readonly user: Row | null;
  readonly org: Row | null;
}

/** Rolls back the transaction of a dry run after everything was computed. */
class DryRunDone extends Error {
  constructor(readonly report: RollbackReport) {
    super('dry run');
  }
}

/**
 * Reverses one user's migration under the same `user:<key>` lock as a
 * just-in-time migration, in one transaction: the legacy row gets back the
 * user's current values (restore-plan.ts) and loses its marker; the user's
 * dependent rows leave the org, copies are deleted; membership, user (moved)
 * and personal org are deleted; a pending repair entry is dropped. A later
 * read migrates the user again.
 *
 * Refused (`rollback_refused`, nothing changed) for native users, users in
 * other orgs, personal orgs that gained members, and whenever any other row
 * in the database references the org, the user or the membership through a
 * foreign key (foreign-references.ts): deleting under them would lose data
 * the legacy model cannot hold. A dry run computes the same report, refusals
 * included, and writes nothing.
 */
export async function rollbackUser(
  ctx: MigrationContext,
  locking: RollbackLocking,
  id: unknown,
  options: RollbackOptions = {},
): Promise<RollbackReport> {
  const key = parseUserKey(id, ctx.sql.model.legacy.key);
  try {
    // Unknown keys are answered without lock traffic, as reads are.
    if (!(await anyRowFor(ctx, key))) throw new UserNotFoundError(key);
    const lease = await locking.locks.acquire(userLockKey(key), { ttlMs: locking.ttlMs, waitMs: locking.waitMs });
    try {
      return await ctx.db.writeTransaction(async (trx) => {
        const { report, before } = await rollbackWithin(trx, ctx, key, lease, options.dryRun ?? false);
        if (report.dryRun) throw new DryRunDone(report);
        await options.after?.(trx, report, before);
        if (lease.lost.aborted) throw new LockLostError(lease.key, 'lease lost before the rollback committed');
        return report;
      });
    } finally {
      await lease.release().catch(() => false);
    }
  } catch (error) {
    if (error instanceof DryRunDone) return error.report;
    throw translateDatabaseError(ctx.db, error);
  }
}

async function anyRowFor(ctx: MigrationContext, key: string): Promise<boolean> {
  const m = ctx.sql;
  const legacy = await sql`select 1 as found from ${sql.raw(m.legacy)} l where ${sql.raw(m.key('l'))} = ${key}`.execute(
    ctx.db.kysely,
  );
  if (legacy.rows.length > 0 || m.model.shape === 'in-place') return legacy.rows.length > 0;
  const user = await sql`select 1 as found from ${sql.raw(m.user)} u
    where ${sql.raw(m.col('u', m.model.user.id))} = ${m.param(key, m.resolved.user, m.model.user.id)}`.execute(
    ctx.db.kysely,
  );
  return user.rows.length > 0;
}

async function rollbackWithin(
  trx: Executor,
  ctx: MigrationContext,
  key: string,
  lease: Lease,
  dryRun: boolean,
): Promise<{ report: RollbackReport; before: RolledBackRows }> {
  const m = ctx.sql;
  const state = await loadRollbackState(trx, m, key);
  refuseUnlessRollbackable(ctx, key, state);
  if (m.model.shape === 'in-place' && !(await hasRecordedMigration(trx, key))) {
    // Created in the new shape (a sign-up, or by the application): its legacy values never existed.
    throw new RollbackRefusedError(key, 'native user: orgshift did not migrate it');
  }
  const references = await foreignReferences(trx, ctx.db, m, key, state);
  if (references.length > 0) {
    const list = references
      .map((r) => `${r.table} (${r.rows} row${r.rows === 1 ? '' : 's'} → ${r.references})`)
      .join(', ');
    throw new RollbackRefusedError(key, `other rows reference what a rollback deletes: ${list}`);
  }
  const legacy = state.legacy[0] as Row;
  const plan = planRestore(m, ctx.codecs, key, legacy, state);
  const orgId = state.org?.[m.model.org.id.column] ?? null;
  const before = { user: state.user, org: state.org };
  if (dryRun) {
    const copies = await copiesOf(trx, ctx, key, false);
    const dependents = await countDependents(trx, ctx, key, orgId);
    return { report: report(key, true, [...plan.legacy.keys()], plan.discarded, dependents, copies), before };
  }
  await restoreLegacyRow(trx, ctx, key, plan.legacy);
  const dependentRows = await clearDependents(trx, ctx, key, orgId);
  const copiesDeleted = await copiesOf(trx, ctx, key, true);
  await deleteTargetRows(trx, ctx, key, orgId);
  await sql`delete from ${sql.raw(FAILURES_TABLE)} where kind = 'key' and subject = ${key}`.execute(trx);
  if (lease.lost.aborted) throw new LockLostError(lease.key, 'lease lost before the rollback committed');
  return { report: report(key, false, [...plan.legacy.keys()], plan.discarded, dependentRows, copiesDeleted), before };
}

function report(
  id: string,
  dryRun: boolean,
  restored: readonly string[],
  discarded: readonly Discarded[],
  dependentRows: number,
  copiesDeleted: number,
): RollbackReport {
  return Object.freeze({
    id,
    dryRun,
    restored: Object.freeze([...restored]),
    discarded: Object.freeze([...discarded]),
    dependentRows,
    copiesDeleted,
  });
}

function refuseUnlessRollbackable(ctx: MigrationContext, key: string, state: RollbackState): void {
  const model = ctx.sql.model;
  if (state.legacy.length === 0 && state.user === null) throw new UserNotFoundError(key);
  if (state.legacy.length > 1) throw new LegacyKeyDuplicateError(key, state.legacy.length);
  if (state.legacy.length === 0)
    throw new RollbackRefusedError(key, 'native user: there is no legacy row to return to');
  const migrated =
    model.shape === 'in-place' ? state.marked || state.user?.[model.user.currentOrg] != null : state.user !== null;
  if (!migrated) {
    throw new RollbackRefusedError(
      key,
      state.marked ? 'the legacy row is marked migrated but there is no user (audit: user_missing)' : 'not migrated',
    );
  }
  if (state.otherOrgs > 0) throw new RollbackRefusedError(key, `the user belongs to ${state.otherOrgs} other org(s)`);
  if (state.org !== null && !state.orgIsPersonal) throw new RollbackRefusedError(key, 'its org is not a personal org');
  if (state.otherMembers > 0)
    throw new RollbackRefusedError(key, `the personal org has ${state.otherMembers} other member(s)`);
}

/** Unmarks the legacy row and gives it back the restored values (NULL stays NULL). */
async function restoreLegacyRow(
  trx: Executor,
  ctx: MigrationContext,
  key: string,
  values: ReadonlyMap<string, unknown>,
): Promise<void> {
  const m = ctx.sql;
  const model = m.model;
  const sets = [...values].map(
    ([column, value]) => sql`${sql.raw(m.q(column))} = ${m.param(bindable(ctx, value), m.resolved.legacy, column)}`,
  );
  const marker = model.legacy.marker;
  if (marker.type === 'timestamp') sets.push(sql`${sql.raw(m.q(marker.column))} = null`);
  if (marker.type === 'boolean') sets.push(sql`${sql.raw(m.q(marker.column))} = ${sql.raw(m.dialect.falseLiteral)}`);
  if (model.shape === 'in-place') sets.push(sql`${sql.raw(m.q(model.user.currentOrg))} = null`);
  if (sets.length === 0) return;
  await sql`update ${sql.raw(m.legacy)} set ${sql.join(sets)} where ${sql.raw(m.q(model.legacy.key.column))} = ${key}`.execute(
    trx,
  );
}

/** A value as the driver can bind it: JSON objects as text, the dialect's booleans and timestamps. */
function bindable(ctx: MigrationContext, value: unknown): unknown {
  return ctx.db.sql.bindValue(value);
}

/** Dependent rows of the user that point at the personal org; in a dry run, counted. */
async function countDependents(trx: Executor, ctx: MigrationContext, key: string, orgId: unknown): Promise<number> {
  return dependents(trx, ctx, key, orgId, false);
}

async function clearDependents(trx: Executor, ctx: MigrationContext, key: string, orgId: unknown): Promise<number> {
  return dependents(trx, ctx, key, orgId, true);
}

async function dependents(
  trx: Executor,
  ctx: MigrationContext,
  key: string,
  orgId: unknown,
  clear: boolean,
): Promise<number> {
  if (orgId === null) return 0;
  const m = ctx.sql;
  let total = 0;
  for (const [n, d] of m.model.dependents.entries()) {
    const table = m.resolved.dependents[n]?.table;
    if (!d.org || table === undefined) continue;
    const byUser =
      d.userKey.references === m.model.legacy.key.column
        ? sql`${sql.raw(m.q(d.userKey.column))} = ${m.param(key, table, d.userKey.column)}`
        : sql`${sql.raw(m.q(d.userKey.column))} in (select ${sql.raw(m.col('l', d.userKey.references))} from ${sql.raw(m.legacy)} l where ${sql.raw(m.key('l'))} = ${key})`;
    const inOrg = sql`${sql.raw(m.q(d.org.column))} = ${m.param(orgId, table, d.org.column)}`;
    if (clear) {
      const result =
        await sql`update ${sql.raw(m.table(d.table))} set ${sql.raw(m.q(d.org.column))} = null where ${byUser} and ${inOrg}`.execute(
          trx,
        );
      total += Number(result.numAffectedRows ?? 0n);
    } else {
      const result = await sql<{
        n: number | string;
      }>`select count(*) as n from ${sql.raw(m.table(d.table))} where ${byUser} and ${inOrg}`.execute(trx);
      total += Number(result.rows[0]?.n ?? 0);
    }
  }
  return total;
}

/** Copies of the user's dependent rows, recognized by the user key they carry: deleted, or in a dry run counted. */
async function copiesOf(trx: Executor, ctx: MigrationContext, key: string, remove: boolean): Promise<number> {
  const m = ctx.sql;
  let total = 0;
  for (const [n, d] of m.model.dependents.entries()) {
    const copy = m.resolved.dependents[n]?.copy;
    if (!d.copyTo || !copy) continue;
    const carrier = d.copyTo.columns.find((c) => c.source.kind === 'user-key');
    if (carrier === undefined) continue;
    const table = sql.raw(m.table(d.copyTo.table));
    const where = sql`${sql.raw(m.q(carrier.column))} = ${m.param(key, copy, carrier.column)}`;
    if (remove) {
      const result = await sql`delete from ${table} where ${where}`.execute(trx);
      total += Number(result.numAffectedRows ?? 0n);
    } else {
      const result = await sql<{ n: number | string }>`select count(*) as n from ${table} where ${where}`.execute(trx);
      total += Number(result.rows[0]?.n ?? 0);
    }
  }
  return total;
}

/** Membership, user (moved) and personal org, in foreign-key order. */
async function deleteTargetRows(trx: Executor, ctx: MigrationContext, key: string, orgId: unknown): Promise<void> {
  const m = ctx.sql;
  const model = m.model;
  const r = m.resolved;
  if (orgId !== null) {
    await sql`delete from ${sql.raw(m.membership)} where ${sql.raw(m.q(model.membership.org))} = ${m.param(orgId, r.membership, model.membership.org)}
      and ${sql.raw(m.q(model.membership.user))} = ${m.param(key, r.membership, model.membership.user)}`.execute(trx);
  }
  if (model.shape === 'in-place') {
    await sql`delete from ${sql.raw(IN_PLACE_MIGRATIONS_TABLE)} where user_key = ${key}`.execute(trx);
  }
  if (model.shape === 'moved') {
    await sql`delete from ${sql.raw(m.user)} where ${sql.raw(m.q(model.user.id))} = ${m.param(key, r.user, model.user.id)}`.execute(
      trx,
    );
  }
  if (orgId !== null) {
    await sql`delete from ${sql.raw(m.org)} where ${sql.raw(m.q(model.org.id.column))} = ${m.param(orgId, r.org, model.org.id.column)}`.execute(
      trx,
    );
  }
}
