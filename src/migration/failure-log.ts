import { sql } from 'kysely';
import type { Database, Executor } from '../db/database.js';
import { FAILURES_TABLE } from '../db/own-tables.js';

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
