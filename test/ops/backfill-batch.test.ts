import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Orgshift } from '../../src/orgshift.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { openTest } from '../support/open-test.js';
import { legacyIds, tableCounts } from './support/tables.js';

const USERS = 120;
const dialects = BACKENDS.filter((b) => b.name !== 'PostgreSQL + redis lock');

describe.each(dialects)('a backfill batch that cannot be written as a set, on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;

    beforeAll(async () => {
      instance = await backend.setup('backfill_batch');
      orgshift = await openTest({ ...instance.env });
      await orgshift.seed({ users: USERS, dependents: 2, apiKeyShare: 1 });
    });
    afterAll(async () => {
      await orgshift?.close();
      await instance?.teardown();
    });

    it('is redone user by user: only the user whose org id is taken fails, the rest of its batch migrates', async () => {
      const ids = await legacyIds(orgshift);
      // A team org squatting on a legacy user's id: that user's personal org cannot be inserted.
      const squatted = ids[37] as string;
      await sql`insert into orgs (id, kind, name) values (${squatted}, 'team', 'Squatters')`.execute(
        orgshift.db.kysely,
      );

      const report = await orgshift.backfill({ batchSize: USERS, concurrency: 1 });
      expect(report).toMatchObject({ migrated: USERS - 1, failed: 1, skipped: 0 });
      const failures = await sql<{ user_id: string; code: string }>`
        select user_id, code from migration_failures`.execute(orgshift.db.kysely);
      expect(failures.rows).toEqual([{ user_id: squatted, code: 'migration_failed' }]);
      expect(await tableCounts(orgshift)).toMatchObject({
        legacyMigrated: USERS - 1,
        users: USERS - 1,
        members: USERS - 1,
        orgs: USERS,
      });
      expect((await orgshift.verifyUser(squatted)).state).toBe('pending');
      for (const id of [ids[0], ids[36], ids[38], ids.at(-1)] as string[]) {
        expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'migrated', violations: [] });
      }
    });
  });
});
