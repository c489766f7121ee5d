import { type Kysely, sql } from 'kysely';
import { type Database, ident } from '../../db/database.js';
import { type MarkerTimeSql, markerTimeSql } from './dialect/index.js';
import { MIGRATION_COUNTS_TABLE } from './progress-schema.js';

/** Migrations that happened in one minute. */
export interface MinuteCount {
  /** Epoch second at which the minute starts. */
  readonly minute: number;
  readonly migrated: number;
}

export interface MinuteCounts {
  /** The database's clock, seconds since the epoch. */
  readonly now: number;
  /** Minutes with at least one migration, oldest first. */
  readonly minutes: readonly MinuteCount[];
}

/**
 * Where the per-minute history comes from. It is always read from the
 * database, never from this process's memory, so it survives restarts and
 * includes every process's migrations.
 */
export interface MigrationHistory {
  /**
   * `marker_timestamp`: the legacy rows' own migrated-at timestamps (exact).
   * `sampled_counts`: the counters every migrating process adds to every
   * few seconds, for a marker that records no time.
   */
  readonly kind: 'marker_timestamp' | 'sampled_counts';
  /** Migrations per minute over the last `windowMinutes` minutes, the current one included. */
  perMinute(windowMinutes: number): Promise<MinuteCounts>;
}

/** Counts `migrated_at` by minute: one scan of the legacy table restricted to the window. */
export function markerTimestampHistory(db: Database, clock: MarkerTimeSql = markerTimeSql(db.dialect)) {
  const kysely = db.kysely as unknown as Kysely<unknown>;
  const table = sql.raw(ident(db.legacy.usersTable));
  const marker = sql.raw(ident(db.legacy.columns.migratedAt));
  const history: MigrationHistory = {
    kind: 'marker_timestamp',
    async perMinute(windowMinutes) {
      const now = await clock.now(kysely);
      const since = windowStart(now, windowMinutes);
      const minute = clock.minuteOf(marker);
      const { rows } = await sql<{ minute: number | string; migrated: number | string }>`
        select ${minute} as minute, count(*) as migrated from ${table}
        where ${marker} >= ${clock.since(since)}
        group by 1 order by 1`.execute(kysely);
      return { now, minutes: rows.map(toMinuteCount) };
    },
  };
  return Object.freeze(history);
}

/** Sums the sampled counters of every source by minute. */
export function sampledCountsHistory(db: Database, clock: MarkerTimeSql = markerTimeSql(db.dialect)) {
  const kysely = db.kysely as unknown as Kysely<unknown>;
  const history: MigrationHistory = {
    kind: 'sampled_counts',
    async perMinute(windowMinutes) {
      const now = await clock.now(kysely);
      const { rows } = await sql<{ minute: number | string; migrated: number | string }>`
        select minute, sum(migrated) as migrated from ${sql.table(MIGRATION_COUNTS_TABLE)}
        where minute >= ${windowStart(now, windowMinutes)}
        group by minute order by minute`.execute(kysely);
      return { now, minutes: rows.map(toMinuteCount).filter((m) => m.migrated > 0) };
    },
  };
  return Object.freeze(history);
}

/** Epoch second at which the oldest minute of the window starts. */
export function windowStart(now: number, windowMinutes: number): number {
  return (Math.floor(now / 60) - (windowMinutes - 1)) * 60;
}

function toMinuteCount(row: { minute: number | string; migrated: number | string }): MinuteCount {
  return { minute: Number(row.minute), migrated: Number(row.migrated) };
}
