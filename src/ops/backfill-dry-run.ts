import { sql } from 'kysely';
import { type Database, ident } from '../db/database.js';
import { decodeLegacyRow, legacyRowColumns } from '../directory/legacy-row.js';
import type { MigrationContext } from '../directory/migration-context.js';
import { planMigration } from '../directory/migration-plan.js';
import { type PendingFilter, pendingCondition } from './backfill-claim.js';
import type { Budget } from './backfill-pacing.js';

export interface DryRunTally {
  wouldMigrate: number;
  wouldFail: number;
}

/**
 * Walks the pending users the real run would take, in keyset pages and
 * without locks or writes, and plans each page exactly as the migration
 * would (planMigration), so it predicts the failures the data alone can
 * reveal: a legacy secret that does not decrypt, a column that does not
 * decode.
 */
export async function dryRunScan(
  db: Database,
  ctx: MigrationContext,
  filter: PendingFilter,
  pageSize: number,
  budget: Budget,
  onPage: (tally: Readonly<DryRunTally>) => void,
  signal?: AbortSignal,
): Promise<DryRunTally> {
  const c = ctx.legacy.columns;
  const id = sql.raw(ident(c.id));
  const tally: DryRunTally = { wouldMigrate: 0, wouldFail: 0 };
  let cursor = '';
  while (!signal?.aborted) {
    const size = budget.reserve(pageSize);
    if (size === 0) break;
    const page = await sql<Record<string, unknown>>`
      select ${legacyRowColumns(ctx.legacy)} from ${sql.raw(ident(ctx.legacy.usersTable))} l
      where ${pendingCondition(ctx.legacy, filter)} and l.${id} > ${cursor}
      order by l.${id} limit ${size}`.execute(db.kysely);
    budget.refund(size - page.rows.length);
    const plan = planMigration(
      ctx,
      page.rows.map((row) => decodeLegacyRow(row, ctx.legacy)),
    );
    tally.wouldMigrate += plan.users.length;
    tally.wouldFail += plan.refused.length;
    const last = page.rows.at(-1);
    if (last === undefined) break;
    cursor = String(last.id);
    onPage(tally);
  }
  return tally;
}
