import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { MIGRATION_COUNTS_TABLE } from '../../db/own-tables.js';

export type MigrationSource = 'just_in_time' | 'backfill';

export interface MigrationCounterOptions {
  /** How often the counts are added to the table; 10 s by default. */
  readonly flushMs?: number;
  /** The clock that puts an event in its minute (tests pin it). */
  readonly now?: () => number;
}

interface Tally {
  migrated: number;
  failed: number;
}

export const DEFAULT_FLUSH_MS = 10_000;
const CLOSE_FLUSH_MS = 2_000;

/**
 * Counts this process's migrations in memory, by minute and source, and adds
 * them to `orgshift_migration_counts` every few seconds. Counting outside the
 * migration transaction keeps the hot path at one map update; the price is
 * that a process killed with SIGKILL loses its last few seconds of counts
 * (the legacy marker, not these counters, is the truth about who is migrated).
 * A flush that fails keeps its counts for the next one.
 */
export class MigrationCounter {
  readonly #db: Database;
  readonly #now: () => number;
  #pending = new Map<string, Tally>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(db: Database, options: MigrationCounterOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    const flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), flushMs);
    // Counting must never keep a CLI command or a library user's process alive.
    this.#timer.unref();
  }

  /** Never throws and never waits: called from the migration paths. */
  add(source: MigrationSource, migrated: number, failed = 0): void {
    if (this.#closed || (migrated <= 0 && failed <= 0)) return;
    const minute = Math.floor(this.#now() / 60_000) * 60;
    const key = `${minute}:${source}`;
    const tally = this.#pending.get(key) ?? { migrated: 0, failed: 0 };
    tally.migrated += Math.max(0, migrated);
    tally.failed += Math.max(0, failed);
    this.#pending.set(key, tally);
  }

  /** Adds what was counted so far to the table; flushes never overlap. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.catch(() => undefined).then(() => this.#write());
    return this.#flushing;
  }

  /**
   * Stops the timer and writes the last counts. A failure there is swallowed
   * and a database that does not answer is not waited for beyond
   * `CLOSE_FLUSH_MS`: closing must close.
   */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#closed = true;
    let timeout: NodeJS.Timeout | undefined;
    const givenUp = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, CLOSE_FLUSH_MS);
    });
    await Promise.race([this.flush().catch(() => undefined), givenUp]);
    clearTimeout(timeout);
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.#db.writeTransaction(async (trx) => {
        // One order for every process: two flushes touching the same rows can then never deadlock.
        for (const [key, tally] of [...batch].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
          const [minute, source] = key.split(':') as [string, MigrationSource];
          await sql`insert into ${sql.table(MIGRATION_COUNTS_TABLE)} (minute, source, migrated, failed)
            values (${Number(minute)}, ${source}, ${tally.migrated}, ${tally.failed})
            on conflict (minute, source) do update set
              migrated = ${sql.table(MIGRATION_COUNTS_TABLE)}.migrated + excluded.migrated,
              failed = ${sql.table(MIGRATION_COUNTS_TABLE)}.failed + excluded.failed`.execute(trx);
        }
      });
    } catch (error) {
      for (const [key, tally] of batch) this.#merge(key, tally);
      throw error;
    }
  }

  #merge(key: string, tally: Tally): void {
    const current = this.#pending.get(key);
    if (current === undefined) {
      this.#pending.set(key, tally);
      return;
    }
    current.migrated += tally.migrated;
    current.failed += tally.failed;
  }
}
