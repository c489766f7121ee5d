import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';

/** Where the fixture goes: a PostgreSQL pool or an open better-sqlite3 database. */
export type FixtureTarget =
  | { readonly kind: 'postgres'; readonly pool: pg.Pool }
  | { readonly kind: 'sqlite'; readonly db: BetterSqlite3.Database };

/**
 * How DateTime values are stored on SQLite: integer milliseconds since the
 * epoch (Prisma's built-in SQLite driver) or ISO 8601 text (its driver
 * adapters' default). PostgreSQL always gets TIMESTAMP(3).
 */
export type SqliteTimestamps = 'unixepoch-ms' | 'iso8601';
