import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { MapSql } from '../db/map-sql.js';
import { FAILURES_TABLE } from '../db/own-tables.js';
import { type OutboxCounts, OutboxStore } from '../outbox/outbox-store.js';

export interface StatusReport {
  /** Every row of the legacy table. */
  readonly legacyTotal: number;
  readonly migrated: number;
  /** Rows still to migrate (never counting the invalid ones below). */
  readonly pending: number;
  /** Subjects with an open entry in the repair queue. */
  readonly failed: number;
  /** Unmigrated rows no migration can take until someone repairs them. */
  readonly invalid: {
    /** The user key is NULL. */
    readonly nullKeys: number;
    /** The user key is shared with another row. */
    readonly duplicateKeys: number;
  };
  /** After-commit events not yet delivered, and dead ones. */
  readonly outbox: OutboxCounts;
}

/** Counts for `orgshift status`: one scan of the legacy table, one count of the repair queue. */
export async function status(db: Database, m: MapSql): Promise<StatusReport> {
  const counts = await sql<{ total: number | string; migrated: number | string; null_keys: number | string }>`
    select count(*) as total,
      count(case when ${sql.raw(m.marked('l'))} then 1 end) as migrated,
      count(case when ${sql.raw(m.key('l'))} is null and not ${sql.raw(m.marked('l'))} then 1 end) as null_keys
    from ${sql.raw(m.legacy)} l`.execute(db.kysely);
  const duplicates = m.resolved.keyUnique ? 0 : await countDuplicateRows(db, m);
  const failures = await sql<{ failed: number | string }>`
    select count(*) as failed from ${sql.raw(FAILURES_TABLE)}`.execute(db.kysely);
  const row = counts.rows[0];
  const legacyTotal = Number(row?.total ?? 0);
  const migrated = Number(row?.migrated ?? 0);
  const nullKeys = Number(row?.null_keys ?? 0);
  return Object.freeze({
    legacyTotal,
    migrated,
    pending: Math.max(0, legacyTotal - migrated - nullKeys - duplicates),
    failed: Number(failures.rows[0]?.failed ?? 0),
    invalid: Object.freeze({ nullKeys, duplicateKeys: duplicates }),
    outbox: await new OutboxStore(db).counts(),
  });
}

/** Unmigrated rows whose key another row shares. */
export async function countDuplicateRows(db: Database, m: MapSql): Promise<number> {
  const result = await sql<{ n: number | string }>`
    select count(*) as n from ${sql.raw(m.legacy)} l
    where not ${sql.raw(m.marked('l'))} and ${sql.raw(m.key('l'))} in (
      select ${sql.raw(m.key('g'))} from ${sql.raw(m.legacy)} g
      where ${sql.raw(m.key('g'))} is not null group by ${sql.raw(m.key('g'))} having count(*) > 1)`.execute(db.kysely);
  return Number(result.rows[0]?.n ?? 0);
}
