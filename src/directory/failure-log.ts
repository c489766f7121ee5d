import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import { nowExpression } from '../db/sql-types.js';
import { withWriteTransaction } from '../db/transaction.js';

/**
 * `migration_failures` is the repair queue: users whose migration failed or
 * whose graph failed verification. One row per user; attempts counts repeats.
 */
export async function recordFailure(db: Database, userId: string, code: string, message: string): Promise<void> {
  const now = sql.raw(nowExpression(db.dialect));
  // Through the write queue: on SQLite a stray autocommit write can starve an open transaction.
  await withWriteTransaction(db, (trx) =>
    sql`insert into migration_failures (user_id, code, message, attempts, first_at, last_at)
    values (${userId}, ${code}, ${message.slice(0, 1000)}, 1, ${now}, ${now})
    on conflict (user_id) do update set
      code = excluded.code, message = excluded.message,
      attempts = migration_failures.attempts + 1, last_at = excluded.last_at`.execute(trx),
  );
}

export async function clearFailure(db: Database, userId: string): Promise<void> {
  await withWriteTransaction(db, (trx) => sql`delete from migration_failures where user_id = ${userId}`.execute(trx));
}
