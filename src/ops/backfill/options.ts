import type { ReconnectAttempt } from '../../db/reconnect.js';
import { OrgshiftError } from '../../errors.js';

export interface BackfillProgress {
  /** Users this run has finished with so far: migrated + failed + skipped by a race. */
  readonly done: number;
  /** What the run expects to do: claimable pending users at the start, capped by `limit`. */
  readonly total: number;
  readonly migrated: number;
  readonly failed: number;
  readonly seconds: number;
}

export interface BackfillOptions {
  /**
   * Batches in flight at once (PostgreSQL). Each holds one pooled connection
   * and one open transaction. SQLite serializes writers, so it always runs one.
   */
  readonly concurrency?: number;
  /** Users claimed and migrated per transaction. Also the longest a just-in-time reader waits on a claimed row. */
  readonly batchSize?: number;
  /** Stop after this many users were attempted (migrated or failed). */
  readonly limit?: number;
  /** Ceiling in users per second over the whole run. */
  readonly rate?: number;
  /** Also attempt users already listed in `migration_failures` (each at most once per run). */
  readonly retryFailed?: boolean;
  /** Count what would happen (including secrets that would not decrypt) and write nothing. */
  readonly dryRun?: boolean;
  /** Called after every batch; must not throw. */
  readonly onProgress?: (progress: BackfillProgress) => void;
  /** Aborting finishes the batches in flight, then returns a partial report. */
  readonly signal?: AbortSignal;
  /**
   * Called before a batch whose database connection was lost is retried
   * (RECONNECT in src/db/reconnect.ts says how long); must not throw.
   */
  readonly onReconnect?: (attempt: ReconnectAttempt) => void;
}

export interface BackfillReport {
  readonly migrated: number;
  /**
   * Pending users left alone: already recorded as failed (without
   * `retryFailed`), or migrated by someone else between claim and migration.
   */
  readonly skipped: number;
  /** Users whose migration failed in this run; each is recorded in the repair queue. */
  readonly failed: number;
  /**
   * Legacy rows no migration can take (a NULL key, a key shared by several
   * rows), refused and recorded in the repair queue at the start of the run.
   */
  readonly invalidKeys: number;
  readonly seconds: number;
  readonly dryRun: boolean;
  /** True when the run was stopped by its signal before it ran out of work. */
  readonly interrupted: boolean;
}

/** Options with defaults applied and bounds checked. */
export interface BackfillPlan {
  readonly concurrency: number;
  readonly batchSize: number;
  readonly limit: number;
  readonly rate: number | undefined;
  readonly retryFailed: boolean;
  readonly dryRun: boolean;
}

/**
 * A batch is four round trips whatever its size (begin, claim, the
 * set-based write, commit; a batch redone user by user after a failed
 * write costs more), so larger batches pay less per user, up to about 250
 * on two cores (measured: 3,600 users/s at 100, 4,400 at 250, no better at
 * 500 or 2,000). The batch size also bounds how long a just-in-time reader
 * can wait on a claimed row (a batch of 250 takes about 0.2 s), so it stays
 * there. Four batches in flight keep the process and the database busy while
 * each waits for the other; a second process (or machine) scales further,
 * since claims skip each other's rows.
 */
export const BACKFILL_DEFAULTS = Object.freeze({ concurrency: 4, batchSize: 250 });
const MAX_CONCURRENCY = 64;
const MAX_BATCH_SIZE = 10_000;

function whole(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new OrgshiftError('invalid_input', `${name} must be a whole number between 1 and ${max}`);
  }
  return value;
}

/** `poolSize`: connections the database may hold (1 where writers are serialized anyway). */
export function planBackfill(options: BackfillOptions, poolSize: number): BackfillPlan {
  const rate = options.rate;
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0)) {
    throw new OrgshiftError('invalid_input', 'rate must be a positive number of users per second');
  }
  const requested = whole('concurrency', options.concurrency, BACKFILL_DEFAULTS.concurrency, MAX_CONCURRENCY);
  let batchSize = whole('batchSize', options.batchSize, BACKFILL_DEFAULTS.batchSize, MAX_BATCH_SIZE);
  // A batch runs at full speed once claimed; under a low rate, keep each burst to about a second's worth.
  if (rate !== undefined) batchSize = Math.max(1, Math.min(batchSize, Math.floor(rate)));
  return {
    // One more connection than batches in flight stays free for failure records and progress counts.
    concurrency: poolSize <= 1 ? 1 : Math.max(1, Math.min(requested, poolSize - 1)),
    batchSize,
    limit: whole('limit', options.limit, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    rate,
    retryFailed: options.retryFailed ?? false,
    dryRun: options.dryRun ?? false,
  };
}
