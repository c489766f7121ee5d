import { sql } from 'kysely';
import { type Database, ident } from '../db/database.js';
import type { MigrationContext } from '../directory/migration-context.js';
import { SecretUndecryptableError } from '../errors.js';
import { type PendingFilter, pendingCondition } from './backfill-claim.js';
import type { Budget } from './backfill-pacing.js';

export interface DryRunTally {
  wouldMigrate: number;
  wouldFail: number;
}

/**
 * Walks the pending users the real run would take, in keyset pages and
 * without locks or writes, and predicts the one failure the data alone can
 * reveal: a legacy secret that does not decrypt.
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
    const page = await sql<{ id: string; secret: string | null }>`
      select l.${id} as id, l.${sql.raw(ident(c.apiKeyEnc))} as secret
      from ${sql.raw(ident(ctx.legacy.usersTable))} l
      where ${pendingCondition(ctx.legacy, filter)} and l.${id} > ${cursor}
      order by l.${id} limit ${size}`.execute(db.kysely);
    budget.refund(size - page.rows.length);
    for (const row of page.rows) {
      if (decrypts(ctx, String(row.id), row.secret)) tally.wouldMigrate += 1;
      else tally.wouldFail += 1;
    }
    const last = page.rows.at(-1);
    if (last === undefined) break;
    cursor = String(last.id);
    onPage(tally);
  }
  return tally;
}

function decrypts(ctx: MigrationContext, userId: string, secret: string | null): boolean {
  if (secret === null) return true;
  try {
    ctx.legacyCipher.decrypt(secret, userId);
    return true;
  } catch (error) {
    if (error instanceof SecretUndecryptableError) return false;
    throw error;
  }
}
