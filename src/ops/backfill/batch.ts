import { sql } from 'kysely';
import type { Executor, Transact } from '../../db/database.js';
import { describeFailure, type FailureRecord, recordFailuresWithin } from '../../migration/failure-log.js';
import type { LegacyRow } from '../../migration/legacy-rows.js';
import { type AfterWrites, type MigrationResult, migrateLockedRows } from '../../migration/migrate.js';
import type { MigrationContext } from '../../migration/migration-context.js';
import type { ClaimedBatch } from './claim.js';

export type BatchFailure = FailureRecord;

export interface BatchResult {
  readonly claimed: number;
  /** Last claimed key in key order; null when nothing was claimed. */
  readonly last: unknown;
  readonly migrated: number;
  /** Claimed but found migrated or gone (someone else won between claim and migration). */
  readonly skipped: number;
  readonly failures: readonly BatchFailure[];
}

/** Claims and reads the batch's legacy rows, locked for its transaction. */
export type Claim = (trx: Executor) => Promise<ClaimedBatch>;

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
  ctx: MigrationContext,
  transact: Transact,
  claim: Claim,
  signal: AbortSignal,
  after?: AfterWrites,
): Promise<BatchResult> {
  const batch = { ctx, transact, claim, signal, after };
  try {
    return await runBatch(batch, false);
  } catch (error) {
    if (!(error instanceof RedoCarefully)) throw error;
    return await runBatch(batch, true);
  }
}

interface Batch {
  readonly ctx: MigrationContext;
  readonly transact: Transact;
  readonly claim: Claim;
  readonly signal: AbortSignal;
  readonly after: AfterWrites | undefined;
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
      const { rows, last, transactionId } = await batch.claim(trx);
      const tally: Tally = { migrated: 0, skipped: 0, failures: [] };
      // No lease: the claimed row locks keep every other migrator of these users waiting (see claim.ts).
      if (careful) await migrateCarefully(trx, batch, rows, tally);
      else await migrateOptimistically(trx, batch, rows, tally);
      await recordFailuresWithin(trx, batch.ctx.db, tally.failures);
      const result = { claimed: rows.length, last, ...tally };
      if (transactionId !== null) sent.commit = { transactionId, result };
      return result;
    });
  } catch (error) {
    if (sent.commit === undefined || batch.ctx.db.classifyError(error) !== 'connection') throw error;
    const outcome = await batch.ctx.db.transactionOutcome(sent.commit.transactionId, batch.signal);
    if (outcome === 'committed') return sent.commit.result;
    throw error;
  }
}

function count(tally: Tally, result: MigrationResult): void {
  tally.migrated += result.migrated.length;
  tally.skipped += result.alreadyMigrated.length;
  for (const refused of result.refused) {
    tally.failures.push({ subject: refused.key, code: refused.error.code, message: refused.error.message });
  }
}

async function migrateOptimistically(trx: Executor, batch: Batch, rows: readonly LegacyRow[], tally: Tally) {
  try {
    count(tally, await migrateLockedRows(trx, batch.ctx, rows, undefined, batch.after));
  } catch (error) {
    // A lost connection or a deadlock takes the whole batch with it; the caller redoes it (src/db/reconnect.ts).
    if (redoable(batch, error)) throw error;
    throw new RedoCarefully();
  }
}

async function migrateCarefully(trx: Executor, batch: Batch, rows: readonly LegacyRow[], tally: Tally) {
  for (const row of rows) {
    await sql`savepoint orgshift_user`.execute(trx);
    try {
      count(tally, await migrateLockedRows(trx, batch.ctx, [row], undefined, batch.after));
      await sql`release savepoint orgshift_user`.execute(trx);
    } catch (error) {
      // Not this user's fault: recorded, it would be skipped by every later run.
      if (redoable(batch, error)) throw error;
      await sql`rollback to savepoint orgshift_user`.execute(trx);
      tally.failures.push({ subject: row.key, ...describeFailure(batch.ctx, error) });
    }
  }
}

/** The batch failed for reasons outside its rows (a lost connection, a deadlock): redo it whole. */
export function redoable(batch: { readonly ctx: MigrationContext }, error: unknown): boolean {
  const kind = batch.ctx.db.classifyError(error);
  return kind === 'connection' || kind === 'transient';
}
