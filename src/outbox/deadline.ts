/**
 * An AbortSignal that fires after `ms`, with a way to cancel its timer once
 * the work is done. AbortSignal.timeout cannot be cancelled: at thousands of
 * deliveries a second its timers would pile up for the whole timeout.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  clear(): void;
}

export function deadline(ms: number): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`deadline of ${ms} ms passed`)), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
