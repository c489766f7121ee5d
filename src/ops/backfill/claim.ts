import { type RawBuilder, sql } from 'kysely';
import type { Database, Executor } from '../../db/database.js';
import type { MapSql } from '../../db/map-sql.js';
import { FAILURES_TABLE } from '../../db/own-tables.js';
import { decodeLegacyRow, type LegacyRow, legacySelectList } from '../../migration/legacy-rows.js';

/** Which pending users a run may take. */
export interface PendingFilter {
  readonly retryFailed: boolean;
  /**
   * Database time when the run started. With `retryFailed`, a user whose
   * failure was recorded after it is not taken again, so the run terminates.
   */
  readonly runStart: unknown;
}

/** Database "now" as the driver returns it, for `PendingFilter.runStart`. */
export async function databaseNow(db: Database): Promise<unknown> {
  const result = await sql<{ now: unknown }>`select ${sql.raw(db.sql.now)} as now`.execute(db.kysely);
  return result.rows[0]?.now;
}

/**
 * `l` is the legacy table; true for rows this run may migrate: pending, with
 * a usable key (not NULL, not shared with another row: those are refused and
 * recorded at the start of the run, see recordInvalidKeys), and not in the
 * repair queue unless the run retries failures.
 */
export function claimableCondition(m: MapSql, filter: PendingFilter): RawBuilder<unknown> {
  const key = m.key('l');
  const failedNow = filter.retryFailed ? sql` and f.last_at >= ${filter.runStart}` : sql``;
  const unique = m.resolved.keyUnique
    ? ''
    : ` and (select count(*) from ${m.legacy} l2 where ${m.key('l2')} = ${key}) = 1`;
  return sql`${sql.raw(m.pending('l'))} and ${sql.raw(key)} is not null${sql.raw(unique)}
    and not exists (select 1 from ${sql.raw(FAILURES_TABLE)} f
      where f.kind = 'key' and f.subject = ${sql.raw(m.dialect.toText(key))}${failedNow})`;
}

/** A claimed batch, locked until its transaction ends. */
export interface ClaimedBatch {
  readonly rows: readonly LegacyRow[];
  /** The key of the last row in key order (the next claim starts after it); null when nothing was claimed. */
  readonly last: unknown;
  /**
   * The database's id of the batch's transaction, where a commit can go
   * unanswered (PostgreSQL): the server can still say how it ended.
   */
  readonly transactionId: string | null;
}

/**
 * Claims up to `size` claimable users after `cursor`, in key order (keyset
 * pagination: each claim starts where the last one ended, never OFFSET), and
 * reads them whole, so the claim is also the migration's read. Where the
 * database has row locks, rows another migrator holds are skipped instead of
 * waited for; the row lock is what keeps two migrators off one user here,
 * and the migration's conditional write is the fence behind it. SQLite: the
 * caller's write transaction already excludes every other writer.
 */
export async function claimBatch(
  trx: Executor,
  m: MapSql,
  cursor: unknown,
  size: number,
  filter: PendingFilter,
): Promise<ClaimedBatch> {
  const key = m.key('l');
  const txid = m.dialect.transactionIdColumn === null ? '' : `, ${m.dialect.transactionIdColumn} as orgshift_txid`;
  const after = cursor === null ? sql`` : sql` and ${sql.raw(key)} > ${cursor}`;
  const result = await sql<Record<string, unknown>>`
    select ${sql.raw(legacySelectList(m))}${sql.raw(txid)} from ${sql.raw(m.legacy)} l
    where ${claimableCondition(m, filter)}${after}
    order by ${sql.raw(key)} limit ${size} ${sql.raw(m.dialect.forUpdateSkipLocked('l'))}`.execute(trx);
  const first = result.rows[0]?.orgshift_txid;
  const lastRow = result.rows.at(-1);
  return {
    rows: result.rows.map((row) => decodeLegacyRow(m, row)),
    last: lastRow === undefined ? null : lastRow[m.model.legacy.key.column],
    transactionId: typeof first === 'string' ? first : null,
  };
}

/** Claimable users at the start of a run, and how many of the pending ones already have a recorded failure. */
export async function countClaimable(db: Database, m: MapSql): Promise<{ pending: number; previouslyFailed: number }> {
  const key = m.key('l');
  const unique = m.resolved.keyUnique
    ? ''
    : ` and (select count(*) from ${m.legacy} l2 where ${m.key('l2')} = ${key}) = 1`;
  const result = await sql<{ pending: number | string; failed: number | string }>`
    select count(*) as pending, count(f.subject) as failed
    from ${sql.raw(m.legacy)} l
    left join ${sql.raw(FAILURES_TABLE)} f on f.kind = 'key' and f.subject = ${sql.raw(m.dialect.toText(key))}
    where ${sql.raw(m.pending('l'))} and ${sql.raw(key)} is not null${sql.raw(unique)}`.execute(db.kysely);
  const row = result.rows[0];
  return { pending: Number(row?.pending ?? 0), previouslyFailed: Number(row?.failed ?? 0) };
}

/**
 * Legacy rows no migration can take are refused in bulk and recorded in
 * the repair queue, so they are visible (status, the dashboard, `--retry-
 * failed` after a repair) instead of pending for ever: rows whose key is
 * NULL (recorded by their primary key, when the table has a one-column
 * one) and keys shared by several rows. Returns how many subjects it recorded.
 */
export async function recordInvalidKeys(trx: Executor, db: Database, m: MapSql): Promise<number> {
  const now = sql.raw(db.sql.now);
  const upsert = sql.raw(
    `on conflict (kind, subject) do update set attempts = ${FAILURES_TABLE}.attempts + 1, last_at = excluded.last_at`,
  );
  const primary = m.resolved.legacy.indexes.find((i) => i.primary && i.columns.length === 1)?.columns[0];
  const keyColumn = m.resolved.legacy.columns.find((c) => c.name === m.model.legacy.key.column);
  let recorded = 0;
  if (primary !== undefined && primary !== m.model.legacy.key.column && keyColumn?.nullable !== false) {
    const nulls =
      await sql`insert into ${sql.raw(FAILURES_TABLE)} (kind, subject, code, message, attempts, first_at, last_at)
      select 'row', ${sql.raw(m.dialect.toText(m.col('l', primary)))}, 'legacy_key_null',
        ${`the legacy row's user key (${m.model.legacy.key.column}) is NULL`}, 1, ${now}, ${now}
      from ${sql.raw(m.legacy)} l where ${sql.raw(m.key('l'))} is null and not ${sql.raw(m.marked('l'))}
      ${upsert}`.execute(trx);
    recorded += Number(nulls.numAffectedRows ?? 0n);
  }
  if (!m.resolved.keyUnique) {
    const shared =
      await sql`insert into ${sql.raw(FAILURES_TABLE)} (kind, subject, code, message, attempts, first_at, last_at)
      select 'key', ${sql.raw(m.dialect.toText(m.key('l')))}, 'legacy_key_duplicate',
        'several legacy rows share this user key', 1, ${now}, ${now}
      from ${sql.raw(m.legacy)} l where ${sql.raw(m.key('l'))} is not null
      group by ${sql.raw(m.key('l'))} having count(*) > 1 and count(case when ${sql.raw(m.marked('l'))} then 1 end) = 0
      ${upsert}`.execute(trx);
    recorded += Number(shared.numAffectedRows ?? 0n);
  }
  return recorded;
}
