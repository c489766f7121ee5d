import type { Database } from '../../db/database.js';
import type { MapSql } from '../../db/map-sql.js';
import { type StatusReport, status } from '../status.js';
import { type AuditRun, lastAuditRun } from './audit-runs.js';
import { type FailureSummary, failureSummary } from './failure-summary.js';
import { type MigrationHistory, migrationHistory } from './migration-history.js';
import { type SourceShare, sourceShare } from './source-share.js';

/**
 * Every read behind the dashboard and `status --watch`, in one place, so that
 * pointing orgshift at another schema means changing this file's wiring only.
 */
export interface ProgressQueries {
  readonly history: MigrationHistory;
  /** Exactly `orgshift status`'s counts. */
  totals(): Promise<StatusReport>;
  share(): Promise<SourceShare>;
  failures(samplesPerCode: number): Promise<FailureSummary>;
  lastAudit(): Promise<AuditRun | null>;
}

export interface ProgressQueriesOptions {
  /** Where the per-minute history comes from (default: the map's timestamp marker, else the sampled counters). */
  readonly history?: MigrationHistory;
}

export function createProgressQueries(db: Database, m: MapSql, options: ProgressQueriesOptions = {}): ProgressQueries {
  return Object.freeze({
    history: options.history ?? migrationHistory(db, m),
    totals: () => status(db, m),
    share: () => sourceShare(db),
    failures: (samplesPerCode: number) => failureSummary(db, samplesPerCode),
    lastAudit: () => lastAuditRun(db),
  });
}
