import { sql } from 'kysely';
import { type Database, ident } from '../db/database.js';
import { type OutboxCounts, OutboxStore } from '../outbox/outbox-store.js';

export interface StatusReport {
  readonly legacyTotal: number;
  readonly migrated: number;
  readonly pending: number;
  /** Users with an open entry in `migration_failures`. */
  readonly failed: number;
  /** After-commit events not yet delivered, and dead ones. */
  readonly outbox: OutboxCounts;
}

/** Counts for `orgshift status`; one scan of the legacy table plus one count of failures. */
export async function status(db: Database): Promise<StatusReport> {
  const table = ident(db.legacy.usersTable);
  const migratedAt = ident(db.legacy.columns.migratedAt);
  const counts = await sql<{ total: number | string; migrated: number | string }>`
    select count(*) as total, count(${sql.raw(migratedAt)}) as migrated from ${sql.raw(table)}`.execute(db.kysely);
  const failures = await sql<{ failed: number | string }>`
    select count(*) as failed from migration_failures`.execute(db.kysely);
  const legacyTotal = Number(counts.rows[0]?.total ?? 0);
  const migrated = Number(counts.rows[0]?.migrated ?? 0);
  return {
    legacyTotal,
    migrated,
    pending: legacyTotal - migrated,
    failed: Number(failures.rows[0]?.failed ?? 0),
    outbox: await new OutboxStore(db).counts(),
  };
}
