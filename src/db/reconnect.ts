import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How a backfill (and anything else that may simply redo its work) rides out a lost database connection: a server restart, a
 * failover, a `pg_terminate_backend`. The batch's transaction died with its
 * connection, so redoing the batch is always safe; the pool opens a new
 * connection on the next checkout. Past `giveUpAfterMs` of failures in a
 * row, the error surfaces and the run stops (a rerun resumes it).
 */
export const RECONNECT = Object.freeze({ firstDelayMs: 100, maxDelayMs: 5_000, giveUpAfterMs: 60_000 });

export interface ReconnectAttempt {
  /** Failures in a row so far. */
  readonly attempt: number;
  readonly retryInMs: number;
  /** Why the work is redone: the connection went, or the server rolled it back (a deadlock, a serialization conflict). */
  readonly reason: 'database connection lost' | 'rolled back by the database';
}

/** Runs `batch`, retrying it with exponential back-off while it fails for lack of a connection. */
export async function retryOnConnectionLoss<T>(
  batch: () => Promise<T>,
  signal: AbortSignal,
  onRetry: ((attempt: ReconnectAttempt) => void) | undefined,
  retryable: (error: unknown) => boolean,
  isTransient?: (error: unknown) => boolean,
): Promise<T> {
  const started = performance.now();
  let delay: number = RECONNECT.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await batch();
    } catch (error) {
      const elapsed = performance.now() - started;
      if (!retryable(error) || signal.aborted || elapsed + delay > RECONNECT.giveUpAfterMs) throw error;
      const reason = isTransient?.(error) ? 'rolled back by the database' : 'database connection lost';
      onRetry?.({ attempt, retryInMs: delay, reason });
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) throw error;
      delay = Math.min(delay * 2, RECONNECT.maxDelayMs);
    }
  }
}
