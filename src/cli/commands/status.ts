import type { Command } from 'commander';
import { createProgressQueries } from '../../ops/progress/progress-queries.js';
import { withPercent } from '../../ops/progress/progress-report.js';
import { progressSeries, RATE_MINUTES } from '../../ops/progress/progress-series.js';
import { sampleKeys } from '../../ops/sample-keys.js';
import { internalsOf, type Orgshift } from '../../orgshift.js';
import { EXIT_OK, EXIT_USAGE, note, printJson, printLine } from '../output.js';
import { type CommandOptions, wholeNumber, withOrgshift } from '../run-command.js';
import { lineRenderer, terminalRenderer, type WatchSample, watchStatus } from '../status-watch.js';

interface StatusOptions extends CommandOptions {
  readonly watch?: boolean;
  readonly interval?: number;
  readonly sample?: number;
}

/** Enough to try things with; a sample is not an export. */
const MAX_SAMPLE = 100;

const DEFAULT_INTERVAL_SECONDS = 2;

const HELP = `
--watch refreshes the totals, the rate over the last 5 minutes and the ETA of
the pending users every --interval seconds (default ${DEFAULT_INTERVAL_SECONDS}): redrawn in place on a
terminal, one line per refresh otherwise. Ctrl-C stops it with exit 0.`;

function intervalSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.1 || n > 3600) throw new Error('--interval must be between 0.1 and 3600 seconds');
  return n;
}

export function register(program: Command): void {
  program
    .command('status')
    .description('legacy total, migrated, pending, failed; outbox pending and dead; lock backend health')
    .option(
      '--sample <n>',
      `also list n legacy user ids to try (not yet migrated first; at most ${MAX_SAMPLE})`,
      wholeNumber('--sample', 1, MAX_SAMPLE),
    )
    .option('--json', 'print one JSON document')
    .option('--watch', 'refresh the totals, rate and ETA until Ctrl-C')
    .option(
      '--interval <s>',
      `seconds between refreshes with --watch (default ${DEFAULT_INTERVAL_SECONDS})`,
      intervalSeconds,
    )
    .addHelpText('after', HELP)
    .action((options: StatusOptions) => {
      if (options.watch && options.json) return usage('--watch prints text; use status --json once per poll instead');
      if (options.interval !== undefined && !options.watch) return usage('--interval needs --watch');
      return withOrgshift(options, {}, (orgshift) =>
        options.watch ? watch(orgshift, options) : once(orgshift, options),
      );
    });
}

function usage(message: string): void {
  note(`orgshift: ${message}`);
  process.exitCode = EXIT_USAGE;
}

async function once(orgshift: Orgshift, options: StatusOptions): Promise<number> {
  const [counts, health] = await Promise.all([orgshift.status(), orgshift.health()]);
  const lock = { kind: orgshift.lockKind, healthy: health.lock };
  const { db, sql: m } = internalsOf(orgshift);
  const sample = options.sample === undefined ? undefined : await sampleKeys(db, m, options.sample);
  if (options.json) {
    printJson({ ...counts, lock, ...(sample === undefined ? {} : { sample }) });
  } else {
    printLine(`legacy users  ${counts.legacyTotal}`);
    printLine(`migrated      ${counts.migrated}`);
    printLine(`pending       ${counts.pending}`);
    printLine(`failed        ${counts.failed}`);
    printLine(
      `invalid       ${counts.invalid.nullKeys} NULL key(s), ${counts.invalid.duplicateKeys} row(s) with a shared key`,
    );
    printLine(`outbox        ${counts.outbox.pending} pending, ${counts.outbox.dead} dead`);
    printLine(`lock backend  ${lock.kind} (${lock.healthy ? 'healthy' : 'UNREACHABLE'})`);
    if (sample !== undefined) printLine(`sample ids    ${sample.join(' ')}`);
  }
  return health.lock ? 0 : 1;
}

async function watch(orgshift: Orgshift, options: StatusOptions): Promise<number> {
  const seconds = options.interval ?? DEFAULT_INTERVAL_SECONDS;
  const { db, sql: m } = internalsOf(orgshift);
  const queries = createProgressQueries(db, m);
  const sample = async (): Promise<WatchSample> => {
    const [counts, minutes, health] = await Promise.all([
      queries.totals(),
      queries.history.perMinute(RATE_MINUTES),
      orgshift.health(),
    ]);
    const series = progressSeries(minutes, RATE_MINUTES, counts);
    return {
      at: new Date(),
      totals: withPercent(counts),
      ratePerMinute: series.ratePerMinute,
      etaSeconds: series.etaSeconds,
      lock: { kind: orgshift.lockKind, healthy: health.lock },
    };
  };
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    const renderer = process.stdout.isTTY ? terminalRenderer(process.stdout, seconds) : lineRenderer(process.stdout);
    await watchStatus(sample, renderer, seconds * 1000, stop.signal);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  return EXIT_OK;
}
