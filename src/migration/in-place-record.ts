import { type RawBuilder, sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { MapSql } from '../db/map-sql.js';
import { IN_PLACE_MIGRATIONS_TABLE } from '../db/own-tables.js';

/**
 * In place, the user row is the legacy row, and nothing in it tells a user
 * orgshift migrated from one that was created in the new shape: a native
 * sign-up (marked at once), a row the application gave an org itself, a row
 * `db migrate` found in the new shape when it added the marker. Each
 * in-place migration records its key in orgshift's own table instead, in
 * the migration's transaction; verification's state and the comparison of
 * mapped fields with their legacy source read it. (Moved shape: a user with
 * a legacy row was migrated, one without is native; no record is needed.)
 */

/** The write that records the migrated users of a payload (keys as text); a key migrated again after a rollback gets a new time. */
export function recordMigrations(m: MapSql, source: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`insert into ${sql.raw(IN_PLACE_MIGRATIONS_TABLE)} (user_key)
    select ${sql.raw(m.dialect.payloadKey)} from ${source} where true
    on conflict (user_key) do update set migrated_at = excluded.migrated_at`;
}

/** SQL: true when orgshift migrated the user of the legacy row `alias`. */
export function recordedMigration(m: MapSql, alias: string): string {
  return `exists (select 1 from ${IN_PLACE_MIGRATIONS_TABLE} r where r.user_key = ${m.dialect.toText(m.key(alias))})`;
}

/** Whether orgshift migrated this user (`key` in its canonical text form). */
export async function hasRecordedMigration(db: Executor, key: string): Promise<boolean> {
  const result = await sql<{ found: number }>`select 1 as found from ${sql.raw(IN_PLACE_MIGRATIONS_TABLE)}
    where user_key = ${key}`.execute(db);
  return result.rows.length > 0;
}
