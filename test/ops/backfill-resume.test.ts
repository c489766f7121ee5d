import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Orgshift } from '../../src/orgshift.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { openTest } from '../support/open-test.js';
import { killAllCli, runCli, startCli } from './support/cli.js';
import { tableCounts } from './support/tables.js';

const USERS = 4_000;
// The first run needs 8 s for everything: a loaded machine still catches it midway.
const RATE = '500';

const backends = BACKENDS.filter((b) => b.name !== 'PostgreSQL + postgres lock');

describe.each(backends)('backfill killed with SIGKILL on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;

    beforeAll(async () => {
      instance = await backend.setup('backfill_kill');
      orgshift = await openTest({ ...instance.env });
      await orgshift.seed({ users: USERS, dependents: 2 });
    });

    afterAll(async () => {
      killAllCli();
      await orgshift?.close();
      await instance?.teardown();
    });

    it('leaves only whole migrations behind, and a rerun finishes the job without duplicates', async () => {
      const first = startCli(['backfill', '--json', '--rate', RATE, '--batch-size', '100'], { ...instance.env });
      let midway = 0;
      for (let waited = 0; waited < 60_000 && midway < USERS / 5; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        midway = (await tableCounts(orgshift)).legacyMigrated;
      }
      first.kill('SIGKILL');
      const killed = await first.done;
      expect(killed.signal).toBe('SIGKILL');
      expect(killed.stdout).toBe('');

      // Batches in flight rolled back: what is there is complete, what is not is untouched.
      const between = await tableCounts(orgshift);
      expect(between.legacyMigrated).toBeGreaterThanOrEqual(midway);
      expect(between.legacyMigrated).toBeLessThan(USERS);
      expect(between).toMatchObject({ orgs: between.legacyMigrated, users: between.legacyMigrated });
      expect(between.members).toBe(between.legacyMigrated);
      expect((await orgshift.audit()).violations).toEqual([]);

      const rerun = await runCli(['backfill', '--json'], { ...instance.env });
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(JSON.parse(rerun.stdout)).toMatchObject({ migrated: USERS - between.legacyMigrated, failed: 0 });

      const after = await tableCounts(orgshift);
      expect(after).toMatchObject({ legacyMigrated: USERS, orgs: USERS, users: USERS, members: USERS, failures: 0 });
      expect(after.dependentsInOwnOrg).toBe(after.dependents);
      expect(await orgshift.audit()).toMatchObject({ ok: true, violations: [] });
    }, 120_000);
  });
});
