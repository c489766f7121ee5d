import type { RawBuilder } from 'kysely';
import type { Executor } from '../database.js';
import { OUTBOX_TABLE } from '../own-tables.js';

/** A claimed event as the database returns it; decoded by claimed-event.ts. */
export interface ClaimedRow {
  readonly id: unknown;
  readonly type: unknown;
  readonly occurred_at: unknown;
  readonly user_id: unknown;
  readonly org_id: unknown;
  readonly payload: unknown;
  readonly attempts: unknown;
  readonly delivered_to: unknown;
}

/** One failed attempt to record: when to try again, and which destinations already have the event. */
export interface FailedAttempt {
  readonly id: string;
  readonly token: string;
  readonly delayMs: number;
  readonly deliveredTo: readonly string[];
  /** Names destinations by index and redacted origin, never by URL. */
  readonly error: string;
}

/**
 * The outbox statements that differ between PostgreSQL and SQLite (time
 * arithmetic, JSON set input, row locking), one implementation per dialect.
 * Each builder is one statement. Where the statements are the same they live
 * in src/outbox/outbox-store.ts.
 */
export interface OutboxSql {
  /** CREATE statements of the outbox table and its indexes (an own-schema step runs them). */
  readonly ddl: readonly string[];
  /** One INSERT of every event in `eventsJson` (an array of rows, see append-events.ts). */
  append(eventsJson: string): RawBuilder<unknown>;
  /**
   * Leases up to `limit` due events: the first pending event of each user
   * only, oldest due first, skipping rows another dispatcher is claiming.
   */
  claim(limit: number, token: string, leaseMs: number): RawBuilder<ClaimedRow>;
  /** Marks the events (a JSON array of ids) delivered, whoever holds their lease now. */
  markDelivered(idsJson: string): RawBuilder<unknown>;
  /** Schedules the next attempt, or marks dead past `maxAgeMs`; only for leases still held. Returns what died. */
  markFailed(attemptsJson: string, maxAgeMs: number): RawBuilder<{ id: unknown; dead: unknown }>;
  /** Pending events waiting for a retry become due now. */
  retryPending(): RawBuilder<unknown>;
  /** Dead events become pending again, due now, with a fresh retry window. */
  retryDead(): RawBuilder<unknown>;
  /**
   * Keeps the planner's statistics of the outbox fresh enough for the claim
   * to stay an index scan; called every few seconds by a claiming dispatcher.
   * Never fails: stale statistics only cost speed.
   */
  maintain(db: Executor): Promise<void>;
}

/** How a dialect spells the parts of the outbox table that differ. */
export interface OutboxTableSpelling {
  /** The `id` and `seq` column definitions. */
  readonly keys: string;
  readonly timestamp: string;
  readonly json: string;
  readonly now: string;
  readonly emptyArray: string;
}

/**
 * `seq` orders a user's events: they are written under that user's lock, so
 * a later event always gets a larger `seq`. The partial indexes cover only
 * undelivered events, so the claim and its "is an earlier event of this user
 * still pending?" probe stay index scans however many delivered events the
 * table keeps.
 */
export function outboxDdl(spelling: OutboxTableSpelling): readonly string[] {
  const p = 'delivered_at is null and dead_at is null';
  const t = OUTBOX_TABLE;
  return Object.freeze([
    `create table if not exists ${t} (
       ${spelling.keys},
       type text not null,
       occurred_at ${spelling.timestamp} not null,
       user_id text not null,
       org_id text not null,
       payload ${spelling.json} not null,
       attempts integer not null default 0,
       next_attempt_at ${spelling.timestamp} not null default (${spelling.now}),
       retry_since ${spelling.timestamp} not null default (${spelling.now}),
       claim_token text,
       delivered_to ${spelling.json} not null default (${spelling.emptyArray}),
       delivered_at ${spelling.timestamp},
       dead_at ${spelling.timestamp},
       last_error text
     )`,
    `create index if not exists ${t}_due_idx on ${t} (next_attempt_at, seq) where ${p}`,
    `create index if not exists ${t}_user_pending_idx on ${t} (user_id, seq) where ${p}`,
    `create index if not exists ${t}_dead_idx on ${t} (dead_at) where dead_at is not null`,
  ]);
}
