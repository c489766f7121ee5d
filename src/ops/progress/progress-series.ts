import type { MinuteCounts } from './migration-history.js';
import { windowStart } from './migration-history.js';

export interface ProgressSeries {
  /** Epoch second of each minute of the window, oldest first, without gaps. */
  readonly minutes: readonly number[];
  /** Users migrated in each minute. */
  readonly perMinute: readonly number[];
  /** Users migrated by the end of each minute (the last one is the current total). */
  readonly cumulative: readonly number[];
  /** Users per minute over the last few minutes. */
  readonly ratePerMinute: number;
  /** Seconds until the pending users are migrated at that rate; null when nothing moves. */
  readonly etaSeconds: number | null;
}

/** The rate is taken over this many minutes, the current partial one included. */
export const RATE_MINUTES = 5;

/**
 * Fills the minutes without migrations, and derives the cumulative curve
 * backwards from the current migrated total, so the curve ends exactly at
 * the total the status shows even when the window starts mid-migration.
 */
export function progressSeries(
  counts: MinuteCounts,
  windowMinutes: number,
  totals: { readonly migrated: number; readonly pending: number },
): ProgressSeries {
  const first = windowStart(counts.now, windowMinutes);
  const byMinute = new Map(counts.minutes.map((m) => [m.minute, m.migrated]));
  const minutes = Array.from({ length: windowMinutes }, (_, i) => first + i * 60);
  const perMinute = minutes.map((minute) => byMinute.get(minute) ?? 0);
  const cumulative = new Array<number>(windowMinutes);
  let after = totals.migrated;
  for (let i = windowMinutes - 1; i >= 0; i--) {
    cumulative[i] = Math.max(0, after);
    after -= perMinute[i] ?? 0;
  }
  const ratePerMinute = recentRate(counts.now, minutes, perMinute);
  return { minutes, perMinute, cumulative, ratePerMinute, etaSeconds: eta(totals.pending, ratePerMinute) };
}

function recentRate(now: number, minutes: readonly number[], perMinute: readonly number[]): number {
  const span = Math.min(RATE_MINUTES, minutes.length);
  if (span === 0) return 0;
  const from = minutes[minutes.length - span] ?? now;
  const migrated = perMinute.slice(-span).reduce((sum, n) => sum + n, 0);
  const seconds = Math.max(1, now - from);
  return (migrated / seconds) * 60;
}

function eta(pending: number, ratePerMinute: number): number | null {
  if (pending <= 0) return 0;
  if (ratePerMinute <= 0) return null;
  return Math.ceil((pending / ratePerMinute) * 60);
}
