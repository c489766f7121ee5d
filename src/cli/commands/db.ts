import type { Command } from 'commander';
import { migrateDatabase } from '../../orgshift.js';
import { printJson, printLine } from '../output.js';
import { type CommandOptions, withConfig } from '../run-command.js';

interface MigrateOptions extends CommandOptions {
  readonly dryRun?: boolean;
}

export function register(program: Command): void {
  const db = program.command('db').description('schema management');
  db.command('migrate')
    .description("create or upgrade orgshift's own tables, and make the changes to yours that the map opts into")
    .option('--dry-run', 'print what would be applied and change nothing')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
One transaction (on PostgreSQL a failure leaves nothing behind), idempotent.
orgshift's own tables are named orgshift_*. Your tables change only where the
schema map says "add": true (a marker column, a dependent's org column, and
the index each needs).`,
    )
    .action((options: MigrateOptions) =>
      withConfig(options, async (config) => {
        const report = await migrateDatabase(config, { dryRun: options.dryRun === true });
        if (options.json) {
          printJson({ ...report, dryRun: options.dryRun === true });
          return 0;
        }
        const prefix = options.dryRun ? 'would apply' : 'applied';
        if (report.applied.length === 0 && report.changes.length === 0) printLine('schema up to date');
        if (report.applied.length > 0) printLine(`${prefix}: ${report.applied.join(', ')}`);
        for (const change of report.changes) printLine(`${options.dryRun ? 'would run' : 'ran'}: ${change}`);
        return 0;
      }),
    );
}
