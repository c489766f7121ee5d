import type { Transact } from '../../db/database.js';
import { translateDatabaseError } from '../../db/database-errors.js';
import { retryOnConnectionLoss } from '../../db/reconnect.js';
import type { AfterWrites } from '../../migration/migrate.js';
import type { MigrationContext } from '../../migration/migration-context.js';
import { migrateBatch, redoable } from './batch.js';
import { claimBatch, countClaimable, databaseNow, type PendingFilter, recordInvalidKeys } from './claim.js';
import { type DryRunTally, dryRunScan } from './dry-run.js';
import {
  type BackfillOptions,
  type BackfillPlan,
  type BackfillProgress,
  type BackfillReport,
  planBackfill,
} from './options.js';
import { Budget, Cursor, Pacer } from './pacing.js';
import { StatisticsRefresh } from './statistics.js';

export type { BackfillOptions, BackfillProgress, BackfillReport } from './options.js';

interface Tally {
  migrated: number;
  failed: number;
  skipped: number;
  invalidKeys: number;
}

/** One run's settings and shared state, handed to its workers. */
interface Run {
  readonly ctx: MigrationContext;
  readonly after: AfterWrites | undefined;
  readonly plan: BackfillPlan;
  readonly filter: PendingFilter;
  readonly budget: Budget;
  readonly tally: Tally;
  readonly signal: AbortSignal | undefined;
  readonly onReconnect: BackfillOptions['onReconnect'];
  seconds(): number;
  report(): void;
}

/**
 * Migrates every pending legacy user through `migrateLockedRows`, the code
 * the just-in-time path runs, in claimed batches (docs/design.md#operations).
 *
 * Why no `user:<id>` lock here: on PostgreSQL the claim's `FOR UPDATE SKIP
 * LOCKED` row lock already excludes every other migrator of a claimed user
 * (a just-in-time migration reads the same row `FOR UPDATE`, waits for the
 * batch to commit, then finds it migrated), and the conditional
 * `migrated_at` update fences whatever slips past. One distributed lock per
 * user would add a lock round trip per user and make the backfill queue
 * behind live readers it could simply skip. The backfill has no external
 * side effects, which is what the lock otherwise protects. On SQLite,
 * `BEGIN IMMEDIATE` excludes every other writer for the batch.
 *
 * All state is in the database: a killed run loses at most its open batches,
 * which roll back, and a rerun picks up where the data says. A lost
 * connection costs the same, and the batch is retried (src/db/reconnect.ts;
 * a COMMIT whose answer was lost is resolved first, batch.ts with
 * Database.transactionOutcome).
 * Memory is one batch of legacy rows per worker, whatever the number of users.
 */
export async function backfill(
  ctx: MigrationContext,
  options: BackfillOptions = {},
  after?: AfterWrites,
): Promise<BackfillReport> {
  try {
    const run = await prepareRun(ctx, options, after);
    return await (run.plan.dryRun ? dryRun(run) : migrateAll(run));
  } catch (error) {
    throw translateDatabaseError(ctx.db, error);
  }
}

async function prepareRun(
  ctx: MigrationContext,
  options: BackfillOptions,
  after: AfterWrites | undefined,
): Promise<Run> {
  const db = ctx.db;
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const plan = planBackfill(options, db.sql.concurrentWriters ? db.poolSize : 1);
  const filter: PendingFilter = { retryFailed: plan.retryFailed, runStart: await databaseNow(db) };
  const invalidKeys = plan.dryRun ? 0 : await db.writeTransaction((trx) => recordInvalidKeys(trx, db, ctx.sql));
  const { pending, previouslyFailed } = await countClaimable(db, ctx.sql);
  const leftAlone = plan.retryFailed ? 0 : previouslyFailed;
  const total = Math.min(pending - leftAlone, plan.limit);
  const tally: Tally = { migrated: 0, failed: 0, skipped: leftAlone, invalidKeys };
  const progress = (): BackfillProgress => ({
    done: tally.migrated + tally.failed + tally.skipped - leftAlone,
    total,
    migrated: tally.migrated,
    failed: tally.failed,
    seconds: seconds(),
  });
  return {
    ctx,
    after,
    plan,
    filter,
    budget: new Budget(plan.limit),
    tally,
    signal: options.signal,
    onReconnect: options.onReconnect,
    seconds,
    report: () => options.onProgress?.(progress()),
  };
}

