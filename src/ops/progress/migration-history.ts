import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import type { MapSql } from '../../db/map-sql.js';
import { MIGRATION_COUNTS_TABLE } from '../../db/own-tables.js';

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

/**
 * The map's own record where it keeps one: a timestamp marker, counted by
 * minute (exact, every process's migrations, surviving restarts). Otherwise
 * the sampled counters.
 */
export function migrationHistory(db: Database, m: MapSql): MigrationHistory {
  return m.model.legacy.marker.type === 'timestamp' ? markerTimestampHistory(db, m) : sampledCountsHistory(db);
}

/** Counts the marker's timestamps by minute: one scan of the legacy table restricted to the window. */
export function markerTimestampHistory(db: Database, m: MapSql): MigrationHistory {
  const marker = sql.raw(m.markedAt('l'));
  const history: MigrationHistory = {
    kind: 'marker_timestamp',
    async perMinute(windowMinutes) {
      const now = await databaseEpoch(db);
      const since = windowStart(now, windowMinutes);
      const { rows } = await sql<{ minute: number | string; migrated: number | string }>`
        select ${sql.raw(db.sql.minuteOf(m.markedAt('l')))} as minute, count(*) as migrated from ${sql.raw(m.legacy)} l
        where ${marker} >= ${db.sql.bindTimestamp(since)}
        group by 1 order by 1`.execute(db.kysely);
      return { now, minutes: rows.map(toMinuteCount) };
    },
  };
  return Object.freeze(history);
}

/** Sums the sampled counters of every source by minute. */
export function sampledCountsHistory(db: Database): MigrationHistory {
  const history: MigrationHistory = {
    kind: 'sampled_counts',
    async perMinute(windowMinutes) {
      const now = await databaseEpoch(db);
      const { rows } = await sql<{ minute: number | string; migrated: number | string }>`
        select minute, sum(migrated) as migrated from ${sql.raw(MIGRATION_COUNTS_TABLE)}
        where minute >= ${windowStart(now, windowMinutes)}
        group by minute order by minute`.execute(db.kysely);
      return { now, minutes: rows.map(toMinuteCount).filter((c) => c.migrated > 0) };
    },
  };
  return Object.freeze(history);
}

/** The database's clock in seconds since the epoch, so buckets and "now" come from one clock. */
async function databaseEpoch(db: Database): Promise<number> {
  const { rows } = await sql<{ now: number | string }>`select ${sql.raw(db.sql.epochNow)} as now`.execute(db.kysely);
  return Number(rows[0]?.now);
}

/** Epoch second at which the oldest minute of the window starts. */
export function windowStart(now: number, windowMinutes: number): number {
  return (Math.floor(now / 60) - (windowMinutes - 1)) * 60;
}

function toMinuteCount(row: { minute: number | string; migrated: number | string }): MinuteCount {
  return { minute: Number(row.minute), migrated: Number(row.migrated) };
}
