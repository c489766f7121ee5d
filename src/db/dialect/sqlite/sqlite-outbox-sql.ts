import { type RawBuilder, sql } from 'kysely';
import { OUTBOX_TABLE } from '../../own-tables.js';
import { type ClaimedRow, type OutboxSql, outboxDdl } from '../outbox-sql.js';

const table = sql.raw(OUTBOX_TABLE);
/** Not yet delivered and not dead, for the row aliased `alias` (none: the table itself). */
const pending = (alias?: string) => {
  const p = alias === undefined ? '' : `${alias}.`;
  return sql.raw(`${p}delivered_at is null and ${p}dead_at is null`);
};
const FORMAT = '%Y-%m-%dT%H:%M:%fZ';
/** Timestamps are ISO-8601 text of one fixed width, so they compare as strings. */
const now = sql`strftime(${FORMAT}, 'now')`;
const seconds = (ms: number) => `+${(ms / 1000).toFixed(3)} seconds`;
const nowPlus = (ms: number) => sql`strftime(${FORMAT}, 'now', ${seconds(ms)})`;
const plus = (column: RawBuilder<unknown>, ms: number) => sql`strftime(${FORMAT}, ${column}, ${seconds(ms)})`;

/**
 * SQLite: each statement runs in the process's write queue, where BEGIN
 * IMMEDIATE already excludes every other writer, so the claim needs no row
 * locks. JSON set input through json_each.
 */
export const sqliteOutboxSql: OutboxSql = {
  // `seq` must be the rowid to be generated, so `id` gets the unique index.
  ddl: outboxDdl({
    keys: 'seq integer primary key,\n       id text not null unique',
    timestamp: 'text',
    json: 'text',
    now: `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    emptyArray: `'[]'`,
  }),

  append: (eventsJson) => sql`
    insert into ${table} (id, type, occurred_at, user_id, org_id, payload)
    select value ->> 'id', value ->> 'type', value ->> 'occurred_at', value ->> 'user_id', value ->> 'org_id',
      value -> 'payload'
    from json_each(${eventsJson})`,

  claim: (limit, token, leaseMs) => sql<ClaimedRow>`
    update ${table} set attempts = attempts + 1, claim_token = ${token}, next_attempt_at = ${nowPlus(leaseMs)}
    where seq in (
      select o.seq from ${table} o
      where ${pending('o')} and o.next_attempt_at <= ${now}
        and o.seq = (
          select p.seq from ${table} p
          where p.user_id = o.user_id and ${pending('p')}
          order by p.seq limit 1)
      order by o.next_attempt_at, o.seq
      limit ${limit})
    returning id, type, occurred_at, user_id, org_id, payload, attempts, delivered_to`,

  markDelivered: (idsJson) => sql`
    update ${table} set delivered_at = ${now}, claim_token = null, dead_at = null
    where id in (select value from json_each(${idsJson})) and delivered_at is null`,

  markFailed: (attemptsJson, maxAgeMs) => sql<{ id: unknown; dead: unknown }>`
    update ${table} as o set
      claim_token = null,
      delivered_to = f.delivered_to,
      last_error = f.error,
      dead_at = case when ${plus(sql.raw('o.retry_since'), maxAgeMs)} <= ${now} then ${now} end,
      next_attempt_at = min(
        strftime(${FORMAT}, 'now', '+' || (f.delay_ms / 1000.0) || ' seconds'),
        ${plus(sql.raw('o.retry_since'), maxAgeMs)})
    from (
      select value ->> 'id' as id, value ->> 'token' as token, value ->> 'delay_ms' as delay_ms,
        value -> 'delivered_to' as delivered_to, value ->> 'error' as error
      from json_each(${attemptsJson})
    ) as f
    where o.id = f.id and o.claim_token = f.token and ${pending('o')}
    returning id, dead_at is not null as dead`,

  retryPending: () => sql`
    update ${table} set next_attempt_at = ${now}
    where ${pending()} and claim_token is null and next_attempt_at > ${now}`,

  // SQLite plans the claim's per-user lookup on its index by the equality alone; no statistics needed.
  maintain: async () => undefined,

  retryDead: () => sql`
    update ${table} set dead_at = null, attempts = 0, claim_token = null, next_attempt_at = ${now}, retry_since = ${now}
    where dead_at is not null and delivered_at is null`,
};
