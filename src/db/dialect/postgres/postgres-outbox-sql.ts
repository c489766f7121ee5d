import { sql } from 'kysely';
import type { Executor } from '../../database.js';
import { OUTBOX_TABLE } from '../../own-tables.js';
import { type ClaimedRow, type OutboxSql, outboxDdl } from '../outbox-sql.js';

const table = sql.raw(OUTBOX_TABLE);
/** Not yet delivered and not dead, for the row aliased `alias` (none: the table itself). */
const pending = (alias?: string) => {
  const p = alias === undefined ? '' : `${alias}.`;
  return sql.raw(`${p}delivered_at is null and ${p}dead_at is null`);
};
const millis = (value: number) => sql`(${value}::float8 * interval '1 millisecond')`;
/** Changed rows since the last ANALYZE that make statistics stale: a fifth of the table, and at least this many. */
const STALE_ROWS = 1_000;
const ANALYZE_LOCK_TIMEOUT = '500ms';

/**
 * Without statistics, or with statistics from when the outbox was nearly
 * empty, PostgreSQL believes both partial indexes hold no row and may plan
 * the claim's "first pending event of this user" lookup as a scan of every
 * pending event instead of a probe of the user's index: harmless with a
 * dozen pending events, seconds per claim with the 100,000 a backfill
 * writes. Autovacuum fixes that within a minute or so, if it runs at all.
 * So a claiming dispatcher analyzes the table itself once a fifth of it
 * changed since the last ANALYZE (sampling: a few hundred milliseconds at
 * most), giving up rather than queueing behind a lock.
 */
async function maintain(db: Executor): Promise<void> {
  try {
    const stats = await sql<{ modified: string | number | null; tuples: number }>`
      select s.n_mod_since_analyze as modified, c.reltuples as tuples
      from pg_stat_user_tables s join pg_class c on c.oid = s.relid
      where s.relid = ${OUTBOX_TABLE}::regclass`.execute(db);
    const row = stats.rows[0];
    if (row === undefined) return;
    const modified = Number(row.modified ?? 0);
    if (modified < Math.max(STALE_ROWS, Math.max(0, Number(row.tuples)) / 5)) return;
    await db.transaction().execute(async (trx) => {
      await sql`set local lock_timeout = ${sql.lit(ANALYZE_LOCK_TIMEOUT)}`.execute(trx);
      await sql`analyze ${table}`.execute(trx);
    });
  } catch {
    // Only speed is at stake.
  }
}

/**
 * PostgreSQL: JSON set input through jsonb_to_recordset (one bind value
 * whatever the number of rows), database time throughout so that several
 * hosts agree on what is due, and `FOR UPDATE SKIP LOCKED` so dispatchers
 * in several processes claim disjoint events without waiting on each other.
 */
export const postgresOutboxSql: OutboxSql = {
  // `id` is the primary key and `seq` needs no index of its own (it is in both partial
  // indexes), so each of an event's three row versions (written, claimed, delivered)
  // updates one full index, not two.
  ddl: outboxDdl({
    keys: 'id uuid primary key,\n       seq bigint generated always as identity',
    timestamp: 'timestamptz',
    json: 'jsonb',
    now: 'now()',
    emptyArray: `'[]'::jsonb`,
  }),

  append: (eventsJson) => sql`
    insert into ${table} (id, type, occurred_at, user_id, org_id, payload)
    select r.id, r.type, r.occurred_at, r.user_id, r.org_id, r.payload
    from jsonb_to_recordset(${eventsJson}::jsonb)
      as r(id uuid, type text, occurred_at timestamptz, user_id text, org_id text, payload jsonb)`,

  claim: (limit, token, leaseMs) => sql<ClaimedRow>`
    with due as (
      select o.id from ${table} o
      where ${pending('o')} and o.next_attempt_at <= now()
        and o.seq = (
          select p.seq from ${table} p
          where p.user_id = o.user_id and ${pending('p')}
          order by p.seq limit 1)
      order by o.next_attempt_at, o.seq
      limit ${limit}
      for update of o skip locked
    )
    update ${table} o set attempts = o.attempts + 1, claim_token = ${token}, next_attempt_at = now() + ${millis(leaseMs)}
    from due where o.id = due.id
    returning o.id::text as id, o.type, o.occurred_at, o.user_id, o.org_id, o.payload, o.attempts, o.delivered_to`,

  markDelivered: (idsJson) => sql`
    update ${table} set delivered_at = now(), claim_token = null, dead_at = null
    where id in (select value::uuid from jsonb_array_elements_text(${idsJson}::jsonb)) and delivered_at is null`,

  markFailed: (attemptsJson, maxAgeMs) => sql<{ id: unknown; dead: unknown }>`
    with f as (
      select * from jsonb_to_recordset(${attemptsJson}::jsonb)
        as r(id uuid, token text, delay_ms float8, delivered_to jsonb, error text)
    )
    update ${table} o set
      claim_token = null,
      delivered_to = f.delivered_to,
      last_error = f.error,
      dead_at = case when o.retry_since + ${millis(maxAgeMs)} <= now() then now() end,
      next_attempt_at = least(now() + f.delay_ms * interval '1 millisecond', o.retry_since + ${millis(maxAgeMs)})
    from f
    where o.id = f.id and o.claim_token = f.token and ${pending('o')}
    returning o.id::text as id, o.dead_at is not null as dead`,

  retryPending: () => sql`
    update ${table} set next_attempt_at = now()
    where ${pending()} and claim_token is null and next_attempt_at > now()`,

  maintain,

  retryDead: () => sql`
    update ${table} set dead_at = null, attempts = 0, claim_token = null, next_attempt_at = now(), retry_since = now()
    where dead_at is not null and delivered_at is null`,
};
