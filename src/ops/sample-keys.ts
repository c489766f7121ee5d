import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { MapSql } from '../db/map-sql.js';

/** A few legacy keys to try: pending ones first (they show a migration), then migrated ones, in key order. */
export async function sampleKeys(db: Database, m: MapSql, n: number): Promise<string[]> {
  const rows = await sql<{ key: unknown }>`
    select ${sql.raw(m.key('l'))} as key from ${sql.raw(m.legacy)} l where ${sql.raw(m.key('l'))} is not null
    order by case when ${sql.raw(m.marked('l'))} then 1 else 0 end, ${sql.raw(m.key('l'))} limit ${n}`.execute(
    db.kysely,
  );
  return rows.rows.map((r) => String(r.key));
}