async function dryRun(run: Run): Promise<BackfillReport> {
  const onPage = (scan: Readonly<DryRunTally>) => {
    run.tally.migrated = scan.wouldMigrate;
    run.tally.failed = scan.wouldFail;
    run.report();
  };
  const scan = await dryRunScan(run.ctx, run.filter, run.plan.batchSize, run.budget, onPage, run.signal);
  onPage(scan);
  return finish(run);
}

async function migrateAll(run: Run): Promise<BackfillReport> {
  const workers: Workers = {
    transact: run.ctx.db.batchTransactions(),
    pacer: new Pacer(run.plan.rate),
    statistics: new StatisticsRefresh(run.ctx.db, run.ctx.sql),
  };
  // A pass ends when every worker's claim came back empty. Rows skipped because
  // someone else held them are looked at again by the next pass; each claimed
  // row leaves the claimable set (migrated, or failed and recorded), so the
  // passes end.
  while (!run.signal?.aborted && !run.budget.exhausted) {
    if ((await runPass(run, workers)) === 0) break;
  }
  // Not after a failed run: a database that was just unreachable would only make the error wait.
  await workers.statistics.finish();
  return finish(run);
}

function finish(run: Run): BackfillReport {
  return Object.freeze({
    migrated: run.tally.migrated,
    skipped: run.tally.skipped,
    failed: run.tally.failed,
    invalidKeys: run.tally.invalidKeys,
    seconds: Math.round(run.seconds() * 1000) / 1000,
    dryRun: run.plan.dryRun,
    interrupted: run.signal?.aborted ?? false,
  });
}

/** What the workers of a migrating run share besides the run. */
interface Workers {
  readonly transact: Transact;
  readonly pacer: Pacer;
  readonly statistics: StatisticsRefresh;
}

/** Runs `concurrency` workers over one keyset pass; returns how many users they claimed. */
async function runPass(run: Run, shared: Workers): Promise<number> {
  const failure = new AbortController();
  const stop = run.signal ? AbortSignal.any([run.signal, failure.signal]) : failure.signal;
  const cursor = new Cursor();
  const workers = Array.from({ length: run.plan.concurrency }, () =>
    worker(run, shared, cursor, stop).catch((error: unknown) => {
      // Let the other batches finish and commit before the error surfaces.
      failure.abort();
      throw error;
    }),
  );
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.reduce((sum, s) => sum + (s.status === 'fulfilled' ? s.value : 0), 0);
}

async function worker(run: Run, shared: Workers, cursor: Cursor, stop: AbortSignal): Promise<number> {
  let claimed = 0;
  while (!stop.aborted) {
    const size = run.budget.reserve(run.plan.batchSize);
    if (size === 0) break;
    await shared.pacer.take(size, stop);
    if (stop.aborted) {
      run.budget.refund(size);
      break;
    }
    const batch = await retryOnConnectionLoss(
      () =>
        migrateBatch(
          run.ctx,
          shared.transact,
          // The cursor is read at claim time: on SQLite the claim waits for the write queue.
          (trx) => claimBatch(trx, run.ctx.sql, cursor.value, size, run.filter),
          stop,
          run.after,
        ),
      stop,
      run.onReconnect,
      (error) => redoable(run, error),
      (error) => run.ctx.db.classifyError(error) === 'transient',
    );
    run.budget.refund(size - batch.claimed);
    if (batch.last === null) break;
    cursor.advance(batch.last);
    claimed += batch.claimed;
    run.tally.migrated += batch.migrated;
    run.tally.skipped += batch.skipped;
    run.tally.failed += batch.failures.length;
    run.report();
    await shared.statistics.after(run.tally.migrated);
  }
  return claimed;
}
