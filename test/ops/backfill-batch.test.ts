import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Transact } from '../../src/db/database.js';
import { type BatchResult, migrateBatch } from '../../src/ops/backfill/batch.js';
import { claimBatch, databaseNow } from '../../src/ops/backfill/claim.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { kyselyOf } from '../support/internals.js';
import { openTest } from '../support/open-test.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';
import { legacyIds, tableCounts } from './support/tables.js';

const USERS = 120;
const dialects = BACKENDS.filter((b) => b.name !== 'PostgreSQL + redis lock');

/** Damages one legacy row so that a column no longer decodes; the damage holds a would-be secret. */
async function damage(orgshift: Orgshift, id: string): Promise<void> {
  if (internalsOf(orgshift).db.sql.name === 'postgres') {
    // jsonb cannot hold malformed JSON; a timestamp can hold infinity.
    await sql`update legacy_users set created_at = 'infinity' where id = ${id}`.execute(kyselyOf(orgshift));
  } else {
    await sql`update legacy_users set settings = '{"theme": sk-live-secret' where id = ${id}`.execute(
      kyselyOf(orgshift),
    );
  }
}

describe.each(dialects)('backfill batches with a bad user, on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;
    let ids: string[];

    beforeEach(async () => {
      instance = await backend.setup('backfill_batch');
      orgshift = await openTest({ ...instance.env });
      await orgshift.seed({ users: USERS, dependents: 2, apiKeyShare: 1 });
      ids = await legacyIds(orgshift);
    });
    afterEach(async () => {
      await orgshift?.close();
      await instance?.teardown();
    });

    it('is redone user by user: only the user whose org id is taken fails, the rest of its batch migrates', async () => {
      // A team org squatting on a legacy user's id: that user's personal org cannot be inserted.
      const squatted = ids[37] as string;
      await sql`insert into orgs (id, kind, name) values (${squatted}, 'team', 'Squatters')`.execute(
        kyselyOf(orgshift),
      );

      const report = await orgshift.backfill({ batchSize: USERS, concurrency: 1 });
      expect(report).toMatchObject({ migrated: USERS - 1, failed: 1, skipped: 0 });
      const failures = await sql<{ subject: string; code: string }>`
        select subject, code from orgshift_migration_failures`.execute(kyselyOf(orgshift));
      expect(failures.rows).toEqual([{ subject: squatted, code: 'migration_failed' }]);
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

    it('records a row whose column does not decode as legacy_row_invalid, without its content, and goes on', async () => {
      const bad = ids[5] as string;
      await damage(orgshift, bad);
      expect(await orgshift.backfill({ dryRun: true })).toMatchObject({ migrated: USERS - 1, failed: 1 });

      const report = await orgshift.backfill({ batchSize: 50 });
      expect(report).toMatchObject({ migrated: USERS - 1, failed: 1 });
      const failures = await sql<{ subject: string; code: string; message: string }>`
        select subject, code, message from orgshift_migration_failures`.execute(kyselyOf(orgshift));
      expect(failures.rows.map((r) => [r.subject, r.code])).toEqual([[bad, 'legacy_row_invalid']]);
      expect(failures.rows[0]?.message).toMatch(/^legacy row .*: (settings is not JSON|created_at is not)/);
      expect(failures.rows[0]?.message).not.toMatch(/sk-live|infinity/i);
      // A rerun leaves it alone; a retry tries it once and records a second attempt.
      expect(await orgshift.backfill()).toMatchObject({ migrated: 0, skipped: 1, failed: 0 });
      expect(await orgshift.backfill({ retryFailed: true })).toMatchObject({ migrated: 0, failed: 1 });
      // A read of that user says migration_failed and changes nothing.
      const code = await orgshift.getUser(bad).then(
        () => 'ok',
        (error: unknown) => (error as { code?: string }).code,
      );
      expect(code).toBe('migration_failed');
      expect(await tableCounts(orgshift)).toMatchObject({ legacyMigrated: USERS - 1, users: USERS - 1 });
    });
  });
});

describePostgres('a backfill batch whose COMMIT answer is lost (PostgreSQL)', () => {
  let database: TestDatabase;
  let orgshift: Orgshift;

  beforeAll(async () => {
    database = await createTestDatabase('backfill_commit');
    orgshift = await openTest({ ORGSHIFT_DATABASE_URL: database.url, ORGSHIFT_LOCK: 'memory' });
    await orgshift.seed({ users: 60, dependents: 1 });
  });
  afterAll(async () => {
    await orgshift?.close();
    await database?.drop();
  });

  it('counts a batch whose COMMIT answer was lost once the server says it committed, and redoes one that did not', async () => {
    const { db, sql: m, migration } = internalsOf(orgshift);
    const real = db.batchTransactions();
    const lost = () => Object.assign(new Error('Connection terminated unexpectedly'), {});
    const filter = { retryFailed: false, runStart: await databaseNow(db) };
    const claim = (size: number) => (trx: Parameters<Parameters<Transact>[0]>[0]) =>
      claimBatch(trx, m, null, size, filter);
    const signal = new AbortController().signal;

    // Committed, then the answer is lost.
    const committedThenLost: Transact = (fn) =>
      real(fn).then(() => {
        throw lost();
      });
    const result: BatchResult = await migrateBatch(migration, committedThenLost, claim(30), signal);
    expect(result).toMatchObject({ claimed: 30, migrated: 30 });
    expect((await tableCounts(orgshift)).legacyMigrated).toBe(30);

    // Rolled back with the connection: the error surfaces, for the caller to retry the batch.
    const lostBeforeCommit: Transact = (fn) =>
      real(async (trx) => {
        await fn(trx);
        throw lost();
      });
    const outcome = await migrateBatch(migration, lostBeforeCommit, claim(30), signal).then(
      () => 'returned',
      (error: unknown) => String((error as Error).message),
    );
    expect(outcome).toBe('Connection terminated unexpectedly');
    expect((await tableCounts(orgshift)).legacyMigrated).toBe(30);
  });
});
