import type { FailedAttempt } from '../db/dialect/outbox-sql.js';
import type { OutboxObserver } from './outbox-observer.js';
import type { OutboxStore } from './outbox-store.js';

export interface SettleCounts {
  retried: number;
  dead: number;
}

const MAX_BATCH = 500;
const DELAY_MS = 5;
const RETRY_AFTER_ERROR_MS = 1_000;

/**
 * Collects the outcomes of finished deliveries and writes them in bulk: one
 * UPDATE for every delivered event of the last few milliseconds, one for the
 * failures. At thousands of deliveries a second a round trip per event would
 * cost more than the deliveries. Outcomes not yet written are only at risk of
 * a repeat: if the process dies first, the leases expire and the events are
 * delivered again under the same ids.
 */
export class SettleBuffer {
  readonly #store: OutboxStore;
  readonly #maxAgeMs: number;
  readonly #observer: OutboxObserver;
  readonly #onSettled: () => void;
  readonly counts: SettleCounts = { retried: 0, dead: 0 };
  #delivered: string[] = [];
  #failed: FailedAttempt[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  /** `onSettled` runs after each write: a user's next event may have become claimable. */
  constructor(store: OutboxStore, maxAgeMs: number, observer: OutboxObserver, onSettled: () => void) {
    this.#store = store;
    this.#maxAgeMs = maxAgeMs;
    this.#observer = observer;
    this.#onSettled = onSettled;
  }

  get empty(): boolean {
    return this.#delivered.length === 0 && this.#failed.length === 0 && this.#flushing === undefined;
  }

  delivered(id: string): void {
    this.#delivered.push(id);
    this.#schedule();
  }

  failed(attempt: FailedAttempt): void {
    this.#failed.push(attempt);
    this.#schedule();
  }

  /** Writes everything collected so far (and waits for a write already under way). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#delivered.length === 0 && this.#failed.length === 0) return;
    this.#flushing = this.#write().finally(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }

  /** Stops the timers; whatever was not written is delivered again once its lease expires. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const size = this.#delivered.length + this.#failed.length;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        void this.flush();
      },
      size >= MAX_BATCH ? 0 : DELAY_MS,
    );
  }

  async #write(): Promise<void> {
    const delivered = this.#delivered.splice(0, this.#delivered.length);
    const failed = this.#failed.splice(0, this.#failed.length);
    try {
      await this.#store.markDelivered(delivered);
    } catch (error) {
      this.#putBack(delivered, failed, error);
      return;
    }
    try {
      const outcomes = await this.#store.markFailed(failed, this.#maxAgeMs);
      const errors = new Map(failed.map((f) => [f.id, f.error]));
      for (const outcome of outcomes) {
        const error = errors.get(outcome.id) ?? '';
        if (outcome.dead) {
          this.counts.dead++;
          this.#observer.dead?.(outcome.id, error);
        } else {
          this.counts.retried++;
          this.#observer.retried?.(outcome.id, error);
        }
      }
    } catch (error) {
      this.#putBack([], failed, error);
      return;
    }
    this.#onSettled();
  }

  /** The database is away: keep the outcomes and try again shortly (a lease may expire meanwhile; that only repeats a delivery). */
  #putBack(delivered: readonly string[], failed: readonly FailedAttempt[], error: unknown): void {
    this.#observer.databaseError?.(error);
    this.#delivered.unshift(...delivered);
    this.#failed.unshift(...failed);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, RETRY_AFTER_ERROR_MS);
  }
}
