import type { Command } from 'commander';
import type { RollbackReport } from '../../ops/rollback/rollback.js';
import { printJson, printLine } from '../output.js';
import { type CommandOptions, withOrgshift } from '../run-command.js';

interface RollbackOptions extends CommandOptions {
  readonly dryRun?: boolean;
}

export function register(program: Command): void {
  program
    .command('rollback <id>')
    .description("reverse one user's migration under its lock (personal org with a single member only)")
    .option('--dry-run', 'report what would be restored and discarded, and change nothing')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
The legacy row gets back the user's current values, as the schema map maps
them (secrets re-encoded with the legacy codec; NULL stays NULL), and is
unmarked; the user's dependent rows leave the org and copies of them are
deleted; membership, user and personal org are deleted. The next read, or a
running backfill, migrates the user again. Changes made after the migration
that the legacy row cannot hold (say a renamed personal org) are listed as
discarded: run with --dry-run first to see them.

Refused (rollback_refused, exit 1, nothing changed) for native users, users
that belong to other orgs, personal orgs with other members, and whenever any
other row in the database references the personal org, the user or the
membership through a foreign key.`,
    )
    .action((id: string, options: RollbackOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        const report = await orgshift.rollbackUser(id, { dryRun: options.dryRun === true });
        if (options.json) printJson(report);
        else printReport(report);
        return 0;
      }),
    );
}

function printReport(report: RollbackReport): void {
  const verb = report.dryRun ? 'would roll back' : 'rolled back';
  printLine(
    `${verb} ${report.id}: ${report.dependentRows} dependent row(s) leave the org, ${report.copiesDeleted} cop(ies) deleted`,
  );
  if (report.restored.length > 0) printLine(`legacy columns restored: ${report.restored.join(', ')}`);
  for (const lost of report.discarded)
    printLine(`discarded: ${lost.column} (${lost.field}) was changed after the migration`);
}
