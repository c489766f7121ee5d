import { describe, expect, it } from 'vitest';
import { withPercent } from '../../../src/ops/progress/progress-report.js';
import { progressSeries, RATE_MINUTES } from '../../../src/ops/progress/progress-series.js';

const MINUTE = 60;
/** 12:00:30 on some day: half-way through a minute. */
const NOW = 1_800_000_000 - (1_800_000_000 % MINUTE) + 30;
const CURRENT = NOW - 30;

describe('progressSeries', () => {
  it('fills the window minute by minute, oldest first, with zeros where nothing migrated', () => {
    const series = progressSeries({ now: NOW, minutes: [{ minute: CURRENT - 2 * MINUTE, migrated: 7 }] }, 10, {
      migrated: 7,
      pending: 0,
    });
    expect(series.minutes).toHaveLength(10);
    expect(series.minutes[0]).toBe(CURRENT - 9 * MINUTE);
    expect(series.minutes.at(-1)).toBe(CURRENT);
    expect(series.perMinute).toEqual([0, 0, 0, 0, 0, 0, 0, 7, 0, 0]);
  });

  it('ends the cumulative curve at the migrated total, also when the window starts mid-migration', () => {
    const series = progressSeries(
      {
        now: NOW,
        minutes: [
          { minute: CURRENT - 2 * MINUTE, migrated: 10 },
          { minute: CURRENT, migrated: 5 },
        ],
      },
      4,
      { migrated: 1_000, pending: 0 },
    );
    expect(series.cumulative).toEqual([985, 995, 995, 1_000]);
  });

  it('takes the rate over the last minutes including the partial current one, and derives the ETA from it', () => {
    // 135 users over 4 whole minutes and 30 s of the current one: 30 per minute.
    const minutes = [1, 2, 3, 4].map((back) => ({ minute: CURRENT - back * MINUTE, migrated: 30 }));
    const series = progressSeries({ now: NOW, minutes: [...minutes, { minute: CURRENT, migrated: 15 }] }, 60, {
      migrated: 135,
      pending: 300,
    });
    expect(RATE_MINUTES).toBe(5);
    expect(series.ratePerMinute).toBeCloseTo(30, 10);
    expect(series.etaSeconds).toBe(600);
  });

  it('has no ETA without progress, and an ETA of 0 when nothing is pending', () => {
    const idle = { now: NOW, minutes: [] };
    expect(progressSeries(idle, 60, { migrated: 5, pending: 5 }).etaSeconds).toBeNull();
    expect(progressSeries(idle, 60, { migrated: 5, pending: 0 }).etaSeconds).toBe(0);
    expect(progressSeries(idle, 60, { migrated: 5, pending: 5 }).ratePerMinute).toBe(0);
  });
});

describe('withPercent', () => {
  it('rounds down, so 99.99 % never reads as done', () => {
    const invalid = { nullKeys: 0, duplicateKeys: 0 };
    const outbox = { pending: 0, retrying: 0, dead: 0, oldestPendingSeconds: null };
    const counts = { legacyTotal: 10_000, migrated: 9_999, pending: 1, failed: 0, invalid, outbox };
    expect(withPercent(counts).percentMigrated).toBe(99.9);
    expect(withPercent({ ...counts, migrated: 10_000, pending: 0 }).percentMigrated).toBe(100);
    expect(withPercent({ legacyTotal: 0, migrated: 0, pending: 0, failed: 0, invalid, outbox }).percentMigrated).toBe(
      100,
    );
  });
});
