import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { MarkerTimeSql } from './marker-time.js';

export const postgresMarkerTime: MarkerTimeSql = Object.freeze({
  async now(db: Kysely<unknown>) {
    const { rows } = await sql<{ now: number | string }>`select extract(epoch from now())::float8 as now`.execute(db);
    return Number(rows[0]?.now);
  },
  minuteOf: (column: RawBuilder<unknown>) => sql<string>`(floor(extract(epoch from ${column}) / 60) * 60)::bigint`,
  since: (epochSeconds: number) => sql`to_timestamp(${epochSeconds})`,
});
