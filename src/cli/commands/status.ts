import type { Command } from 'commander';
import { sampleKeys } from '../../ops/sample-keys.js';
import { internalsOf } from '../../orgshift.js';
import { printJson, printLine } from '../output.js';
import { type CommandOptions, wholeNumber, withOrgshift } from '../run-command.js';

/** Enough to try things with; a sample is not an export. */
const MAX_SAMPLE = 100;

interface StatusOptions extends CommandOptions {
  readonly sample?: number;
}

export function register(program: Command): void {
  program
    .command('status')
    .description('legacy total, migrated, pending, failed; lock backend health')
    .option(
      '--sample <n>',
      `also list n legacy user ids to try (not yet migrated first; at most ${MAX_SAMPLE})`,
      wholeNumber('--sample', 1, MAX_SAMPLE),
    )
    .option('--json', 'print one JSON document')
    .action((options: StatusOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        const [counts, health] = await Promise.all([orgshift.status(), orgshift.health()]);
        const lock = { kind: orgshift.lockKind, healthy: health.lock };
        const { db, sql: m } = internalsOf(orgshift);
        const sample = options.sample === undefined ? undefined : await sampleKeys(db, m, options.sample);
        if (options.json) {
          printJson({ ...counts, lock, ...(sample === undefined ? {} : { sample }) });
        } else {
          printLine(`legacy users  ${counts.legacyTotal}`);
          printLine(`migrated      ${counts.migrated}`);
          printLine(`pending       ${counts.pending}`);
          printLine(`failed        ${counts.failed}`);
          printLine(
            `invalid       ${counts.invalid.nullKeys} NULL key(s), ${counts.invalid.duplicateKeys} row(s) with a shared key`,
          );
          printLine(`lock backend  ${lock.kind} (${lock.healthy ? 'healthy' : 'UNREACHABLE'})`);
          if (sample !== undefined) printLine(`sample ids    ${sample.join(' ')}`);
        }
        return health.lock ? 0 : 1;
      }),
    );
}
