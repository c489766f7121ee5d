import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('the README library example runs and migrates a user cleanly', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/library.ts'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/now lives in .* \(personal\) as owner/);
  expect(run.stdout).toContain('deep verification: clean');
  expect(run.stdout).toContain('unknown ids are typed errors: user_not_found');
});
