import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isOrgshiftError } from '../../src/errors.js';
import type { Orgshift } from '../../src/orgshift.js';
import { kyselyOf } from '../support/internals.js';
import { openTest } from '../support/open-test.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describePostgres('a database connection killed under orgshift', () => {
  let testDb: TestDatabase;
  let orgshift: Orgshift;
  const poolErrors: Error[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase('connloss');
    orgshift = await openTest(
      { ORGSHIFT_DATABASE_URL: testDb.url, ORGSHIFT_DATABASE_POOL_SIZE: '3', ORGSHIFT_LOCK: 'memory' },
      { onDatabaseError: (error) => poolErrors.push(error) },
    );
    await orgshift.seed({ users: 5, dependents: 1 });
  });
  afterAll(async () => {
    await orgshift?.close();
    await testDb?.drop();
  });

  async function terminate(pid: number) {
    const admin = new pg.Client({ connectionString: testDb.url });
    await admin.connect();
    try {
      await admin.query('select pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
  }

  it('does not crash when a checked-out connection dies between two queries, and recovers', async () => {
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on('uncaughtException', onCrash);
    try {
      const failure = await kyselyOf(orgshift)
        .transaction()
        .execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          await terminate(Number(rows[0]?.pid));
          await sleep(300); // the server's FATAL arrives while no query is active
          await sql`select 1`.execute(trx);
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(Error);
      expect(crashes).toEqual([]);
      expect(poolErrors.length).toBeGreaterThan(0);
    } finally {
      process.off('uncaughtException', onCrash);
    }
    const { sampleIds } = await orgshift.seed({ users: 1 });
    expect((await orgshift.getUser(sampleIds[0] as string)).id).toBe(sampleIds[0]);
  });

  it('answers database_unavailable, not a crash, when every connection is killed, then serves again', async () => {
    const { sampleIds } = await orgshift.seed({ users: 3 });
    const admin = new pg.Client({ connectionString: testDb.url });
    await admin.connect();
    try {
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
      );
    } finally {
      await admin.end();
    }
    const outcomes = await Promise.all(
      sampleIds.map((id) =>
        orgshift.getUser(id).then(
          () => 'ok',
          (error: unknown) => (isOrgshiftError(error) ? error.code : String(error)),
        ),
      ),
    );
    for (const outcome of outcomes) expect(['ok', 'database_unavailable']).toContain(outcome);
    for (const id of sampleIds) expect((await orgshift.getUser(id)).id).toBe(id);
  });
});
