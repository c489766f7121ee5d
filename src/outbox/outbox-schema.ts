import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../db/database.js';
import { sqlTypes } from '../db/sql-types.js';

/** The table orgshift owns for after-commit side effects. */
export const OUTBOX_TABLE = 'orgshift_outbox';

/**
 * `id` is how the dispatcher addresses an event and `seq` orders a user's
 * events. PostgreSQL: `id` is the primary key and `seq` needs no index of its
 * own (it is in both partial indexes), so each of an event's three row
 * versions (written, claimed, delivered) updates one full index, not two.
 * SQLite: `seq` must be the rowid to be generated, so `id` gets the unique
 * index.
 */
const spelling: Readonly<Record<Dialect, { readonly keys: string; readonly emptyArray: string }>> = {
  postgres: { keys: 'id uuid primary key,\n       seq bigint generated always as identity', emptyArray: `'[]'::jsonb` },
  sqlite: { keys: 'seq integer primary key,\n       id text not null unique', emptyArray: `'[]'` },
};

/**
 * DDL of the outbox, for one dialect. `seq` is the ordering key: events of
 * one user are written under that user's lock (or row lock), so a later
 * event of a user always gets a larger `seq`. The partial indexes cover only
 * undelivered events, so the dispatcher's claim and its "is an earlier event
 * of this user still pending?" check stay index scans however many delivered
 * events the table keeps.
 */
export function outboxSchemaStatements(dialect: Dialect): readonly string[] {
  const t = sqlTypes(dialect);
  const { keys, emptyArray } = spelling[dialect];
  const pending = 'delivered_at is null and dead_at is null';
  return [
    `create table if not exists ${OUTBOX_TABLE} (
       ${keys},
       type text not null,
       occurred_at ${t.timestamp} not null,
       user_id text not null,
       org_id text not null,
       payload ${t.json} not null,
       attempts integer not null default 0,
       next_attempt_at ${t.timestamp} not null default ${t.now},
       retry_since ${t.timestamp} not null default ${t.now},
       claim_token text,
       delivered_to ${t.json} not null default ${emptyArray},
       delivered_at ${t.timestamp},
       dead_at ${t.timestamp},
       last_error text
     )`,
    `create index if not exists ${OUTBOX_TABLE}_due_idx on ${OUTBOX_TABLE} (next_attempt_at, seq) where ${pending}`,
    `create index if not exists ${OUTBOX_TABLE}_user_pending_idx on ${OUTBOX_TABLE} (user_id, seq) where ${pending}`,
    `create index if not exists ${OUTBOX_TABLE}_dead_idx on ${OUTBOX_TABLE} (dead_at) where dead_at is not null`,
  ];
}

/** The outbox as a schema migration, so several processes starting at once create it once. */
export function outboxMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      for (const statement of outboxSchemaStatements(dialect)) await sql.raw(statement).execute(db);
    },
  };
}
