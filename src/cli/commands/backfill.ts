import type { Command } from 'commander';
import { BACKFILL_DEFAULTS, type BackfillOptions, type BackfillReport } from '../../ops/backfill/options.js';
import { internalsOf, type Orgshift } from '../../orgshift.js';
import type { DispatchStats } from '../../outbox/dispatcher.js';
import { EXIT_FINDINGS, EXIT_OK, note, printJson, printLine } from '../output.js';
import { createProgressReporter } from '../progress-reporter.js';
import { type CommandOptions, wholeNumber, withOrgshift } from '../run-command.js';
import { warnAboutIndexes } from '../schema-warnings.js';
import { onStopSignals } from '../stop-signals.js';

/** Commander's parsed flags are the library's options, plus --json. */
type BackfillCommandOptions = CommandOptions &
  Pick<BackfillOptions, 'concurrency' | 'batchSize' | 'limit' | 'rate' | 'retryFailed' | 'dryRun'>;

const HELP = `
Safe beside live traffic and with several backfill processes at once: on
PostgreSQL each batch is claimed with FOR UPDATE SKIP LOCKED and migrated in
that transaction, by the same set-based code as a just-in-time migration, so
processes and just-in-time reads never migrate one user twice. Killed at any
moment, a rerun finishes the job (state is in the database). Users already recorded in migration_failures are skipped unless
--retry-failed is given, so a run always ends.

SQLite serializes writers: one process is enough there, and --concurrency is
forced to 1.

With ORGSHIFT_WEBHOOK_URL set, the run also delivers the user.migrated events
it writes, and at the end keeps going until none is due; events waiting for
a retry are left to serve or "orgshift outbox run" (ORGSHIFT_OUTBOX_DISPATCH=off:
deliver nothing here).

The schema map is checked against the database first: a table, column or
unique index it needs and the database lacks stops the run before any write
(schema_invalid, exit 2); a missing index is printed once as a warning on
stderr (each migration then scans) and the run goes on.

Exit status: 0 when every attempted user migrated, 1 when any failed (see
"orgshift status") or the run was interrupted, 2 on bad options or a schema
map that does not match the database.`;

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error('--rate must be a positive number of users per second');
  return n;
}

export function register(program: Command): void {
  program
    .command('backfill')
    .description('migrate every unmigrated legacy user, in claimed batches')
    .option(
      '--concurrency <c>',
      `batches in flight (PostgreSQL; default ${BACKFILL_DEFAULTS.concurrency})`,
      wholeNumber('--concurrency', 1, 64),
    )
    .option(
      '--batch-size <b>',
      `users per batch transaction (default ${BACKFILL_DEFAULTS.batchSize})`,
      wholeNumber('--batch-size', 1, 10_000),
    )
    .option('--limit <l>', 'stop after this many users', wholeNumber('--limit', 1))
    .option('--rate <r>', 'at most this many users per second', positiveNumber)
    .option('--retry-failed', 'also retry users recorded in migration_failures')
    .option('--dry-run', 'count what would be migrated; write nothing')
    .option('--json', 'print one JSON summary on stdout')
    .addHelpText('after', HELP)
    .action((options: BackfillCommandOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        await warnAboutIndexes(orgshift, 'backfill');
        const reporter = createProgressReporter();
        const interrupt = new AbortController();
        // First Ctrl-C: finish the batches in flight and print the summary. A second one kills.
        const stopListening = onStopSignals({
          first: () => {
            note('backfill: stopping after the batches in flight (again to abort)');
            interrupt.abort();
          },
          again: () => process.exit(130),
        });
        const { config, outbox } = internalsOf(orgshift);
        const dispatching = config.outbox.dispatch && !options.dryRun && outbox.start();
        try {
          const report = await orgshift.backfill({
            concurrency: options.concurrency,
            batchSize: options.batchSize,
            limit: options.limit,
            rate: options.rate,
            retryFailed: options.retryFailed,
            dryRun: options.dryRun,
            onProgress: (progress) => reporter.update(progress),
            onReconnect: ({ attempt, retryInMs, reason }) =>
              note(`backfill: ${reason}; batch retried in ${retryInMs} ms (attempt ${attempt})`),
            signal: interrupt.signal,
          });
          reporter.stop();
          const delivered = dispatching ? await finishDeliveries(orgshift, interrupt.signal) : undefined;
          printReport(report, delivered, options.json ?? false);
          return report.failed > 0 || report.invalidKeys > 0 || report.interrupted ? EXIT_FINDINGS : EXIT_OK;
        } finally {
          reporter.stop();
          stopListening();
        }
      }),
    );
}

/** Delivers what is due now (unless interrupted), then stops the dispatcher so its outcomes are written. */
async function finishDeliveries(orgshift: Orgshift, signal: AbortSignal): Promise<DispatchStats> {
  const { outbox } = internalsOf(orgshift);
  if (!signal.aborted) {
    note('backfill: done; delivering the events that are due (Ctrl-C leaves them to another dispatcher)');
    await outbox.drain('due', signal);
  }
  await outbox.stop();
  return outbox.stats;
}

function printReport(report: BackfillReport, outbox: DispatchStats | undefined, json: boolean): void {
  if (json) {
    const { migrated, skipped, failed, invalidKeys, seconds } = report;
    printJson({
      migrated,
      skipped,
      failed,
      invalidKeys,
      seconds,
      ...(report.dryRun ? { dryRun: true } : {}),
      ...(report.interrupted ? { interrupted: true } : {}),
      ...(outbox === undefined ? {} : { outbox }),
    });
    return;
  }
  const verb = report.dryRun ? 'would migrate' : 'migrated';
  const failedVerb = report.dryRun ? 'would fail' : 'failed';
  printLine(
    `${verb} ${report.migrated}, skipped ${report.skipped}, ${failedVerb} ${report.failed} in ${report.seconds.toFixed(1)} s${report.interrupted ? ' (interrupted)' : ''}`,
  );
  if (report.invalidKeys > 0) {
    note(
      `backfill: ${report.invalidKeys} legacy row(s) or key(s) cannot migrate (a NULL or shared user key): see orgshift_migration_failures`,
    );
  }
  if (report.failed > 0 && !report.dryRun) note('backfill: failures are listed in orgshift_migration_failures');
  if (outbox !== undefined) {
    printLine(`outbox: delivered ${outbox.delivered}, retried ${outbox.retried}, dead ${outbox.dead}`);
  }
}
