import type { Command } from 'commander';
import { printJson, printLine } from '../output.js';
import { type CommandOptions, withOrgshift } from '../run-command.js';

export function register(program: Command): void {
  program
    .command('rollback <id>')
    .description("reverse one user's migration under its lock (personal org with a single member only)")
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
The legacy row gets back the user's current email, display name, settings and
secret (re-encrypted with the legacy key) and is unmarked; dependent rows leave
the org; membership, user and personal org are deleted. The next read, or a
running backfill, migrates the user again.

Refused (rollback_refused, exit 1) for native users, users that belong to other
orgs and personal orgs with other members.`,
    )
    .action((id: string, options: CommandOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        const report = await orgshift.rollbackUser(id);
        if (options.json) printJson(report);
        else printLine(`rolled back ${report.id} (${report.dependentRows} dependent rows left the org)`);
        return 0;
      }),
    );
}
