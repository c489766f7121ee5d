import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadDatabaseConfig } from '../../config/config.js';
import { ConfigError } from '../../errors.js';
import { draftDatabaseMap, inspectDatabase } from '../../orgshift.js';
import { schemaMapJsonSchema } from '../../schema-map/json-schema.js';
import type { SchemaProblem } from '../../schema-map/schema-check.js';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, note, printJson, printLine, reportError } from '../output.js';
import { type CommandOptions, withConfig } from '../run-command.js';

export function register(program: Command): void {
  const schema = program
    .command('schema')
    .description('the schema map: draft one from the database, check it against the database, print its JSON Schema');
  schema
    .command('init')
    .description('draft a schema map from the database (exit 1 while it has TODOs)')
    .option('--out <file>', 'write the draft to this file instead of stdout')
    .option('--force', 'with --out: overwrite an existing file')
    .addHelpText(
      'after',
      `
Reads the catalog of ORGSHIFT_DATABASE_URL (names, types, keys, indexes,
foreign keys; never a row) and drafts a map, as \`prisma db pull\` drafts a
schema: JSON with a comment on every guess and a TODO where a person must
decide. Exit 0 when the draft has no TODO, 1 when it has (listed on stderr),
2 on a configuration or database error. No map is needed to run it.`,
    )
    .action((options: { readonly out?: string; readonly force?: boolean }) => init(options));
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
check at start: an error stops them (exit 2), a missing index is printed once
as a warning and they go on. Exit 2 here on any problem, index ones included,
so a deploy can gate on it.`,
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

async function init(options: { readonly out?: string; readonly force?: boolean }): Promise<void> {
  try {
    if (options.out !== undefined && !options.force && existsSync(options.out)) {
      throw new ConfigError('--out', `${options.out} exists; pass --force to overwrite it`);
    }
    const database = loadDatabaseConfig();
    // better-sqlite3 would create a missing file: a typo must not leave an empty database behind.
    if (database.kind === 'sqlite' && database.path !== ':memory:' && !existsSync(database.path)) {
      throw new ConfigError('ORGSHIFT_DATABASE_URL', `no SQLite database at ${database.path}`);
    }
    const draft = await draftDatabaseMap(database);
    if (options.out === undefined) process.stdout.write(draft.text);
    else writeDraft(options.out, draft.text);
    if (draft.todos.length === 0) {
      if (options.out !== undefined) note(`orgshift: wrote ${options.out}; check it with \`orgshift schema check\``);
      process.exitCode = EXIT_OK;
      return;
    }
    const count = `${draft.todos.length} TODO${draft.todos.length === 1 ? '' : 's'}`;
    note(`orgshift: the draft${options.out ? ` in ${options.out}` : ''} has ${count} to resolve:`);
    for (const todo of draft.todos) note(`  ${todo.path}: ${todo.message.split('\n')[0]}`);
    process.exitCode = EXIT_FINDINGS;
  } catch (error) {
    reportError(error);
    // Whatever went wrong, no draft was made: a configuration or database problem (exit 1 means TODOs here).
    process.exitCode = EXIT_USAGE;
  }
}

function writeDraft(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch {
    throw new ConfigError('--out', `cannot write ${path}`);
  }
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
