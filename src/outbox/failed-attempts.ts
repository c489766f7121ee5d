import type { FailedAttempt } from '../db/dialect/outbox-sql.js';

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
