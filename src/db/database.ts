import { resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.js';
import type { LegacySchema } from './legacy-schema.js';
import type { OrgshiftTables } from './schema.js';

export type Dialect = 'postgres' | 'sqlite';

interface DatabaseBase {
  readonly kysely: Kysely<OrgshiftTables>;
  readonly legacy: LegacySchema;
  close(): Promise<void>;
}

export interface PostgresDatabase extends DatabaseBase {
  readonly dialect: 'postgres';
  /** The pool Kysely uses; named prepared statements go straight to it. */
  readonly pool: pg.Pool;
}

export interface SqliteDatabase extends DatabaseBase {
  readonly dialect: 'sqlite';
  readonly sqlite: BetterSqlite3.Database;
  /** Absolute path of the database file (`:memory:` for an in-memory database). */
  readonly file: string;
}

export type Database = PostgresDatabase | SqliteDatabase;

export interface OpenDatabaseOptions {
  /** Receives pool-level errors (an idle connection killed by the server), which would otherwise crash the process. */
  readonly onPoolError?: (error: Error) => void;
}

export function openDatabase(
  config: DatabaseConfig,
  legacy: LegacySchema,
  options: OpenDatabaseOptions = {},
): Database {
  return config.kind === 'postgres'
    ? openPostgres(config.url, config.poolSize, legacy, options)
    : openSqlite(config.path, legacy);
}

function openPostgres(
  url: string,
  poolSize: number,
  legacy: LegacySchema,
  options: OpenDatabaseOptions,
): PostgresDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'orgshift',
  });
  pool.on('error', (error) => options.onPoolError?.(error));
  // pg-pool listens for errors only on idle clients. A checked-out client whose
  // backend is terminated between two queries (say, inside a transaction)
  // would emit an unhandled 'error' and crash the process; with this listener
  // its next query fails instead and is reported as database_unavailable.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.onPoolError?.(error));
  });
  const kysely = new Kysely<OrgshiftTables>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    dialect: 'postgres',
    kysely,
    pool,
    legacy,
    async close() {
      if (closed) return;
      closed = true;
      // Kysely's destroy ends the pool it was given.
      await kysely.destroy();
    },
  };
}

function openSqlite(path: string, legacy: LegacySchema): SqliteDatabase {
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  // Other processes on the same file (tests, a backfill beside a server) wait instead of failing.
  sqlite.pragma('busy_timeout = 5000');
  const kysely = new Kysely<OrgshiftTables>({ dialect: new SqliteDialect({ database: sqlite }) });
  let closed = false;
  return {
    dialect: 'sqlite',
    kysely,
    sqlite,
    file: path === ':memory:' ? `:memory:${Math.random()}` : resolve(path),
    legacy,
    async close() {
      if (closed) return;
      closed = true;
      await kysely.destroy();
    },
  };
}

/** Quotes an identifier that the config schema already restricted to `[a-z_][a-z0-9_]*`. */
export function ident(name: string): string {
  return `"${name}"`;
}
