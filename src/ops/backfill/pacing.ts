import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Spaces batch starts so the run stays under `perSecond` users on average,
 * across every worker of the process. Reserving before the claim (rather than
 * sleeping inside the transaction) keeps row locks short.
 */
export class Pacer {
  readonly #perSecond: number | undefined;
  #nextStart = 0;

  constructor(perSecond: number | undefined) {
    this.#perSecond = perSecond;
  }

  /** Waits for the slot of a batch of `users`; resolves early (without throwing) when `signal` aborts. */
  async take(users: number, signal?: AbortSignal): Promise<void> {
    if (this.#perSecond === undefined) return;
    const now = performance.now();
    const start = Math.max(now, this.#nextStart);
    this.#nextStart = start + (users * 1000) / this.#perSecond;
    if (start > now) await sleep(start - now, undefined, { signal }).catch(() => undefined);
  }
}

/** The `limit` shared by the workers: a worker reserves a batch, then gives back what it did not claim. */
export class Budget {
  #left: number;

  constructor(limit: number) {
    this.#left = limit;
  }

  reserve(wanted: number): number {
    const granted = Math.min(wanted, this.#left);
    this.#left -= granted;
    return granted;
  }

  refund(unused: number): void {
    this.#left += unused;
  }

  get exhausted(): boolean {
    return this.#left === 0;
  }
}

/**
 * Keyset position shared by the workers of one pass. Any batch end is a safe
 * place to resume: every pending row before it was claimed, or skipped
 * because someone else held it (the next pass looks again).
 */
export class Cursor {
  #value: unknown = null;

  /** The greatest key claimed so far; null before the first claim. */
  get value(): unknown {
    return this.#value;
  }

  advance(last: unknown): void {
    if (this.#value === null || keyAfter(last, this.#value)) this.#value = last;
  }
}

/**
 * Key order as far as JavaScript can tell (integers as integers, text by code
 * point). Only efficiency rides on it: a pass that starts too early sees rows
 * already taken, and one that starts too late leaves rows to the next pass.
 */
function keyAfter(a: unknown, b: unknown): boolean {
  const integer = /^-?[0-9]+$/;
  if (integer.test(String(a)) && integer.test(String(b))) return BigInt(String(a)) > BigInt(String(b));
  return String(a) > String(b);
}
