/**
 * Hooks for metrics and logs, so the dispatcher stays free of prom-client and
 * pino. Every method is optional and must not throw.
 */
export interface OutboxObserver {
  /** An event reached every destination; `latencySeconds` runs from the event's `occurredAt`. */
  delivered?(latencySeconds: number): void;
  /** An attempt failed and the event will be tried again. */
  retried?(eventId: string, error: string): void;
  /** An attempt failed past the maximum age: the event is dead until redriven. */
  dead?(eventId: string, error: string): void;
  /** The outbox could not be read or written (database down); the dispatcher keeps trying. */
  databaseError?(error: unknown): void;
}

/** One observer that calls each of `observers` in turn. */
export function fanOut(...observers: readonly (OutboxObserver | undefined)[]): OutboxObserver {
  const present = observers.filter((o): o is OutboxObserver => o !== undefined);
  return {
    delivered: (seconds) => {
      for (const o of present) o.delivered?.(seconds);
    },
    retried: (id, error) => {
      for (const o of present) o.retried?.(id, error);
    },
    dead: (id, error) => {
      for (const o of present) o.dead?.(id, error);
    },
    databaseError: (error) => {
      for (const o of present) o.databaseError?.(error);
    },
  };
}
