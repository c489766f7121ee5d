import { type Kysely, sql } from 'kysely';
import { type Database, ident } from '../db/database.js';
import { isUniqueViolation, translateDatabaseError } from '../db/database-errors.js';
import type { OrgshiftTables } from '../db/schema.js';
import { withWriteTransaction } from '../db/transaction.js';
import { OrgshiftError } from '../errors.js';
import { LockLostError } from '../lock/errors.js';
import type { Lease } from '../lock/lock-manager.js';
import { appendEvents } from '../outbox/append-events.js';
import { nudgeOutbox } from '../outbox/outbox-nudge.js';
import { migratedEvents } from '../outbox/user-events.js';
import { decodeLegacyRow, type LegacyRow, legacyRowColumns } from './legacy-row.js';
import type { MigrationContext } from './migration-context.js';
import { planMigration, type RefusedUser } from './migration-plan.js';
import { writeMigration } from './migration-writes.js';

export type MigrateOutcome = 'migrated' | 'already-migrated' | 'not-found' | 'conflict';

/** The fence touched fewer legacy rows than it migrated users: someone else marked one first. Rolls the transaction back. */
export class FenceViolationError extends OrgshiftError {
  constructor(expected: number, marked: number) {
    super('migration_failed', `${expected - marked} of ${expected} legacy rows were marked by someone else`);
  }
}

export interface MigrationResult {
  readonly migrated: readonly string[];
  /** Rows that were marked when they were locked (someone else migrated them first). */
  readonly alreadyMigrated: readonly string[];
  /** Users left untouched because their data cannot be migrated; the rest went ahead. */
  readonly refused: readonly RefusedUser[];
}

/**
 * Migrates one user in its own write transaction (DESIGN §3). A unique
 * violation means the user row was created by someone else (a native sign-up
 * or a holder whose lock we stole after expiry): reported as 'conflict', so
 * the caller reloads instead of failing.
 */
export async function migrateUser(
  db: Database,
  ctx: MigrationContext,
  userId: string,
  lease?: Lease,
): Promise<MigrateOutcome> {
  try {
    const outcome = await withWriteTransaction(db, (trx) => migrateUserWithin(trx, ctx, userId, lease));
    if (outcome === 'migrated') nudgeOutbox(db);
    return outcome;
  } catch (error) {
    if (isUniqueViolation(error) || error instanceof FenceViolationError) return 'conflict';
    throw translateDatabaseError(error);
  }
}

/** The just-in-time migration inside a transaction the caller owns: lock the legacy row, then migrate it. */
export async function migrateUserWithin(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  userId: string,
  lease?: Lease,
): Promise<MigrateOutcome> {
  const row = await readLegacyRowForUpdate(trx, ctx, userId);
  if (row === null) return 'not-found';
  const result = await migrateLockedRows(trx, ctx, [row], lease);
  const refused = result.refused[0];
  if (refused !== undefined) throw refused.error;
  return result.migrated.length === 1 ? 'migrated' : 'already-migrated';
}

/**
 * The migration itself, for legacy rows this transaction holds locked: the
 * just-in-time path passes the one row it read `FOR UPDATE`, the backfill
 * the batch it claimed. Per-user work (settings, secrets) happens in
 * JavaScript first; the writes are then a fixed number of set-based
 * statements however many users there are. Order matters: rows are locked
 * before anything is written, so a second migrator blocks on the lock and
 * then finds them marked.
 */
export async function migrateLockedRows(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  rows: readonly LegacyRow[],
  lease?: Lease,
): Promise<MigrationResult> {
  const plan = planMigration(ctx, rows);
  const marked = await writeMigration(trx, ctx, plan.users);
  if (marked !== plan.users.length) throw new FenceViolationError(plan.users.length, marked);
  // In this transaction: the events exist exactly when the migration commits.
  await appendEvents(trx, ctx.dialect, migratedEvents(plan.users));
  // Last chance before commit: a lease that expired or lost its backend means
  // someone else may be migrating; the database fence would stop a duplicate,
  // but side effects under a lost lease are exactly what the lock is for.
  if (lease?.lost.aborted) throw new LockLostError(lease.key, 'lease lost before commit');
  return { migrated: plan.users.map((user) => user.id), alreadyMigrated: plan.alreadyMigrated, refused: plan.refused };
}

async function readLegacyRowForUpdate(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  userId: string,
): Promise<LegacyRow | null> {
  const forUpdate = ctx.dialect === 'postgres' ? sql.raw('for update') : sql.raw('');
  const result = await sql<Record<string, unknown>>`
    select ${legacyRowColumns(ctx.legacy)} from ${sql.raw(ident(ctx.legacy.usersTable))} l
    where l.${sql.raw(ident(ctx.legacy.columns.id))} = ${userId} ${forUpdate}`.execute(trx);
  const row = result.rows[0];
  return row === undefined ? null : decodeLegacyRow(row, ctx.legacy);
}
