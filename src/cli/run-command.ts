import { loadConfig, type OrgshiftConfig } from '../config/config.js';
import { type OpenOptions, type Orgshift, open } from '../orgshift.js';
import { demoKeyWarning } from './demo-key-notice.js';
import { note, reportError } from './output.js';

export interface CommandOptions {
  readonly json?: boolean;
}

/** Loads the configuration, failing with exit 2 and the bad key's name. */
export function configOrExit(options: CommandOptions): OrgshiftConfig | undefined {
  try {
    const config = loadConfig();
    const warning = demoKeyWarning(config);
    if (warning !== undefined) note(warning);
    return config;
  } catch (error) {
    process.exitCode = reportError(error, options);
    return undefined;
  }
}

/**
 * Opens orgshift, runs one command, closes it, and turns the result or error
 * into the exit code. The command returns its exit code.
 */
export async function withOrgshift(
  options: CommandOptions,
  openOptions: OpenOptions,
  command: (orgshift: Orgshift) => Promise<number>,
): Promise<void> {
  const config = configOrExit(options);
  if (config === undefined) return;
  let orgshift: Orgshift | undefined;
  try {
    orgshift = await open(config, openOptions);
    process.exitCode = await command(orgshift);
  } catch (error) {
    process.exitCode = reportError(error, options);
  } finally {
    await orgshift?.close().catch(() => undefined);
  }
}

/** Runs a command that needs only the configuration (it opens what it needs itself), turning errors into exit codes. */
export async function withConfig(
  options: CommandOptions,
  command: (config: OrgshiftConfig) => Promise<number>,
): Promise<void> {
  const config = configOrExit(options);
  if (config === undefined) return;
  try {
    process.exitCode = await command(config);
  } catch (error) {
    process.exitCode = reportError(error, options);
  }
}

/**
 * Parses a whole-number option within [min, max], or reports a usage error
 * (exit 2) whose message states exactly the range that is accepted.
 */
export function wholeNumber(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new Error(`${name} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}
