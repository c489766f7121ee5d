import { type Kysely, type Migration, type MigrationResult, Migrator } from 'kysely';
import { outboxMigration } from '../outbox/outbox-schema.js';
import type { Database } from './database.js';
import { ensureLegacyTables } from './legacy-tables.js';
import { organizationsMigration } from './migrations/001-organizations.js';

export interface MigrateReport {
  /** Names of the schema migrations applied by this call (empty when up to date). */
  readonly applied: readonly string[];
}

function migrationsFor(db: Database): Record<string, Migration> {
  return { '001_organizations': organizationsMigration(db.dialect), '002_outbox': outboxMigration(db.dialect) };
}

/** Creates or upgrades the schema. Idempotent, and safe to run from several processes at once. */
export async function migrateSchema(db: Database): Promise<MigrateReport> {
  const kysely = db.kysely as unknown as Kysely<unknown>;
  const migrator = new Migrator({
    db: kysely,
    migrationTableName: 'orgshift_migrations',
    migrationLockTableName: 'orgshift_migrations_lock',
    provider: { getMigrations: async () => migrationsFor(db) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  await ensureLegacyTables(kysely, db.dialect, db.legacy);
  return {
    applied: (results ?? [])
      .filter((r: MigrationResult) => r.status === 'Success')
      .map((r: MigrationResult) => r.migrationName),
  };
}
