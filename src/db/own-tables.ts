import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date | string, Date | string | undefined, Date | string>;

/**
 * The repair queue: users whose migration failed, whose graph failed
 * verification, or whose legacy row cannot be migrated at all (a NULL or
 * duplicated key). One row per subject; `attempts` counts repeats. A
 * migration that succeeds deletes its user's row in the same commit.
 * `kind` says what `subject` is: 'key' (a user key, as text) or 'row' (the
 * primary key of a legacy row whose user key is NULL).
 */
export interface MigrationFailuresTable {
  kind: 'key' | 'row';
  subject: string;
  code: string;
  message: string;
  attempts: number;
  first_at: Timestamp;
  last_at: Timestamp;
}

/** Which of orgshift's own schema steps ran. */
export interface SchemaVersionsTable {
  name: string;
  applied_at: Timestamp;
}

/** Tables orgshift owns; everything else belongs to the team and is named by the schema map. */
export interface OwnTables {
  orgshift_migration_failures: MigrationFailuresTable;
  orgshift_schema_versions: SchemaVersionsTable;
}

export const FAILURES_TABLE = 'orgshift_migration_failures';

/** Events waiting to be delivered after commit (src/outbox/, docs/outbox.md). */
export const OUTBOX_TABLE = 'orgshift_outbox';

/** Per-minute migration counters written by every migrating process (src/ops/progress/migration-counter.ts). */
export const MIGRATION_COUNTS_TABLE = 'orgshift_migration_counts';
/** One row per finished audit, whichever process ran it (src/ops/progress/audit-runs.ts). */
export const AUDIT_RUNS_TABLE = 'orgshift_audit_runs';
/**
 * In place, the keys of the users orgshift migrated, written by each migration in its own transaction. The
 * user row cannot say it: a migrated user and one created in the new shape (a native sign-up, or a row the
 * application gave an org itself) look the same, whatever the marker.
 */
export const IN_PLACE_MIGRATIONS_TABLE = 'orgshift_in_place_migrations';
