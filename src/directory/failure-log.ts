import { type Kysely, sql } from 'kysely';
import type { Database, Dialect } from '../db/database.js';
import type { OrgshiftTables } from '../db/schema.js';
import { nowExpression } from '../db/sql-types.js';
import { withWriteTransaction } from '../db/transaction.js';

export interface FailureRecord {
  readonly userId: string;
  readonly code: string;
  readonly message: string;
}

/**
 * `migration_failures` is the repair queue: users whose migration failed or
 * whose graph failed verification. One row per user; attempts counts repeats.
 * A migration that succeeds deletes its user's row in the same commit
 * (migration-writes.ts).
 */
export async function recordFailure(db: Database, userId: string, code: string, message: string): Promise<void> {
  // Through the write queue: on SQLite a stray autocommit write can starve an open transaction.
  await withWriteTransaction(db, (trx) => recordFailuresWithin(trx, db.dialect, [{ userId, code, message }]));
}

/**
 * Records failures inside the caller's transaction. The backfill writes a
 * batch's failures before the batch commits, so a failed user is in the
 * queue by the time its row lock is released and a claim that starts later
 * skips it. A claim whose snapshot is older than that commit can still take
 * the user once more (its row was locked, never updated, so PostgreSQL does
 * not re-check the claim's conditions): then it is attempted and counted
 * twice, with `attempts` 2, and nothing else happens.
 */
export async function recordFailuresWithin(
  trx: Kysely<OrgshiftTables>,
  dialect: Dialect,
  failures: readonly FailureRecord[],
): Promise<void> {
  const now = sql.raw(nowExpression(dialect));
  for (const failure of failures) {
    await sql`insert into migration_failures (user_id, code, message, attempts, first_at, last_at)
    values (${failure.userId}, ${failure.code}, ${failure.message.slice(0, 1000)}, 1, ${now}, ${now})
    on conflict (user_id) do update set
      code = excluded.code, message = excluded.message,
      attempts = migration_failures.attempts + 1, last_at = excluded.last_at`.execute(trx);
  }
}
