import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import { translateDatabaseError } from '../db/database-errors.js';
import { LegacyKeyDuplicateError, OrgshiftError } from '../errors.js';
import { LockLostError } from '../lock/errors.js';
import type { Lease } from '../lock/lock-manager.js';
import { decodeLegacyRow, type LegacyRow, legacySelectList } from './legacy-rows.js';
import type { MigrationContext } from './migration-context.js';
import { type PlannedUser, planMigration, type RefusedUser } from './plan.js';
import { writeMigration } from './writes.js';

export type MigrateOutcome = 'migrated' | 'already-migrated' | 'not-found' | 'conflict';

/** The fence counted fewer users than were planned: someone else migrated one first. Rolls the transaction back. */
export class FenceViolationError extends OrgshiftError {
  constructor(expected: number, marked: number) {
    super('migration_failed', `${expected - marked} of ${expected} users were migrated by someone else`);
  }
}

export interface MigrationResult {
  readonly migrated: readonly PlannedUser[];
  /** Rows that were already migrated when they were locked (someone else won). */
  readonly alreadyMigrated: readonly string[];
  /** Users left untouched because their data cannot be migrated; the rest went ahead. */
  readonly refused: readonly RefusedUser[];
}

/** Called inside the migration's transaction, after the writes and before the commit (the outbox's hook). */
export type AfterWrites = (trx: Executor, migrated: readonly PlannedUser[]) => Promise<void>;

/**
 * Migrates one user in its own write transaction. A unique violation or a
 * fence that counts nobody means someone else created the user first (a
 * native sign-up, or a holder whose lock expired): reported as 'conflict',
 * so the caller reloads instead of failing. A deadlock or serialization
 * conflict rolled everything back, so the transaction is simply redone (a
 * few times, while the lease holds); past that the caller gets
 * `database_unavailable`, a 503 to retry, never a failed migration.
 */
export async function migrateUser(
  ctx: MigrationContext,
  key: string,
  lease?: Lease,
  after?: AfterWrites,
): Promise<MigrateOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.db.writeTransaction((trx) => migrateUserWithin(trx, ctx, key, lease, after));
    } catch (error) {
      const kind = ctx.db.classifyError(error);
      if (error instanceof FenceViolationError || kind === 'unique') return 'conflict';
      if (kind === 'transient' && attempt < TRANSIENT_ATTEMPTS && !lease?.lost.aborted) continue;
      throw translateDatabaseError(ctx.db, error);
    }
  }
}

const TRANSIENT_ATTEMPTS = 3;

/** The just-in-time migration inside a transaction the caller owns: lock the legacy row, then migrate it. */
export async function migrateUserWithin(
  trx: Executor,
  ctx: MigrationContext,
  key: string,
  lease?: Lease,
  after?: AfterWrites,
): Promise<MigrateOutcome> {
  const rows = await readLegacyRowsForUpdate(trx, ctx, key);
  if (rows.length === 0) return 'not-found';
  if (rows.length > 1) throw new LegacyKeyDuplicateError(key, rows.length);
  const result = await migrateLockedRows(trx, ctx, rows, lease, after);
  const refused = result.refused[0];
  if (refused !== undefined) throw refused.error;
  return result.migrated.length === 1 ? 'migrated' : 'already-migrated';
}

/**
 * The migration itself, for legacy rows this transaction holds locked: the
 * just-in-time path passes the one row it read `FOR UPDATE`, the backfill
 * the batch it claimed. Per-user work happens in JavaScript first; the
 * writes are then a fixed number of set-based statements however many
 * users there are. Rows are locked before anything is written, so a second
 * migrator blocks on the lock and then finds them migrated.
 */
export async function migrateLockedRows(
  trx: Executor,
  ctx: MigrationContext,
  rows: readonly LegacyRow[],
  lease?: Lease,
  after?: AfterWrites,
): Promise<MigrationResult> {
  const plan = planMigration(ctx, rows);
  const counted = await writeMigration(trx, ctx, plan.users);
  if (counted !== plan.users.length) throw new FenceViolationError(plan.users.length, counted);
  if (after !== undefined && plan.users.length > 0) await after(trx, plan.users);
  // Last chance before commit: a lease that expired or lost its backend means
  // someone else may be migrating; the database fence would stop a duplicate,
  // but side effects under a lost lease are exactly what the lock is for.
  if (lease?.lost.aborted) throw new LockLostError(lease.key, 'lease lost before commit');
  return { migrated: plan.users, alreadyMigrated: plan.alreadyMigrated, refused: plan.refused };
}

async function readLegacyRowsForUpdate(trx: Executor, ctx: MigrationContext, key: string): Promise<LegacyRow[]> {
  const m = ctx.sql;
  const result = await sql<Record<string, unknown>>`
    select ${sql.raw(legacySelectList(m))} from ${sql.raw(m.legacy)} l
    where ${sql.raw(m.key('l'))} = ${key} ${sql.raw(m.dialect.forUpdate)}`.execute(trx);
  return result.rows.map((row) => decodeLegacyRow(m, row));
}
