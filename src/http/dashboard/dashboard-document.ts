import type { LockKind } from '../../lock/lock-manager.js';
import { createProgressQueries, type ProgressQueries } from '../../ops/progress/progress-queries.js';
import { type ProgressReport, progressReport } from '../../ops/progress/progress-report.js';
import { internalsOf, type Orgshift } from '../../orgshift.js';
import type { ServerMetrics } from '../metrics.js';
import { histogramQuantiles, type Quantiles } from './histogram-quantiles.js';

export interface DashboardDocument extends ProgressReport {
  readonly generatedAt: string;
  /** How often the page asks again. */
  readonly refreshSeconds: number;
  readonly lock: { readonly kind: LockKind; readonly healthy: boolean };
  /** From this server's own histogram, since it started: other processes' waits are not in it. */
  readonly lockWait: Quantiles;
}

export interface DashboardSettings {
  /** How often the page refreshes; 5 s by default. */
  readonly refreshSeconds?: number;
  /** Minutes of history in the charts; 60 by default. */
  readonly windowMinutes?: number;
  /** Sample ids shown per failure code; 5 by default. */
  readonly samplesPerCode?: number;
  /** Where the reads go; the legacy marker's own timestamps by default. */
  readonly queries?: ProgressQueries;
}

export const DEFAULT_REFRESH_SECONDS = 5;

/**
 * Builds the dashboard document once for every request that arrives while it
 * is being built or within half a refresh interval after (2 s at most),
 * whatever the number of open pages: every document costs a scan of the
 * legacy table (the same as `status`), so viewers must not multiply it.
 */
export function dashboardDocuments(
  orgshift: Orgshift,
  metrics: ServerMetrics,
  settings: DashboardSettings = {},
): () => Promise<DashboardDocument> {
  const refreshSeconds = settings.refreshSeconds ?? DEFAULT_REFRESH_SECONDS;
  const reuseMs = Math.min(2_000, (refreshSeconds * 1000) / 2);
  const { db, sql: m } = internalsOf(orgshift);
  const queries = settings.queries ?? createProgressQueries(db, m);
  const options = { windowMinutes: settings.windowMinutes ?? 60, samplesPerCode: settings.samplesPerCode ?? 5 };
  /** The last build: in flight (`finishedAt` undefined) or finished at `finishedAt`. */
  let latest: { finishedAt: number | undefined; readonly document: Promise<DashboardDocument> } | undefined;

  const build = async (): Promise<DashboardDocument> => {
    const [report, health, lockWait] = await Promise.all([
      progressReport(queries, options),
      orgshift.health(),
      histogramQuantiles(metrics.registry, 'orgshift_lock_wait_seconds'),
    ]);
    return {
      generatedAt: new Date().toISOString(),
      refreshSeconds,
      ...report,
      lock: { kind: orgshift.lockKind, healthy: health.lock },
      lockWait,
    };
  };

  return () => {
    if (latest !== undefined) {
      const { finishedAt } = latest;
      if (finishedAt === undefined || performance.now() - finishedAt < reuseMs) return latest.document;
    }
    const entry: { finishedAt: number | undefined; readonly document: Promise<DashboardDocument> } = {
      finishedAt: undefined,
      document: build(),
    };
    latest = entry;
    entry.document.then(
      () => {
        entry.finishedAt = performance.now();
      },
      // A failed build is not reused: the next request tries again.
      () => {
        if (latest === entry) latest = undefined;
      },
    );
    return entry.document;
  };
}
