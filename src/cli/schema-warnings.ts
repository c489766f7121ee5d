import type { Orgshift } from '../orgshift.js';
import type { SchemaProblem } from '../schema-map/schema-check.js';
import { note } from './output.js';

/**
 * `serve` and `backfill` start only on a map that matches the database:
 * open() refuses one with errors (schema_invalid, exit 2). What is left are
 * missing indexes, which make every lookup a scan but break nothing: printed
 * once on stderr, with the statement that fixes each, and the command goes on.
 */
export async function warnAboutIndexes(orgshift: Orgshift, command: string): Promise<void> {
  const problems = (await orgshift.checkSchema()).filter((p) => p.severity === 'index');
  if (problems.length === 0) return;
  const count = `${problems.length} index problem${problems.length === 1 ? '' : 's'}`;
  note(`orgshift: warning: schema check found ${count}; ${command} goes on, slower (see \`orgshift schema check\`):`);
  for (const problem of problems) note(describe(problem));
}

function describe(p: SchemaProblem): string {
  return `  ${p.path}  ${p.object}: ${p.message}${p.fix ? `\n    fix: ${p.fix}` : ''}`;
}
