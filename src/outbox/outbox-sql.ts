import type { Kysely, QueryResult, RawBuilder } from 'kysely';
import type { Database } from '../db/database.js';

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
 * in outbox-store.ts.
 */
/** Runs one write statement as its own short transaction. */
export type OutboxWriter = <R>(statement: RawBuilder<R>) => Promise<QueryResult<R>>;

export interface OutboxSql {
  /** How this dialect runs the dispatcher's writes on `db` (built once per store). */
  writer(db: Database): OutboxWriter;
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
  maintain(db: Kysely<unknown>): Promise<void>;
}

/** The FailedAttempt rows as the JSON both dialects read with their record-set functions. */
export function failedAttemptsJson(attempts: readonly FailedAttempt[]): string {
  return JSON.stringify(
    attempts.map((a) => ({
      id: a.id,
      token: a.token,
      delay_ms: Math.max(0, Math.round(a.delayMs)),
      delivered_to: a.deliveredTo,
      error: a.error.slice(0, 1000),
    })),
  );
}
