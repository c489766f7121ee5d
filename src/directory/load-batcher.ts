import type { Row } from '../db/database.js';

export interface LoadBatcherOptions {
  /** Queries this batcher keeps in flight at once; further keys wait and go together in the next one. */
  readonly maxInFlight: number;
  /** Most keys in one query. */
  readonly maxBatch: number;
}

interface Waiter {
  readonly key: string;
  readonly resolve: (row: Row | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Coalesces concurrent loads into fewer queries, only when they would
 * otherwise queue: while fewer than `maxInFlight` queries run, a key is sent
 * alone at once (a lone read pays no extra latency); beyond that, keys wait
 * and leave together, in one query, as soon as a running one returns. Every
 * key is sent in a query that starts after it was asked for, so a caller
 * never gets a row read before its call (a read after a write sees the write).
 */
export class LoadBatcher {
  readonly #one: (key: string) => Promise<Row | undefined>;
  readonly #many: (keys: readonly string[]) => Promise<ReadonlyMap<string, Row>>;
  readonly #options: LoadBatcherOptions;
  #inFlight = 0;
  #waiting: Waiter[] = [];

  constructor(
    one: (key: string) => Promise<Row | undefined>,
    many: (keys: readonly string[]) => Promise<ReadonlyMap<string, Row>>,
    options: LoadBatcherOptions,
  ) {
    this.#one = one;
    this.#many = many;
    this.#options = options;
  }

  load(key: string): Promise<Row | undefined> {
    if (this.#inFlight < this.#options.maxInFlight) return this.#track(this.#one(key));
    return new Promise((resolve, reject) => this.#waiting.push({ key, resolve, reject }));
  }

  async #track<T>(query: Promise<T>): Promise<T> {
    this.#inFlight++;
    try {
      return await query;
    } finally {
      this.#inFlight--;
      this.#sendWaiting();
    }
  }

  #sendWaiting(): void {
    if (this.#waiting.length === 0 || this.#inFlight >= this.#options.maxInFlight) return;
    const batch = this.#waiting.splice(0, this.#options.maxBatch);
    const keys = [...new Set(batch.map((w) => w.key))];
    this.#track(this.#many(keys)).then(
      (rows) => {
        for (const waiter of batch) waiter.resolve(rows.get(waiter.key));
      },
      (error: unknown) => {
        for (const waiter of batch) waiter.reject(error);
      },
    );
  }
}
