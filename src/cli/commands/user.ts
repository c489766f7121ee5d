import type { Command } from 'commander';
import type { VerifyReport } from '../../directory/user-directory.js';
import type { UserView } from '../../directory/user-graph.js';
import { printJson, printLine } from '../output.js';
import { type CommandOptions, withOrgshift } from '../run-command.js';

export function register(program: Command): void {
  program
    .command('user <id>')
    .description('lock-load-verify one user (migrates it on first access), as GET /v1/users/:id')
    .option('--json', 'print one JSON document')
    .action((id: string, options: CommandOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        const user = await orgshift.getUser(id);
        if (options.json) printJson(user);
        else printUser(user);
        return 0;
      }),
    );
  program
    .command('verify <id>')
    .description('deep verification of one user (legacy row, dependents, fidelity)')
    .option('--json', 'print one JSON document')
    .action((id: string, options: CommandOptions) =>
      withOrgshift(options, {}, async (orgshift) => {
        const report = await orgshift.verifyUser(id);
        if (options.json) printJson(report);
        else printVerification(id, report);
        return report.ok ? 0 : 1;
      }),
    );
}

function printUser(user: UserView): void {
  printLine(`${user.id}  ${user.email}  ${user.displayName ?? ''}`);
  printLine(`migrated at  ${user.migratedAt?.toISOString() ?? '(native sign-up)'}`);
  printLine(`current org  ${user.currentOrg.name} [${user.currentOrg.kind}] ${user.currentOrg.id}`);
  for (const m of user.memberships) printLine(`member of    ${m.org.name} as ${m.role.name} (${m.status})`);
}

function printVerification(id: string, report: VerifyReport): void {
  if (report.ok) printLine(`${id}: ok (${report.state})`);
  for (const v of report.violations) printLine(`${id}: ${v.code}: ${v.message}`);
}
