import { ConfigError, isOrgshiftError } from '../errors.js';

/** Exit codes (docs/design.md#interfaces): 0 ok, 1 findings or failures, 2 usage or configuration error. */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export interface OutputOptions {
  readonly json?: boolean;
}

/** With --json, stdout carries exactly one JSON document and nothing else. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Human notes go to stderr so they never pollute a --json document. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Codes that mean: change the configuration, the arguments or the schema (map or database) before trying again. */
const USAGE_CODES: ReadonlySet<string> = new Set(['invalid_user_id', 'invalid_input', 'schema_invalid']);

/** Bad configuration, bad arguments, or a map that does not match the database: retrying will not help. */
function isUsageError(error: unknown): boolean {
  return error instanceof ConfigError || (isOrgshiftError(error) && USAGE_CODES.has(error.code));
}

/**
 * Turns any error into a one-line message and an exit code. Typed errors show
 * their code; anything else is an internal error whose stack is shown only
 * with ORGSHIFT_DEBUG=1, because messages may reach logs that others read.
 */
export function reportError(error: unknown, options: OutputOptions = {}): number {
  const exitCode = isUsageError(error) ? EXIT_USAGE : EXIT_FINDINGS;
  const code = isOrgshiftError(error) ? error.code : 'internal_error';
  const message = isOrgshiftError(error) ? error.message : 'unexpected error (set ORGSHIFT_DEBUG=1 for details)';
  if (options.json) {
    const extra = isOrgshiftError(error) && 'violations' in error ? { violations: error.violations } : {};
    printJson({ error: { code, message, ...extra } });
  } else {
    note(`orgshift: ${code}: ${message}`);
  }
  if (process.env.ORGSHIFT_DEBUG === '1' && error instanceof Error) note(error.stack ?? String(error));
  return exitCode;
}
