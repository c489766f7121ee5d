import { sql } from 'kysely';
import type { Database, Executor } from '../db/database.js';
import { FAILURES_TABLE } from '../db/own-tables.js';
import { isOrgshiftError } from '../errors.js';
import type { MigrationContext } from './migration-context.js';

export interface FailureRecord {
  /** 'key': `subject` is a user key; 'row': the primary key of a legacy row whose user key is NULL. */
  readonly kind?: 'key' | 'row';
  readonly subject: string;
  readonly code: string;
  readonly message: string;
}

/**
 * The repair queue (orgshift_migration_failures): users whose migration
 * failed, whose graph failed verification, or whose legacy row cannot be
 * migrated at all. One row per subject; attempts counts repeats. A migration
 * that succeeds deletes its user's row in the same commit (writes.ts).
 */
export async function recordFailure(db: Database, failure: FailureRecord): Promise<void> {
  // Through the write queue: on SQLite a stray autocommit write can starve an open transaction.
  await db.writeTransaction((trx) => recordFailuresWithin(trx, db, [failure]));
}

/**
 * Records failures inside the caller's transaction. The backfill writes a
 * batch's failures before the batch commits, so a failed user is in the
 * queue by the time its row lock is released and a claim that starts later
 * skips it.
 */
export async function recordFailuresWithin(
  trx: Executor,
  db: Database,
  failures: readonly FailureRecord[],
): Promise<void> {
  const now = sql.raw(db.sql.now);
  for (const failure of failures) {
    await sql`insert into ${sql.raw(FAILURES_TABLE)} (kind, subject, code, message, attempts, first_at, last_at)
    values (${failure.kind ?? 'key'}, ${failure.subject}, ${failure.code}, ${failure.message.slice(0, 1000)}, 1, ${now}, ${now})
    on conflict (kind, subject) do update set
      code = excluded.code, message = excluded.message,
      attempts = ${sql.raw(FAILURES_TABLE)}.attempts + 1, last_at = excluded.last_at`.execute(trx);
  }
}

const FAILURE_MESSAGES: Readonly<Record<string, string>> = Object.freeze({
  unique: 'an org, user or membership with this id (or another unique value, such as a slug) already exists',
  'foreign-key': 'a row the migration writes points at a row that does not exist',
  'not-null': 'a NOT NULL target column would get NULL (give the field a default, or fix the legacy row)',
  check: 'a value the migration writes breaks a check constraint',
  'invalid-value': 'a value does not fit its target column type',
});

/** A stable code and a message that never carries a secret or a row's values. */
export function describeFailure(ctx: MigrationContext, error: unknown): { code: string; message: string } {
  if (isOrgshiftError(error)) return { code: error.code, message: error.message };
  const known = FAILURE_MESSAGES[ctx.db.classifyError(error)];
  const column = (error as { column?: unknown } | null)?.column;
  if (known !== undefined) {
    return { code: 'migration_failed', message: typeof column === 'string' ? `${known} (column ${column})` : known };
  }
  const sqlState = (error as { code?: unknown } | null)?.code;
  return {
    code: 'migration_failed',
    message: `unexpected database error${typeof sqlState === 'string' ? ` (${sqlState})` : ''}`,
  };
}
