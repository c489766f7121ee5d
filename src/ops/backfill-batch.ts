import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';
import { isConnectionError, isUniqueViolation } from '../db/database-errors.js';
import type { OrgshiftTables } from '../db/schema.js';
import { withWriteTransaction } from '../db/transaction.js';
import { recordFailure } from '../directory/failure-log.js';
import { type MigrateOutcome, migrateUserWithin } from '../directory/migrate-user.js';
import type { MigrationContext } from '../directory/migration-context.js';
import { isOrgshiftError } from '../errors.js';
import { preparedStatementKysely } from './prepared-kysely.js';

export interface BatchFailure {
  readonly userId: string;
  readonly code: string;
  readonly message: string;
}

export interface BatchResult {
  readonly claimed: number;
  /** Last claimed id in key order; null when nothing was claimed. */
  readonly lastId: string | null;
  readonly migrated: number;
  /** Claimed but found migrated or gone (someone else won between claim and migration). */
  readonly skipped: number;
  readonly failures: readonly BatchFailure[];
}

export type Claim = (trx: Kysely<OrgshiftTables>) => Promise<string[]>;

/** Runs `fn` in a write transaction (see backfillTransactions). */
export type Transact = <T>(fn: (trx: Kysely<OrgshiftTables>) => Promise<T>) => Promise<T>;

/**
 * PostgreSQL: transactions on a Kysely that prepares its statements (see
 * prepared-kysely.ts). SQLite: the shared write transaction, which queues
 * behind this process's other writers.
 */
export function backfillTransactions(db: Database): Transact {
  if (db.dialect === 'sqlite') return (fn) => withWriteTransaction(db, fn);
  const kysely = preparedStatementKysely(db.pool);
  return (fn) => kysely.transaction().execute(fn);
}

interface Tally {
  readonly migrated: string[];
  skipped: number;
  readonly failures: BatchFailure[];
}

/** Thrown out of an optimistic batch so that its transaction rolls back and the batch is redone carefully. */
class RedoCarefully extends Error {}

/**
 * Claims a batch and migrates it in one transaction.
 *
 * Optimistic first: no savepoints, which saves two of the ten round trips a
 * user costs. The first user that fails rolls the whole batch back and the
 * batch is claimed again in careful mode, each user under its own savepoint,
 * so a failing user is rolled back alone and the batch goes on. Failures are
 * written to `migration_failures` after the commit: a batch that never
 * commits (killed process) leaves no trace and is simply redone.
 */
export async function migrateBatch(
  db: Database,
  ctx: MigrationContext,
  transact: Transact,
  claim: Claim,
): Promise<BatchResult> {
  let result: BatchResult;
  try {
    result = await runBatch(transact, ctx, claim, false);
  } catch (error) {
    if (!(error instanceof RedoCarefully)) throw error;
    result = await runBatch(transact, ctx, claim, true);
  }
  for (const failure of result.failures) {
    await recordFailure(db, failure.userId, failure.code, failure.message);
  }
  return result;
}

function runBatch(transact: Transact, ctx: MigrationContext, claim: Claim, careful: boolean): Promise<BatchResult> {
  return transact(async (trx) => {
    const ids = await claim(trx);
    const tally: Tally = { migrated: [], skipped: 0, failures: [] };
    for (const id of ids) {
      if (careful) await migrateCarefully(trx, ctx, id, tally);
      else await migrateOptimistically(trx, ctx, id, tally);
    }
    if (tally.migrated.length > 0) {
      // A retried user that now migrates leaves the repair queue in the same commit.
      await trx.deleteFrom('migration_failures').where('user_id', 'in', tally.migrated).execute();
    }
    return {
      claimed: ids.length,
      lastId: ids.at(-1) ?? null,
      migrated: tally.migrated.length,
      skipped: tally.skipped,
      failures: tally.failures,
    };
  });
}

function count(tally: Tally, id: string, outcome: MigrateOutcome): void {
  if (outcome === 'migrated') tally.migrated.push(id);
  else tally.skipped += 1;
}

async function migrateOptimistically(trx: Kysely<OrgshiftTables>, ctx: MigrationContext, id: string, tally: Tally) {
  try {
    // No lease: the claimed row lock keeps every other migrator of this user waiting (see claimBatch).
    count(tally, id, await migrateUserWithin(trx, ctx, id));
  } catch (error) {
    // A lost connection takes the whole batch with it; the run stops and a rerun resumes.
    if (isConnectionError(error)) throw error;
    throw new RedoCarefully();
  }
}

async function migrateCarefully(trx: Kysely<OrgshiftTables>, ctx: MigrationContext, id: string, tally: Tally) {
  await sql`savepoint orgshift_user`.execute(trx);
  try {
    count(tally, id, await migrateUserWithin(trx, ctx, id));
    await sql`release savepoint orgshift_user`.execute(trx);
  } catch (error) {
    if (isConnectionError(error)) throw error;
    await sql`rollback to savepoint orgshift_user`.execute(trx);
    tally.failures.push({ userId: id, ...describeFailure(error) });
  }
}

/** A stable code and a message that never carries a secret or a row's values. */
export function describeFailure(error: unknown): { code: string; message: string } {
  if (isOrgshiftError(error)) return { code: error.code, message: error.message };
  if (isUniqueViolation(error)) {
    return { code: 'migration_failed', message: 'an org, user or membership with this id already exists' };
  }
  const sqlState = (error as { code?: unknown } | null)?.code;
  return {
    code: 'migration_failed',
    message: `unexpected database error${typeof sqlState === 'string' ? ` (${sqlState})` : ''}`,
  };
}
