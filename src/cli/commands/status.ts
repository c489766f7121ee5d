import type { Command } from 'commander';
import { printJson, printLine } from '../output.js';
import { type CommandOptions, withOrgshift } from '../run-command.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('legacy total, migrated, pending, failed; outbox pending and dead; lock backend health')
    .option('--json', 'print one JSON document')
    .action((options: CommandOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        const [counts, health] = await Promise.all([orgshift.status(), orgshift.health()]);
        const lock = { kind: orgshift.locks.kind, healthy: health.lock };
        if (options.json) {
          printJson({ ...counts, lock });
        } else {
          printLine(`legacy users  ${counts.legacyTotal}`);
          printLine(`migrated      ${counts.migrated}`);
          printLine(`pending       ${counts.pending}`);
          printLine(`failed        ${counts.failed}`);
          printLine(`outbox        ${counts.outbox.pending} pending, ${counts.outbox.dead} dead`);
          printLine(`lock backend  ${lock.kind} (${lock.healthy ? 'healthy' : 'UNREACHABLE'})`);
        }
        return health.lock ? 0 : 1;
      }),
    );
}
