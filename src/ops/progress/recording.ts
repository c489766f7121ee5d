import type { Database } from '../../db/database.js';
import type { DirectoryObserver } from '../../directory/observer.js';
import type { AuditReport } from '../audit.js';
import type { BackfillOptions } from '../backfill/options.js';
import { recordAuditRun } from './audit-runs.js';
import type { MigrationCounter } from './migration-counter.js';

/** The caller's observer, plus a count of every just-in-time migration and failure. */
export function countingObserver(inner: DirectoryObserver | undefined, counter: MigrationCounter): DirectoryObserver {
  return {
    ...inner,
    migration(result, seconds) {
      if (result === 'migrated') counter.add('just_in_time', 1);
      else if (result === 'failed') counter.add('just_in_time', 0, 1);
      inner?.migration?.(result, seconds);
    },
  };
}

/** The caller's backfill options, plus a count of each batch's migrations and failures (not for a dry run). */
export function countingBackfill(options: BackfillOptions, counter: MigrationCounter): BackfillOptions {
  if (options.dryRun) return options;
  let seen = { migrated: 0, failed: 0 };
  return {
    ...options,
    onProgress(progress) {
      counter.add('backfill', progress.migrated - seen.migrated, progress.failed - seen.failed);
      seen = { migrated: progress.migrated, failed: progress.failed };
      options.onProgress?.(progress);
    },
  };
}

/**
 * Runs an audit and stores its result for the dashboard. Storing is best
 * effort: the audit's answer matters more than its record (a database whose
 * schema predates the record table still gets audited).
 */
export async function recordedAudit(db: Database, run: () => Promise<AuditReport>): Promise<AuditReport> {
  const report = await run();
  await recordAuditRun(db, report).catch(() => undefined);
  return report;
}
