import { sql } from 'kysely';
import { type Database, ident } from '../db/database.js';

export const MAX_SAMPLE = 100;

/**
 * Up to `n` legacy user ids to try things with: users still waiting for
 * their migration first (their first read shows the migration), then
 * migrated ones, each group in id order.
 */
export async function sampleLegacyIds(db: Database, n: number): Promise<string[]> {
  const legacy = db.legacy;
  const id = sql.raw(ident(legacy.columns.id));
  const migratedAt = sql.raw(ident(legacy.columns.migratedAt));
  const limit = Math.max(0, Math.min(n, MAX_SAMPLE));
  const rows = await sql<{ id: string }>`
    select ${id} as id from ${sql.raw(ident(legacy.usersTable))}
    order by ${migratedAt} is not null, ${id} limit ${limit}`.execute(db.kysely);
  return rows.rows.map((row) => row.id);
}
