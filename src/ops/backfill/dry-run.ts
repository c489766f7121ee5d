import { sql } from 'kysely';
import type { MapSql } from '../../db/map-sql.js';
import { decodeLegacyRow, legacySelectList } from '../../migration/legacy-rows.js';
import type { MigrationContext } from '../../migration/migration-context.js';
import { planMigration } from '../../migration/plan.js';
import { claimableCondition, type PendingFilter } from './claim.js';
import type { Budget } from './pacing.js';

export interface DryRunTally {
  wouldMigrate: number;
  wouldFail: number;
}

/**
 * Walks the users the real run would take, in keyset pages and without
 * locks or writes, and plans each page exactly as the migration would
 * (planMigration), so it predicts the failures the data alone can reveal: a
 * secret that does not decode, a column that does not decode, a key that is
 * not a valid key.
 */
export async function dryRunScan(
  ctx: MigrationContext,
  filter: PendingFilter,
  pageSize: number,
  budget: Budget,
  onPage: (tally: Readonly<DryRunTally>) => void,
  signal?: AbortSignal,
): Promise<DryRunTally> {
  const m: MapSql = ctx.sql;
  const key = m.key('l');
  const tally: DryRunTally = { wouldMigrate: 0, wouldFail: 0 };
  let cursor: unknown = null;
  while (!signal?.aborted) {
    const size = budget.reserve(pageSize);
    if (size === 0) break;
    const after = cursor === null ? sql`` : sql` and ${sql.raw(key)} > ${cursor}`;
    const page = await sql<Record<string, unknown>>`
      select ${sql.raw(legacySelectList(m))} from ${sql.raw(m.legacy)} l
      where ${claimableCondition(m, filter)}${after}
      order by ${sql.raw(key)} limit ${size}`.execute(ctx.db.kysely);
    budget.refund(size - page.rows.length);
    const plan = planMigration(
      ctx,
      page.rows.map((row) => decodeLegacyRow(m, row)),
    );
    tally.wouldMigrate += plan.users.length;
    tally.wouldFail += plan.refused.length;
    const last = page.rows.at(-1);
    if (last === undefined) break;
    cursor = last[m.model.legacy.key.column];
    onPage(tally);
  }
  return tally;
}
