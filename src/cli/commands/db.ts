import type { Command } from 'commander';
import { printJson, printLine } from '../output.js';
import { type CommandOptions, withOrgshift } from '../run-command.js';

export function register(program: Command): void {
  const db = program.command('db').description('schema management');
  db.command('migrate')
    .description('create or upgrade the schema (idempotent)')
    .option('--json', 'print one JSON document')
    .action((options: CommandOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        const report = await orgshift.migrateSchema();
        if (options.json) printJson(report);
        else printLine(report.applied.length === 0 ? 'schema up to date' : `applied: ${report.applied.join(', ')}`);
        return 0;
      }),
    );
}
