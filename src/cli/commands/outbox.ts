import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { internalsOf, type Orgshift } from '../../orgshift.js';
import type { DispatchStats } from '../../outbox/dispatcher.js';
import type { OutboxStatus } from '../../outbox/outbox.js';
import type { OutboxObserver } from '../../outbox/outbox-observer.js';
import { EXIT_FINDINGS, EXIT_OK, note, printJson, printLine } from '../output.js';
import { type CommandOptions, withOrgshift } from '../run-command.js';

interface RetryCommandOptions extends CommandOptions {
  readonly dead?: boolean;
}

interface RunCommandOptions extends CommandOptions {
  readonly drain?: boolean;
}

const HELP = `
Every migration, native sign-up and rollback writes an event (user.migrated,
user.created, user.rolled_back) in its own transaction; a dispatcher delivers
it afterwards to each ORGSHIFT_WEBHOOK_URL, signed with ORGSHIFT_WEBHOOK_SECRET,
at least once, retrying failures with exponential backoff until
ORGSHIFT_OUTBOX_MAX_AGE_MS has passed; then the event is dead.

  status          pending, retrying, dead and delivered counts (exit 1 if any is dead)
  retry           pending events waiting for a retry are tried now
  retry --dead    dead events are redriven with a fresh retry window
  run [--drain]   a dispatcher on its own until SIGTERM/SIGINT (--drain: until nothing is pending;
                  exit 1 if an event died)

serve and backfill run a dispatcher too (ORGSHIFT_OUTBOX_DISPATCH=off stops that).`;

export function register(program: Command): void {
  const outbox = program
    .command('outbox')
    .description('after-commit events: status, retry, a dispatcher')
    .addHelpText('after', HELP);
  outbox
    .command('status')
    .description('pending, retrying, dead and delivered events; exit 1 when any is dead')
    .option('--json', 'print one JSON document')
    .action((options: CommandOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        const status = await internalsOf(orgshift).outbox.status();
        if (options.json) printJson(status);
        else printStatus(status);
        return status.dead > 0 ? EXIT_FINDINGS : EXIT_OK;
      }),
    );
  outbox
    .command('retry')
    .description('try pending events now; with --dead, redrive dead events')
    .option('--dead', 'redrive dead events (fresh retry window)')
    .option('--json', 'print one JSON document')
    .action((options: RetryCommandOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        const dead = options.dead ?? false;
        const retried = await internalsOf(orgshift).outbox.retry({ dead });
        if (options.json) printJson({ retried, dead });
        else printLine(`${dead ? 'redrove' : 'hurried'} ${retried} ${dead ? 'dead' : 'pending'} event(s)`);
        return EXIT_OK;
      }),
    );
  outbox
    .command('run')
    .description('deliver events until SIGTERM/SIGINT (or, with --drain, until none is pending)')
    .option('--drain', 'exit once every event is delivered or dead')
    .option('--json', 'print one JSON summary on stdout at the end')
    .action((options: RunCommandOptions) =>
      withOrgshift(options, { outboxObserver: RUN_LOG }, (orgshift) => run(orgshift, options)),
    );
}

/** What an operator watching `outbox run` needs on stderr: deaths and an unreachable database. Retries are routine. */
const RUN_LOG: OutboxObserver = {
  dead: (eventId, error) => note(`outbox: event ${eventId} is dead: ${error}`),
  databaseError: () => note('outbox: database unreachable; trying again'),
};

async function run(orgshift: Orgshift, options: RunCommandOptions): Promise<number> {
  const { config, outbox } = internalsOf(orgshift);
  if (config.outbox.webhooks.length === 0) {
    throw new ConfigError('ORGSHIFT_WEBHOOK_URL', 'is required by outbox run (nowhere to deliver to)');
  }
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    note('outbox: stopping after the deliveries in flight (again to abort)');
    stop.abort();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const started = performance.now();
  try {
    outbox.start();
    note(`outbox: delivering to ${outbox.destinationLabels().join(', ')}`);
    if (options.drain) await outbox.drain('delivered', stop.signal);
    else await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
    await outbox.stop();
    const stats = outbox.stats;
    printSummary(stats, (performance.now() - started) / 1000, options.json ?? false);
    return stats.dead > 0 ? EXIT_FINDINGS : EXIT_OK;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

function printStatus(status: OutboxStatus): void {
  printLine(`pending       ${status.pending}${status.retrying > 0 ? ` (${status.retrying} retrying)` : ''}`);
  printLine(`dead          ${status.dead}${status.dead > 0 ? '  (orgshift outbox retry --dead)' : ''}`);
  printLine(`delivered     ${status.delivered}`);
  if (status.oldestPendingSeconds !== null) printLine(`oldest        ${status.oldestPendingSeconds} s`);
  printLine(
    `destinations  ${status.destinations.length === 0 ? 'none (set ORGSHIFT_WEBHOOK_URL)' : status.destinations.join(', ')}`,
  );
}

function printSummary(stats: DispatchStats, seconds: number, json: boolean): void {
  if (json) {
    printJson({ ...stats, seconds: Math.round(seconds * 1000) / 1000 });
    return;
  }
  printLine(`delivered ${stats.delivered}, retried ${stats.retried}, dead ${stats.dead} in ${seconds.toFixed(1)} s`);
}
