import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { FailedAttempt, OutboxSql } from '../db/dialect/outbox-sql.js';
import { OUTBOX_TABLE } from '../db/own-tables.js';
import { type ClaimedEvent, decodeClaimedRow } from './claimed-event.js';
import { failedAttemptsJson } from './failed-attempts.js';

export interface OutboxCounts {
  /** Not delivered and not dead: due, waiting for a retry, or being delivered. */
  readonly pending: number;
  /** Pending events that have failed at least once. */
  readonly retrying: number;
  /** Gave up after the maximum age; `orgshift outbox retry --dead` redrives them. */
  readonly dead: number;
  /** Age of the oldest pending event, in seconds; null when nothing is pending. */
  readonly oldestPendingSeconds: number | null;
}

export interface FailureOutcome {
  readonly id: string;
  readonly dead: boolean;
}

const table = sql.raw(OUTBOX_TABLE);

/**
 * The dispatcher's access to the outbox. Every write is one short
 * transaction (on SQLite, in the process's write queue); deliveries happen
 * between them, never inside one.
 */
/** How often a claiming dispatcher looks at the outbox's statistics (see OutboxSql.maintain). */
const MAINTAIN_EVERY_MS = 5_000;

export class OutboxStore {
  readonly #db: Database;
  readonly #sql: OutboxSql;
  #maintainedAt = Number.NEGATIVE_INFINITY;

  constructor(db: Database) {
    this.#db = db;
    this.#sql = db.sql.outbox;
  }

  /** Leases up to `limit` due events for `leaseMs`. */
  async claim(limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
    if (performance.now() - this.#maintainedAt > MAINTAIN_EVERY_MS) {
      this.#maintainedAt = performance.now();
      await this.#sql.maintain(this.#db.kysely);
    }
    const token = randomUUID();
    const result = await this.#db.autocommit(this.#sql.claim(limit, token, Math.round(leaseMs)));
    return result.rows.map((row) => decodeClaimedRow(row, token));
  }

  async markDelivered(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#db.autocommit(this.#sql.markDelivered(JSON.stringify(ids)));
  }

  /**
   * Records failed attempts whose lease is still ours (an attempt that
   * outlived its lease leaves the event to whoever claimed it since). Returns
   * what became of each recorded one: retried later, or dead.
   */
  async markFailed(attempts: readonly FailedAttempt[], maxAgeMs: number): Promise<FailureOutcome[]> {
    if (attempts.length === 0) return [];
    const result = await this.#db.autocommit(this.#sql.markFailed(failedAttemptsJson(attempts), maxAgeMs));
    return result.rows.map((row) => ({ id: String(row.id), dead: row.dead === true || row.dead === 1 }));
  }

  /** Pending events waiting for a retry become due now; returns how many. */
  async retryPending(): Promise<number> {
    const result = await this.#db.autocommit(this.#sql.retryPending());
    return Number(result.numAffectedRows ?? 0n);
  }

  /** Dead events become pending and due now, with a fresh retry window; returns how many. */
  async retryDead(): Promise<number> {
    const result = await this.#db.autocommit(this.#sql.retryDead());
    return Number(result.numAffectedRows ?? 0n);
  }

  /** Two index scans: the pending and dead partial indexes, never the delivered history. */
  async counts(): Promise<OutboxCounts> {
    const pending = await sql<{ n: number | string; retrying: number | string | null; oldest: unknown }>`
      select count(*) as n, sum(case when attempts > 0 then 1 else 0 end) as retrying, min(occurred_at) as oldest
      from ${table} where delivered_at is null and dead_at is null`.execute(this.#db.kysely);
    const dead = await sql<{ n: number | string }>`
      select count(*) as n from ${table} where dead_at is not null`.execute(this.#db.kysely);
    const row = pending.rows[0];
    const oldest = row?.oldest == null ? null : new Date(row.oldest as Date | string);
    return {
      pending: Number(row?.n ?? 0),
      retrying: Number(row?.retrying ?? 0),
      dead: Number(dead.rows[0]?.n ?? 0),
      oldestPendingSeconds: oldest === null ? null : Math.max(0, Math.round((Date.now() - oldest.getTime()) / 1000)),
    };
  }

  /** Scans the whole table: for `orgshift outbox status`, not for probes. */
  async deliveredCount(): Promise<number> {
    const result = await sql<{ n: number | string }>`
      select count(*) as n from ${table} where delivered_at is not null`.execute(this.#db.kysely);
    return Number(result.rows[0]?.n ?? 0);
  }
}
