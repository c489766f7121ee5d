import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../../db/database.js';
import { sqlTypes } from '../../db/sql-types.js';

/** Per-minute migration counters written by every migrating process (migration-counter.ts). */
export const MIGRATION_COUNTS_TABLE = 'orgshift_migration_counts';
/** One row per finished audit, whichever process ran it (audit-runs.ts). */
export const AUDIT_RUNS_TABLE = 'orgshift_audit_runs';

/**
 * The tables behind the dashboard's history. Times are whole seconds or
 * milliseconds since the epoch as integers, so the same statements read and
 * write them on both dialects.
 */
export function progressMigration(dialect: Dialect): Migration {
  const statements = [
    `create table ${MIGRATION_COUNTS_TABLE} (
       minute bigint not null,
       source text not null check (source in ('just_in_time', 'backfill')),
       migrated bigint not null default 0,
       failed bigint not null default 0,
       primary key (minute, source)
     )`,
    `create table ${AUDIT_RUNS_TABLE} (
       id ${sqlTypes(dialect).serial},
       finished_at_ms bigint not null,
       ok integer not null,
       seconds double precision not null,
       violations text not null
     )`,
  ];
  return {
    async up(db: Kysely<unknown>) {
      for (const statement of statements) await sql.raw(statement).execute(db);
    },
  };
}
