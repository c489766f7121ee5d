import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isOrgshiftError } from '../../src/errors.js';
import { createLockManager } from '../../src/lock/create-lock-manager.js';
import type { Orgshift } from '../../src/orgshift.js';
import { kyselyOf } from '../support/internals.js';
import { openTest } from '../support/open-test.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function count(orgshift: Orgshift, table: string, id: string): Promise<number> {
  const column = table === 'org_members' ? 'user_id' : 'id';
  const rows = await sql<{
    n: string;
  }>`select count(*) as n from ${sql.raw(table)} where ${sql.raw(column)} = ${id}`.execute(kyselyOf(orgshift));
  return Number(rows.rows[0]?.n);
}

describePostgres('a lease lost in the middle of a migration', () => {
  let testDb: TestDatabase;
  let env: Record<string, string>;
  let orgshift: Orgshift;

  beforeAll(async () => {
    testDb = await createTestDatabase('lostlock');
    env = { ORGSHIFT_DATABASE_URL: testDb.url, ORGSHIFT_DATABASE_POOL_SIZE: '4', ORGSHIFT_LOCK: 'memory' };
    orgshift = await openTest(env);
    await orgshift.seed({ users: 5, dependents: 1 });
  });
  afterAll(async () => {
    await orgshift?.close();
    await testDb?.drop();
  });

  it('still ends with exactly one migration, and the loser gets the user or a typed error', async () => {
    const id = String(
      (await sql<{ id: string }>`select id from legacy_users limit 1`.execute(kyselyOf(orgshift))).rows[0]?.id,
    );
    // One lock manager shared by two instances, so they exclude each other until the TTL runs out.
    const locks = createLockManager({ kind: 'memory' });
    const ttl = { ORGSHIFT_LOCK_TTL_MS: '300', ORGSHIFT_LOCK_WAIT_MS: '5000' };
    const first = await openTest({ ...env, ...ttl }, { locks });
    const second = await openTest({ ...env, ...ttl }, { locks });
    // Hold the legacy row so the first migration stalls at its FOR UPDATE past the TTL.
    const blocker = new pg.Client({ connectionString: testDb.url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select 1 from legacy_users where id = $1 for update', [id]);
      const slow = first.getUser(id).then(
        (user) => user.id,
        (error: unknown) => (isOrgshiftError(error) ? error.code : String(error)),
      );
      await sleep(450); // the first lease has expired; the lock is free again
      const fast = second.getUser(id).then(
        (user) => user.id,
        (error: unknown) => (isOrgshiftError(error) ? error.code : String(error)),
      );
      await sleep(50);
      await blocker.query('commit');
      const [slowResult, fastResult] = await Promise.all([slow, fast]);
      expect(fastResult).toBe(id);
      expect([id, 'lock_lost']).toContain(slowResult);
    } finally {
      await blocker.end();
      await first.close();
      await second.close();
      await locks.close();
    }
    expect(await count(orgshift, 'orgs', id)).toBe(1);
    expect(await count(orgshift, 'users', id)).toBe(1);
    expect(await count(orgshift, 'org_members', id)).toBe(1);
    expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'migrated', violations: [] });
  });

  it('still serves migrated users when the lock backend is down, and refuses to migrate without it', async () => {
    const ids = (
      await sql<{ id: string }>`select id from legacy_users where migrated_at is null order by id`.execute(
        kyselyOf(orgshift),
      )
    ).rows.map((r) => r.id);
    const migrated = ids[0] as string;
    const pending = ids[1] as string;
    await orgshift.getUser(migrated);
    const deadBackends: Record<string, string>[] = [
      { ORGSHIFT_LOCK: 'redis', ORGSHIFT_REDIS_URL: 'redis://127.0.0.1:1' },
      { ORGSHIFT_LOCK: 'postgres' },
    ];
    for (const lock of deadBackends) {
      const deadLocks =
        lock.ORGSHIFT_LOCK === 'redis'
          ? createLockManager({ kind: 'redis', url: 'redis://127.0.0.1:1' })
          : createLockManager({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/test' });
      const down = await openTest({ ...env, ...lock }, { locks: deadLocks });
      try {
        expect((await down.getUser(migrated)).id).toBe(migrated);
        const started = performance.now();
        const error = await down.getUser(pending).catch((e: unknown) => e);
        expect(isOrgshiftError(error) && error.code).toBe('lock_unavailable');
        expect(performance.now() - started).toBeLessThan(2_500);
      } finally {
        await down.close();
        await deadLocks.close();
      }
      expect(await count(orgshift, 'users', pending)).toBe(0);
    }
  });
});
