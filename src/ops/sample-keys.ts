import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { MapSql } from '../db/map-sql.js';
import { decodeLegacyRow } from '../migration/legacy-rows.js';

/** Pages read at most, so that a table full of unusable keys cannot make a sample scan it all. */
const MAX_PAGES = 10;

/**
 * A few legacy keys to try: pending ones first (they show a migration), then
 * migrated ones, in key order. Only keys a migration can take: never NULL,
 * never a key several rows share (each is refused as legacy_key_duplicate),
 * never one that is not a valid key of the map's type; each key once.
 */
export async function sampleKeys(db: Database, m: MapSql, n: number): Promise<string[]> {
  const keys: string[] = [];
  for (let page = 0; page < MAX_PAGES && keys.length < n; page++) {
    const rows = await candidates(db, m, n, page * n);
    for (const key of rows) {
      const row = decodeLegacyRow(m, { [m.model.legacy.key.column]: key });
      if (row.readable && keys.length < n) keys.push(row.key);
    }
    if (rows.length < n) break;
  }
  return keys;
}

/** One page of distinct, non-NULL keys held by exactly one legacy row. */
async function candidates(db: Database, m: MapSql, limit: number, offset: number): Promise<unknown[]> {
  const key = sql.raw(m.key('l'));
  const migratedLast = sql.raw(`case when ${m.marked('l')} then 1 else 0 end`);
  // With a unique index a key cannot repeat; otherwise grouping keeps the keys of exactly one row.
  const query = m.resolved.keyUnique
    ? sql<{ key: unknown }>`select ${key} as key from ${sql.raw(m.legacy)} l where ${key} is not null
        order by ${migratedLast}, ${key} limit ${limit} offset ${offset}`
    : sql<{ key: unknown }>`select ${key} as key from ${sql.raw(m.legacy)} l where ${key} is not null
        group by ${key} having count(*) = 1
        order by max(${migratedLast}), ${key} limit ${limit} offset ${offset}`;
  const result = await query.execute(db.kysely);
  return result.rows.map((r) => r.key);
}
