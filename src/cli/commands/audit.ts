import type { Command } from 'commander';
import type { AuditReport } from '../../ops/audit.js';
import { EXIT_FINDINGS, EXIT_OK, printJson, printLine } from '../output.js';
import { type CommandOptions, withOrgshift } from '../run-command.js';

const HELP = `
One set-based query per invariant over the whole database (anti-joins, no
per-user loads), plus a catalog check that every foreign-key column is
indexed (fk_unindexed). secret_mismatch needs decryption and is checked per
user by "orgshift verify <id>" only.

--json prints { ok, violations: [ { code, count, sample } ], checks, notChecked, seconds }:
violations lists only the codes found (count > 0; dependent_unmigrated once
per dependent table, with "table"); checks lists every check that ran with
its count and duration. count is the number of distinct users (foreign keys
for fk_unindexed); sample holds up to 10 user ids (table(column) for
fk_unindexed).

Exit status: 0 clean, 1 anything found, 2 configuration error.`;

export function register(program: Command): void {
  program
    .command('audit')
    .description('whole-database integrity audit (exit 1 when anything is found)')
    .option('--json', 'print one JSON document')
    .addHelpText('after', HELP)
    .action((options: CommandOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        const report = await orgshift.audit();
        if (options.json) printJson(report);
        else printReport(report);
        return report.ok ? EXIT_OK : EXIT_FINDINGS;
      }),
    );
}

function printReport(report: AuditReport): void {
  for (const check of report.checks) {
    const label = check.table === undefined ? check.code : `${check.code} (${check.table})`;
    const found = check.count === 0 ? 'ok' : `${check.count} found, e.g. ${check.sample.join(', ')}`;
    printLine(`${label.padEnd(40)} ${found}  [${check.seconds.toFixed(2)} s]`);
  }
  for (const skipped of report.notChecked) printLine(`${skipped.code.padEnd(40)} not checked: ${skipped.reason}`);
  printLine(
    report.ok ? `audit clean in ${report.seconds.toFixed(2)} s` : `audit FAILED in ${report.seconds.toFixed(2)} s`,
  );
}
