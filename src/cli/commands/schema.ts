import type { Command } from 'commander';
import { inspectDatabase } from '../../orgshift.js';
import { schemaMapJsonSchema } from '../../schema-map/json-schema.js';
import type { SchemaProblem } from '../../schema-map/schema-check.js';
import { EXIT_OK, EXIT_USAGE, printJson, printLine } from '../output.js';
import { type CommandOptions, withConfig } from '../run-command.js';

export function register(program: Command): void {
  const schema = program
    .command('schema')
    .description('the schema map: check it against the database, print its JSON Schema');
  schema
    .command('check')
    .description('validate the schema map against the live catalog (exit 2 on problems)')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Every table and column the map names must exist with a compatible type; keys
and foreign keys must be indexed; the fence needs its unique constraints.
Each problem names the map path and the database object, with the SQL that
fixes it where there is an obvious one. \`serve\` and \`backfill\` run this
check at start (ORGSHIFT_SCHEMA_CHECK=warn makes index problems warnings).`,
    )
    .action((options: CommandOptions) =>
      withConfig(options, async (config) => {
        const problems = await inspectDatabase(config);
        if (options.json) printJson({ ok: problems.length === 0, map: config.map.origin, problems });
        else printProblems(config.map.origin, problems);
        return problems.length === 0 ? EXIT_OK : EXIT_USAGE;
      }),
    );
  schema
    .command('json-schema')
    .description('print the schema map\'s JSON Schema (for editors: "$schema" in the map)')
    .action(() => {
      printJson(schemaMapJsonSchema());
    });
}

function printProblems(origin: string, problems: readonly SchemaProblem[]): void {
  if (problems.length === 0) {
    printLine(`${origin}: ok, the database has everything the map names`);
    return;
  }
  for (const p of problems) {
    printLine(`${p.severity === 'error' ? 'error' : 'index'}  ${p.path}  ${p.object}: ${p.message}`);
    if (p.fix) printLine(`       fix: ${p.fix}`);
  }
  printLine(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${origin}`);
}
