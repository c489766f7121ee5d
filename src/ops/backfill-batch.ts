import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';
import { isConnectionError, isUniqueViolation } from '../db/database-errors.js';
import type { OrgshiftTables } from '../db/schema.js';
import { withWriteTransaction } from '../db/transaction.js';
import { type FailureRecord, recordFailuresWithin } from '../directory/failure-log.js';
import type { LegacyRow } from '../directory/legacy-row.js';
import { type MigrationResult, migrateLockedRows } from '../directory/migrate-user.js';
import type { MigrationContext } from '../directory/migration-context.js';
import { isOrgshiftError } from '../errors.js';
import { nudgeOutbox } from '../outbox/outbox-nudge.js';
import type { ClaimedBatch } from './backfill-claim.js';
import { commitOutcome } from './commit-outcome.js';
import { preparedStatementKysely } from './prepared-kysely.js';

export type BatchFailure = FailureRecord;

export interface BatchResult {
  readonly claimed: number;
  /** Last claimed id in key order; null when nothing was claimed. */
  readonly lastId: string | null;
  readonly migrated: number;
  /** Claimed but found migrated or gone (someone else won between claim and migration). */
  readonly skipped: number;
  readonly failures: readonly BatchFailure[];
}

/** Claims and reads the batch's legacy rows, locked for its transaction. */
export type Claim = (trx: Kysely<OrgshiftTables>) => Promise<ClaimedBatch>;

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
  migrated: number;
  skipped: number;
  readonly failures: BatchFailure[];
}

/** Thrown out of an optimistic batch so that its transaction rolls back and the batch is redone carefully. */
class RedoCarefully extends Error {}

/**
 * Claims a batch and migrates it in one transaction, through
 * `migrateLockedRows`, the code a just-in-time migration runs for its one
 * user: the whole batch in a fixed number of set-based statements.
 *
 * Optimistic first: the batch as one set. A user whose data cannot be
 * migrated (an undecryptable secret) is left out of the set and recorded; a
 * write that fails (say a user row that already exists) fails the set, so
 * the transaction rolls back and the batch is claimed again in careful
 * mode: each user alone under its own savepoint, so only the failing one is
 * rolled back. Failures are written to `migration_failures` in the batch's
 * own transaction: a batch that never commits (killed process) leaves no
 * trace and is simply redone, and one that commits hands its failed users
 * to the queue as it releases their rows.
 */
export async function migrateBatch(
  db: Database,
  ctx: MigrationContext,
  transact: Transact,
  claim: Claim,
  signal: AbortSignal,
): Promise<BatchResult> {
  const result = await runBatchOrRedo({ db, ctx, transact, claim, signal });
  if (result.migrated > 0) nudgeOutbox(db);
  return result;
}

async function runBatchOrRedo(batch: Batch): Promise<BatchResult> {
  try {
    return await runBatch(batch, false);
  } catch (error) {
    if (!(error instanceof RedoCarefully)) throw error;
    return await runBatch(batch, true);
  }
}

interface Batch {
  readonly db: Database;
  readonly ctx: MigrationContext;
  readonly transact: Transact;
  readonly claim: Claim;
  readonly signal: AbortSignal;
}

/**
 * One attempt at the batch. If the connection is lost once only COMMIT is
 * left, the batch may or may not have committed; the server is asked, so a
 * committed batch counts and is not followed by a claim of other rows in
 * its place (which would also overrun `limit`).
 */
async function runBatch(batch: Batch, careful: boolean): Promise<BatchResult> {
  const sent: { commit?: { readonly transactionId: string; readonly result: BatchResult } } = {};
  try {
    return await batch.transact(async (trx) => {
      const { rows, transactionId } = await batch.claim(trx);
      const tally: Tally = { migrated: 0, skipped: 0, failures: [] };
      // No lease: the claimed row locks keep every other migrator of these users waiting (see claimBatch).
      if (careful) await migrateCarefully(trx, batch.ctx, rows, tally);
      else await migrateOptimistically(trx, batch.ctx, rows, tally);
      await recordFailuresWithin(trx, batch.ctx.dialect, tally.failures);
      const result = { claimed: rows.length, lastId: rows.at(-1)?.id ?? null, ...tally };
      if (transactionId !== null) sent.commit = { transactionId, result };
      return result;
    });
  } catch (error) {
    if (sent.commit === undefined || !isConnectionError(error)) throw error;
    const outcome = await commitOutcome(batch.db, sent.commit.transactionId, batch.signal);
    if (outcome === 'committed') return sent.commit.result;
    throw error;
  }
}

function count(tally: Tally, result: MigrationResult): void {
  tally.migrated += result.migrated.length;
  tally.skipped += result.alreadyMigrated.length;
  for (const refused of result.refused) {
    tally.failures.push({ userId: refused.id, code: refused.error.code, message: refused.error.message });
  }
}

async function migrateOptimistically(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  rows: readonly LegacyRow[],
  tally: Tally,
) {
  try {
    count(tally, await migrateLockedRows(trx, ctx, rows));
  } catch (error) {
    // A lost connection takes the whole batch with it; the caller retries it (backfill-reconnect.ts).
    if (isConnectionError(error)) throw error;
    throw new RedoCarefully();
  }
}

async function migrateCarefully(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  rows: readonly LegacyRow[],
  tally: Tally,
) {
  for (const row of rows) {
    await sql`savepoint orgshift_user`.execute(trx);
    try {
      count(tally, await migrateLockedRows(trx, ctx, [row]));
      await sql`release savepoint orgshift_user`.execute(trx);
    } catch (error) {
      if (isConnectionError(error)) throw error;
      await sql`rollback to savepoint orgshift_user`.execute(trx);
      tally.failures.push({ userId: row.id, ...describeFailure(error) });
    }
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
