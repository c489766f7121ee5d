import type { SqlDialect } from './dialect/dialect.js';
import { AUDIT_RUNS_TABLE, FAILURES_TABLE, IN_PLACE_MIGRATIONS_TABLE, MIGRATION_COUNTS_TABLE } from './own-tables.js';

/** One step of orgshift's own schema: applied once, in order, recorded in orgshift_schema_versions. */
export interface SchemaStep {
  readonly name: string;
  statements(dialect: SqlDialect): readonly string[];
}

export const VERSIONS_TABLE = 'orgshift_schema_versions';

/** The bookkeeping table itself, created before any step runs. */
export function versionsTable(d: SqlDialect): string {
  return `create table if not exists ${VERSIONS_TABLE} (
    name text primary key,
    applied_at ${d.types.timestamp} not null default ${defaultNow(d)}
  )`;
}

function defaultNow(d: SqlDialect): string {
  return `(${d.now})`;
}

/**
 * orgshift's own tables; everything else belongs to the team and is named
 * by the schema map. Add steps at the end; never edit one that shipped.
 */
export const OWN_SCHEMA: readonly SchemaStep[] = Object.freeze([
  {
    name: '001_repair_queue',
    statements: (d: SqlDialect) => [
      `create table if not exists ${FAILURES_TABLE} (
        kind text not null,
        subject text not null,
        code text not null,
        message text not null,
        attempts integer not null default 1,
        first_at ${d.types.timestamp} not null default ${defaultNow(d)},
        last_at ${d.types.timestamp} not null default ${defaultNow(d)},
        primary key (kind, subject)
      )`,
      `create index if not exists ${FAILURES_TABLE}_code_idx on ${FAILURES_TABLE} (code)`,
    ],
  },
  {
    // The dashboard's history where the map keeps no migration time, and the last audit from any
    // process. Times are whole seconds or milliseconds since the epoch, as integers, on every dialect.
    name: '002_progress',
    statements: (d: SqlDialect) => [
      `create table if not exists ${MIGRATION_COUNTS_TABLE} (
        minute bigint not null,
        source text not null check (source in ('just_in_time', 'backfill')),
        migrated bigint not null default 0,
        failed bigint not null default 0,
        primary key (minute, source)
      )`,
      `create table if not exists ${AUDIT_RUNS_TABLE} (
        id ${d.types.serialKey},
        finished_at_ms bigint not null,
        ok integer not null,
        seconds double precision not null,
        violations text not null
      )`,
    ],
  },
  {
    name: '003_outbox',
    statements: (d: SqlDialect) => d.outbox.ddl,
  },
  {
    // Keys as text (the failures table's form), whatever the key type: one table for every map.
    name: '004_in_place_migrations',
    statements: (d: SqlDialect) => [
      `create table if not exists ${IN_PLACE_MIGRATIONS_TABLE} (
        user_key text primary key,
        migrated_at ${d.types.timestamp} not null default ${defaultNow(d)}
      )`,
    ],
  },
]);
