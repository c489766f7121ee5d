/**
 * Concurrent calls for one key in this process share one promise, so a herd
 * of requests for the same user costs one load (and at most one lock wait).
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#inFlight.get(key) ?? this.runFresh(key, fn);
  }

  /**
   * Starts a new flight even if one is in the air, and makes later callers
   * join it. For a caller that has just committed a write: a flight that
   * started before the commit may have loaded what was there before it.
   */
  runFresh(key: string, fn: () => Promise<T>): Promise<T> {
    const promise: Promise<T> = fn().finally(() => {
      // A flight overtaken by a fresher one must not end the fresher one's entry.
      if (this.#inFlight.get(key) === promise) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, promise);
    return promise;
  }

  get size(): number {
    return this.#inFlight.size;
  }
}
