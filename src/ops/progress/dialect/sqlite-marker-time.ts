import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { MarkerTimeSql } from './marker-time.js';

/** SQLite keeps timestamps as ISO-8601 text (`2025-01-31T12:34:56.789Z`), which sorts as it reads. */
export const sqliteMarkerTime: MarkerTimeSql = Object.freeze({
  async now(db: Kysely<unknown>) {
    const { rows } = await sql<{ now: number }>`select (julianday('now') - 2440587.5) * 86400.0 as now`.execute(db);
    return Number(rows[0]?.now);
  },
  minuteOf: (column: RawBuilder<unknown>) => sql<number>`(cast(strftime('%s', ${column}) as integer) / 60) * 60`,
  since: (epochSeconds: number) => sql`${new Date(epochSeconds * 1000).toISOString()}`,
});
