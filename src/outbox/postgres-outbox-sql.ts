import { sql } from 'kysely';
import { OUTBOX_TABLE } from './outbox-schema.js';
import type { ClaimedRow, OutboxSql } from './outbox-sql.js';

const table = sql.raw(OUTBOX_TABLE);
/** Not yet delivered and not dead, for the row aliased `alias` (none: the table itself). */
const pending = (alias?: string) => {
  const p = alias === undefined ? '' : `${alias}.`;
  return sql.raw(`${p}delivered_at is null and ${p}dead_at is null`);
};
const millis = (value: number) => sql`(${value}::float8 * interval '1 millisecond')`;

/**
 * PostgreSQL: JSON set input through jsonb_to_recordset (one bind value
 * whatever the number of rows), database time throughout so that several
 * hosts agree on what is due, and `FOR UPDATE SKIP LOCKED` so dispatchers
 * in several processes claim disjoint events without waiting on each other.
 */
export const postgresOutboxSql: OutboxSql = {
  append: (eventsJson) => sql`
    insert into ${table} (id, type, occurred_at, user_id, org_id, payload)
    select r.id, r.type, r.occurred_at, r.user_id, r.org_id, r.payload
    from jsonb_to_recordset(${eventsJson}::jsonb)
      as r(id uuid, type text, occurred_at timestamptz, user_id text, org_id text, payload jsonb)`,

  claim: (limit, token, leaseMs) => sql<ClaimedRow>`
    with due as (
      select o.seq from ${table} o
      where ${pending('o')} and o.next_attempt_at <= now()
        and not exists (
          select 1 from ${table} p
          where p.user_id = o.user_id and p.seq < o.seq and ${pending('p')})
      order by o.next_attempt_at, o.seq
      limit ${limit}
      for update of o skip locked
    )
    update ${table} o set attempts = o.attempts + 1, claim_token = ${token}, next_attempt_at = now() + ${millis(leaseMs)}
    from due where o.seq = due.seq
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

  retryDead: () => sql`
    update ${table} set dead_at = null, attempts = 0, claim_token = null, next_attempt_at = now(), retry_since = now()
    where dead_at is not null and delivered_at is null`,
};
