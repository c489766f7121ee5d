import { type RawBuilder, sql } from 'kysely';
import { type Database, ident } from '../db/database.js';

export const MAX_SAMPLE = 100;

/**
 * Up to `n` legacy user ids to try things with: users still waiting for
 * their migration first (their first read shows the migration), then
 * migrated ones, each in id order. Two index-ordered reads that stop after
 * `n` rows, not a sort of the whole table.
 */
export async function sampleLegacyIds(db: Database, n: number): Promise<string[]> {
  const limit = Math.max(0, Math.min(n, MAX_SAMPLE));
  const pending = await idsWhere(db, sql`is null`, limit);
  const migrated = pending.length < limit ? await idsWhere(db, sql`is not null`, limit - pending.length) : [];
  return [...pending, ...migrated];
}

async function idsWhere(db: Database, migratedAtTest: RawBuilder<unknown>, limit: number): Promise<string[]> {
  const legacy = db.legacy;
  const id = sql.raw(ident(legacy.columns.id));
  const rows = await sql<{ id: string }>`
    select ${id} as id from ${sql.raw(ident(legacy.usersTable))}
    where ${sql.raw(ident(legacy.columns.migratedAt))} ${migratedAtTest}
    order by ${id} limit ${limit}`.execute(db.kysely);
  return rows.rows.map((row) => row.id);
}
