import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isOrgshiftError } from '../../src/errors.js';
import type { Orgshift } from '../../src/orgshift.js';
import { kyselyOf } from '../support/internals.js';
import { openTest } from '../support/open-test.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A deadlock is no fault of the user being migrated: the server rolled the
 * transaction back, and the migration is simply redone. Seen in the chaos run
 * as a 500 when a restarting server's `create index if not exists` locked a
 * table in the other order.
 */
describePostgres('a just-in-time migration that the server picks as a deadlock victim', () => {
  let testDb: TestDatabase;
  let orgshift: Orgshift;
  let other: pg.Client;

  beforeAll(async () => {
    testDb = await createTestDatabase('deadlock');
    orgshift = await openTest({ ORGSHIFT_DATABASE_URL: testDb.url, ORGSHIFT_LOCK: 'memory' });
    await orgshift.seed({ users: 3, dependents: 1 });
    other = new pg.Client({ connectionString: testDb.url, application_name: 'deadlock-test' });
    await other.connect();
  });
  afterAll(async () => {
    await other?.end();
    await orgshift?.close();
    await testDb?.drop();
  });

  /** Resolves once a session of orgshift waits for a lock on `table`. */
  async function migrationWaitsOn(table: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const waiting = await other.query(
        `select 1 from pg_locks l join pg_stat_activity a on a.pid = l.pid
         where not l.granted and l.relation = $1::regclass and a.application_name <> 'deadlock-test'`,
        [table],
      );
      if (waiting.rowCount) return;
      await sleep(10);
    }
    throw new Error(`no migration waited on ${table}`);
  }

  it('is redone under the same lock and migrates the user exactly once', async () => {
    const id = String(
      (await sql<{ id: string }>`select id from legacy_users order by id limit 1`.execute(kyselyOf(orgshift))).rows[0]
        ?.id,
    );
    // The cycle: we hold conversations, the migration holds users and waits for conversations, we ask for users.
    // Our deadlock_timeout is longer than the migration's, so the migration's session detects the cycle and loses.
    await other.query(`set deadlock_timeout = '20s'`);
    await other.query('begin');
    await other.query('lock table conversations in share mode');
    const read = orgshift.getUser(id).then(
      (user) => user.id,
      (error: unknown) => (isOrgshiftError(error) ? error.code : String(error)),
    );
    await migrationWaitsOn('conversations');
    await other.query('lock table users in share mode');
    // Granted once the victim rolled back; the redone migration now waits for us.
    await migrationWaitsOn('users');
    await other.query('commit');
    expect(await read).toBe(id);

    const count = async (text: string) => Number((await other.query(text, [id])).rows[0]?.n ?? Number.NaN);
    expect(await count('select count(*) as n from users where id = $1')).toBe(1);
    expect(await count('select count(*) as n from org_members where user_id = $1')).toBe(1);
    expect(
      await count('select count(*) as n from orgs where id = (select current_org_id from users where id = $1)'),
    ).toBe(1);
    expect(await count('select count(*) as n from orgshift_migration_failures where subject = $1')).toBe(0);
    expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'migrated', violations: [] });
  });
});
