import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Orgshift } from '../../src/orgshift.js';
import { openTest } from '../support/open-test.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';
import { killAllCli, startCli } from './support/cli.js';
import { tableCounts } from './support/tables.js';

const USERS = 3_000;

describePostgres('backfill whose database connections are terminated mid-run', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let orgshift: Orgshift;
  let admin: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('backfill_reconnect');
    env = { ORGSHIFT_DATABASE_URL: database.url, ORGSHIFT_LOCK: 'memory' };
    orgshift = await openTest(env);
    await orgshift.seed({ users: USERS, dependents: 2 });
    // Watches and kills from outside orgshift's pools, under a name of its own.
    admin = new pg.Client({ connectionString: database.url, application_name: 'orgshift-test-admin' });
    await admin.connect();
  });

  afterAll(async () => {
    killAllCli();
    await admin?.end();
    await orgshift?.close();
    await database?.drop();
  });

  async function migrated(): Promise<number> {
    const result = await admin.query<{ n: string }>(
      'select count(*) as n from legacy_users where migrated_at is not null',
    );
    return Number(result.rows[0]?.n);
  }

  /**
   * Catches a batch mid-transaction and kills it with every other connection
   * of the backfill process: a share lock on orgs stalls the batch's write,
   * the backends are terminated while it waits, then the lock goes.
   */
  async function terminateBackfillMidBatch(): Promise<number> {
    await admin.query('begin');
    await admin.query('lock table orgs in share mode');
    try {
      for (let waited = 0; waited < 10_000; waited += 20) {
        const stalled = await admin.query(
          `select 1 from pg_stat_activity where datname = current_database()
             and application_name = 'orgshift' and wait_event_type = 'Lock'`,
        );
        if ((stalled.rowCount ?? 0) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const killed = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where datname = current_database() and application_name = 'orgshift' and wait_event_type = 'Lock'`,
      );
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where datname = current_database() and application_name = 'orgshift'`,
      );
      return killed.rowCount ?? 0;
    } finally {
      await admin.query('rollback');
    }
  }

  it('retries the batches it lost, finishes with exit 0 and leaves every user migrated exactly once', async () => {
    // Our own pool would be terminated too: close it and reopen afterwards.
    await orgshift.close();
    const run = startCli(['backfill', '--json', '--rate', '600', '--batch-size', '50'], env);
    const kills: number[] = [];
    for (const share of [0.2, 0.5]) {
      while ((await migrated()) < USERS * share) await new Promise((resolve) => setTimeout(resolve, 20));
      kills.push(await terminateBackfillMidBatch());
    }
    const result = await run.done;
    expect(
      kills.every((n) => n > 0),
      `terminated ${kills.join(', ')}`,
    ).toBe(true);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/database connection lost; batch retried/);
    const summary = JSON.parse(result.stdout) as { migrated: number; failed: number };
    expect(summary.failed).toBe(0);
    // Every batch is counted once: a lost batch rolled back and was redone (a COMMIT whose answer
    // was lost would have been resolved with the server, test/ops/backfill-batch.test.ts).
    expect(summary.migrated).toBe(USERS);

    orgshift = await openTest(env);
    const counts = await tableCounts(orgshift);
    expect(counts).toMatchObject({ legacyMigrated: USERS, orgs: USERS, users: USERS, members: USERS, failures: 0 });
    expect(counts.dependentsInOwnOrg).toBe(counts.dependents);
    expect(await orgshift.audit()).toMatchObject({ ok: true, violations: [] });
  }, 120_000);
});
