import type { AcquireOptions } from './lock-manager.js';

/** Bad options are programming errors, not lock failures: fail loudly and early. */
export function checkAcquireOptions(key: string, opts: AcquireOptions): void {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('lock key must be a non-empty string');
  if (!Number.isFinite(opts.ttlMs) || opts.ttlMs <= 0) throw new RangeError(`ttlMs must be > 0, got ${opts.ttlMs}`);
  if (!Number.isFinite(opts.waitMs) || opts.waitMs < 0) throw new RangeError(`waitMs must be >= 0, got ${opts.waitMs}`);
}

export function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs must be > 0, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

/** The reason an aborted caller's signal carries, as an Error for `reject`. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('lock acquire aborted', 'AbortError');
}
