import { type Kysely, type RawBuilder, sql } from 'kysely';
import { type Dialect, ident } from '../db/database.js';
import type { LegacySchema } from '../db/legacy-schema.js';
import type { OrgshiftTables } from '../db/schema.js';
import { nowExpression } from '../db/sql-types.js';
import { decodeLegacyRow, type LegacyRow, legacyRowColumns } from '../directory/legacy-row.js';

/** Which pending users a run may take. */
export interface PendingFilter {
  readonly retryFailed: boolean;
  /**
   * Database time when the run started. With `retryFailed`, a user whose
   * failure was recorded after it is not taken again, so the run terminates.
   */
  readonly runStart: unknown;
}

/** Database "now" as the driver returns it (Date on PostgreSQL, ISO text on SQLite), for `PendingFilter.runStart`. */
export async function databaseNow(db: Kysely<OrgshiftTables>, dialect: Dialect): Promise<unknown> {
  const result = await sql<{ now: unknown }>`select ${sql.raw(nowExpression(dialect))} as now`.execute(db);
  return result.rows[0]?.now;
}

/** `l` is the legacy users table; true for rows this run may migrate. */
export function pendingCondition(legacy: LegacySchema, filter: PendingFilter): RawBuilder<unknown> {
  const c = legacy.columns;
  const failedNow = filter.retryFailed ? sql` and f.last_at >= ${filter.runStart}` : sql``;
  return sql`l.${sql.raw(ident(c.migratedAt))} is null
    and not exists (select 1 from migration_failures f where f.user_id = l.${sql.raw(ident(c.id))}${failedNow})`;
}

/** A claimed batch, locked until its transaction ends. */
export interface ClaimedBatch {
  readonly rows: readonly LegacyRow[];
  /**
   * PostgreSQL's id of the batch's transaction (null on SQLite, or when
   * nothing was claimed): if the answer to its COMMIT is lost with the
   * connection, the server can still say how it ended (commit-outcome.ts).
   */
  readonly transactionId: string | null;
}

/**
 * Claims up to `size` pending users after `cursor`, in id order (keyset
 * pagination: the partial pending index makes each claim start where the
 * last one ended, never OFFSET), and reads them whole, so the claim is also
 * the migration's read.
 *
 * PostgreSQL: `FOR UPDATE SKIP LOCKED` locks the rows until the batch
 * transaction ends. Rows another backfill or a just-in-time migration holds
 * are skipped instead of waited for; the row lock, not the distributed
 * `user:<id>` lock, is what keeps two migrators off one user here, and the
 * conditional update in the migration is the fence behind it.
 * SQLite: the caller's `BEGIN IMMEDIATE` already excludes every other writer.
 */
export async function claimBatch(
  trx: Kysely<OrgshiftTables>,
  dialect: Dialect,
  legacy: LegacySchema,
  cursor: string,
  size: number,
  filter: PendingFilter,
): Promise<ClaimedBatch> {
  const id = sql.raw(ident(legacy.columns.id));
  const postgres = dialect === 'postgres';
  const transactionId = postgres ? sql.raw(', txid_current()::text as orgshift_txid') : sql.raw('');
  const lock = postgres ? sql.raw('for update of l skip locked') : sql.raw('');
  const result = await sql<Record<string, unknown>>`
    select ${legacyRowColumns(legacy)}${transactionId} from ${sql.raw(ident(legacy.usersTable))} l
    where ${pendingCondition(legacy, filter)} and l.${id} > ${cursor}
    order by l.${id} limit ${size} ${lock}`.execute(trx);
  const first = result.rows[0]?.orgshift_txid;
  return {
    rows: result.rows.map((row) => decodeLegacyRow(row, legacy)),
    transactionId: typeof first === 'string' ? first : null,
  };
}

/** Pending users at the start of a run, and how many of them already have a recorded failure. */
export async function countPending(
  db: Kysely<OrgshiftTables>,
  legacy: LegacySchema,
): Promise<{ pending: number; previouslyFailed: number }> {
  const c = legacy.columns;
  const result = await sql<{ pending: number | string; failed: number | string }>`
    select count(*) as pending, count(f.user_id) as failed
    from ${sql.raw(ident(legacy.usersTable))} l
    left join migration_failures f on f.user_id = l.${sql.raw(ident(c.id))}
    where l.${sql.raw(ident(c.migratedAt))} is null`.execute(db);
  const row = result.rows[0];
  return { pending: Number(row?.pending ?? 0), previouslyFailed: Number(row?.failed ?? 0) };
}
