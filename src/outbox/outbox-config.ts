import type { WebhookEndpoint } from './webhook-endpoint.js';

export interface OutboxConfig {
  /** ORGSHIFT_WEBHOOK_URL, in order; empty when unset. */
  readonly webhooks: readonly WebhookEndpoint[];
  /** ORGSHIFT_WEBHOOK_SECRET: signs every webhook request; set whenever `webhooks` is not empty. */
  readonly webhookSecret: string | undefined;
  /** Longest a webhook request or handler call may take before it counts as failed. */
  readonly timeoutMs: number;
  /** Retries stop and the event is dead this long after it was written (or redriven). */
  readonly maxAgeMs: number;
  /** First retry delay; doubles per attempt up to `retryMaxMs`, with jitter. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** How often an idle dispatcher looks for due events (local commits wake it at once). */
  readonly pollMs: number;
  /** Deliveries in flight per process. */
  readonly concurrency: number;
  /** Whether `serve` and `backfill` run a dispatcher. */
  readonly dispatch: boolean;
}

export const OUTBOX_DEFAULTS = Object.freeze({
  timeoutMs: 10_000,
  maxAgeMs: 24 * 60 * 60 * 1000,
  retryBaseMs: 1_000,
  retryMaxMs: 60 * 60 * 1000,
  pollMs: 500,
  concurrency: 32,
});

/**
 * How long a claim holds an event before another dispatcher may take it:
 * longer than any attempt can take (attempts to all destinations run side by
 * side, each bounded by the timeout), with room for a slow database round
 * trip. A process killed mid-delivery hands its events over after this long.
 */
export function leaseMs(config: Pick<OutboxConfig, 'timeoutMs'>): number {
  return 2 * config.timeoutMs + 1_000;
}
