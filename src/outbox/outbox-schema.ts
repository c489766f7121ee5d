import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../db/database.js';
import { sqlTypes } from '../db/sql-types.js';

/** The table orgshift owns for after-commit side effects. */
export const OUTBOX_TABLE = 'orgshift_outbox';

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
  const seq = dialect === 'postgres' ? 'bigint generated always as identity primary key' : 'integer primary key';
  const pending = 'delivered_at is null and dead_at is null';
  return [
    `create table if not exists ${OUTBOX_TABLE} (
       seq ${seq},
       id ${t.uuid} not null unique,
       type text not null,
       occurred_at ${t.timestamp} not null,
       user_id text not null,
       org_id text not null,
       payload ${t.json} not null,
       attempts integer not null default 0,
       next_attempt_at ${t.timestamp} not null default ${t.now},
       retry_since ${t.timestamp} not null default ${t.now},
       claim_token text,
       delivered_to ${t.json} not null default ${dialect === 'postgres' ? `'[]'::jsonb` : `'[]'`},
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
