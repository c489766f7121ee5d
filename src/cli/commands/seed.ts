import type { Command } from 'commander';
import { note, printJson, printLine } from '../output.js';
import { type CommandOptions, wholeNumber, withOrgshift } from '../run-command.js';

interface SeedCommandOptions extends CommandOptions {
  readonly users: number;
  readonly dependents: number;
}

export function register(program: Command): void {
  program
    .command('seed')
    .description('insert N demo legacy users and K rows per user in each dependent table')
    .requiredOption('--users <n>', 'legacy users to insert', wholeNumber('--users', 1, 100_000_000))
    .option('--dependents <k>', 'rows per user in each dependent table', wholeNumber('--dependents', 0, 1_000), 0)
    .option('--json', 'print one JSON document')
    .action((options: SeedCommandOptions) =>
      withOrgshift(options, { migrate: true }, async (orgshift) => {
        let lastNote = 0;
        const report = await orgshift.seed({
          users: options.users,
          dependents: options.dependents,
          onProgress: (inserted) => {
            if (options.json || Date.now() - lastNote < 2_000) return;
            lastNote = Date.now();
            note(`seed: ${inserted}/${options.users} users`);
          },
        });
        if (options.json) printJson(report);
        else
          printLine(
            `seeded ${report.users} legacy users and ${report.dependentRows} dependent rows in ${report.seconds.toFixed(2)} s`,
          );
        return 0;
      }),
    );
}
