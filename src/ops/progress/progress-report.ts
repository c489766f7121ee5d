import type { StatusReport } from '../status.js';
import type { AuditRun } from './audit-runs.js';
import type { FailureSummary } from './failure-summary.js';
import type { MigrationHistory } from './migration-history.js';
import type { ProgressQueries } from './progress-queries.js';
import { type ProgressSeries, progressSeries } from './progress-series.js';
import type { SourceShare } from './source-share.js';

export interface ProgressTotals extends StatusReport {
  /** migrated / legacyTotal × 100, one decimal; 100 when there are no legacy users. */
  readonly percentMigrated: number;
}

export interface ProgressReport {
  readonly totals: ProgressTotals;
  readonly history: ProgressSeries & {
    readonly source: MigrationHistory['kind'];
    readonly windowMinutes: number;
  };
  readonly share: SourceShare;
  readonly failures: FailureSummary;
  readonly lastAudit: AuditRun | null;
}

export interface ProgressReportOptions {
  readonly windowMinutes: number;
  readonly samplesPerCode: number;
}

export async function progressReport(
  queries: ProgressQueries,
  options: ProgressReportOptions,
): Promise<ProgressReport> {
  const [counts, minutes, share, failures, lastAudit] = await Promise.all([
    queries.totals(),
    queries.history.perMinute(options.windowMinutes),
    queries.share(),
    queries.failures(options.samplesPerCode),
    queries.lastAudit(),
  ]);
  return {
    totals: withPercent(counts),
    history: {
      source: queries.history.kind,
      windowMinutes: options.windowMinutes,
      ...progressSeries(minutes, options.windowMinutes, counts),
    },
    share,
    failures,
    lastAudit,
  };
}

export function withPercent(counts: StatusReport): ProgressTotals {
  const percentMigrated =
    counts.legacyTotal === 0 ? 100 : Math.floor((counts.migrated / counts.legacyTotal) * 1000) / 10;
  return { ...counts, percentMigrated };
}
