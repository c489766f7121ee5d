import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { MIGRATION_COUNTS_TABLE } from '../../db/own-tables.js';
import type { MigrationSource } from './migration-counter.js';

export interface SourceCounts {
  readonly migrated: number;
  readonly failed: number;
}

/** Who migrated the users, since the counters exist: just-in-time reads or the backfill. */
export type SourceShare = Readonly<Record<MigrationSource, SourceCounts>>;

export async function sourceShare(db: Database): Promise<SourceShare> {
  const { rows } = await sql<{ source: string; migrated: number | string; failed: number | string }>`
    select source, sum(migrated) as migrated, sum(failed) as failed
    from ${sql.table(MIGRATION_COUNTS_TABLE)} group by source`.execute(db.kysely as unknown as Kysely<unknown>);
  const of = (source: MigrationSource): SourceCounts => {
    const row = rows.find((r) => r.source === source);
    return { migrated: Number(row?.migrated ?? 0), failed: Number(row?.failed ?? 0) };
  };
  return { just_in_time: of('just_in_time'), backfill: of('backfill') };
}
