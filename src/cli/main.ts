#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { PACKAGE_VERSION } from '../package-version.js';
import { register as registerAudit } from './commands/audit.js';
import { register as registerBackfill } from './commands/backfill.js';
import { register as registerDb } from './commands/db.js';
import { register as registerOutbox } from './commands/outbox.js';
import { register as registerRollback } from './commands/rollback.js';
import { register as registerSchema } from './commands/schema.js';
import { register as registerSeed } from './commands/seed.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerStatus } from './commands/status.js';
import { register as registerUser } from './commands/user.js';
import { EXIT_USAGE, note } from './output.js';

const program = new Command('orgshift')
  .description('move single-user accounts to organizations: just-in-time, verified, audited')
  .version(PACKAGE_VERSION, '-V, --version', "print orgshift's version")
  .addHelpText(
    'after',
    `
Configuration comes from the environment (ORGSHIFT_DATABASE_URL, ORGSHIFT_LOCK, …;
see the README). Errors are one line, "orgshift: <code>: <message>", and exit 1
(2 for bad configuration or arguments); ORGSHIFT_DEBUG=1 adds the stack trace,
for a bug report.`,
  )
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

for (const register of [
  registerDb,
  registerSchema,
  registerSeed,
  registerServe,
  registerStatus,
  registerUser,
  registerBackfill,
  registerAudit,
  registerRollback,
  registerOutbox,
])
  register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version exit 0; everything else commander rejects is a usage error.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    note(`orgshift: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = EXIT_USAGE;
  }
}
