export interface RetryPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * How long to wait after the `attempt`-th failed attempt: exponential from
 * `baseMs`, capped at `maxMs`, with "equal jitter" (half fixed, half random)
 * so that events that failed together, say while a receiver was down, do not
 * come back together, yet none is retried much sooner than planned.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 40);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return ceiling / 2 + (random() * ceiling) / 2;
}
