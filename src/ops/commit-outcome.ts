import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import { isConnectionError } from '../db/database-errors.js';
import { retryOnConnectionLoss } from './backfill-reconnect.js';

export type CommitOutcome = 'committed' | 'aborted' | 'unknown';

/** The server has not finished the transaction yet: ask again. */
class StillInProgress extends Error {}

/**
 * How a transaction whose COMMIT went unanswered ended, asked of PostgreSQL
 * (`txid_status`, PostgreSQL 10 and later). The connection that carried the
 * COMMIT is gone, so a fresh one asks; while the server is unreachable, or
 * still finishing the transaction, it asks again for as long as a backfill
 * rides out an outage. 'unknown' only if the server no longer knows the
 * transaction, which takes billions of transactions in between.
 */
export async function commitOutcome(db: Database, transactionId: string, signal: AbortSignal): Promise<CommitOutcome> {
  return retryOnConnectionLoss(
    async () => {
      const result = await sql<{ status: string | null }>`
        select txid_status(${transactionId}::bigint) as status`.execute(db.kysely);
      const status = result.rows[0]?.status ?? null;
      if (status === 'in progress') throw new StillInProgress();
      return status === 'committed' ? 'committed' : status === 'aborted' ? 'aborted' : 'unknown';
    },
    signal,
    undefined,
    (error) => error instanceof StillInProgress || isConnectionError(error),
  );
}
