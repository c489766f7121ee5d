import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Orgshift } from '../../src/orgshift.js';
import { kyselyOf } from '../support/internals.js';
import { openTest } from '../support/open-test.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';

const USERS = 600;

describePostgres('planner statistics after a backfill (PostgreSQL)', () => {
  let database: TestDatabase;
  let orgshift: Orgshift;

  beforeAll(async () => {
    database = await createTestDatabase('backfill_stats');
    orgshift = await openTest({ ORGSHIFT_DATABASE_URL: database.url, ORGSHIFT_LOCK: 'memory' });
    await orgshift.seed({ users: USERS, dependents: 1 });
    // As on a real database before the move: statistics that say every legacy row is pending.
    await sql`analyze`.execute(kyselyOf(orgshift));
  });
  afterAll(async () => {
    await orgshift?.close();
    await database?.drop();
  });

  /** What the planner believes: the share of rows whose column is null, per table. */
  async function nullShare(table: string, column: string): Promise<number | null> {
    const result = await sql<{ null_frac: number }>`select null_frac from pg_stats
      where schemaname = 'public' and tablename = ${table} and attname = ${column}`.execute(kyselyOf(orgshift));
    const row = result.rows[0];
    return row === undefined ? null : Number(row.null_frac);
  }

  it('leaves the written tables analyzed, so the audit that follows plans on the truth', async () => {
    expect(await nullShare('legacy_users', 'migrated_at')).toBe(1);
    expect(await nullShare('conversations', 'org_id')).toBe(1);
    // Below the first in-run refresh (1,000 users): only the end-of-run refresh can explain fresh statistics.
    expect(await orgshift.backfill()).toMatchObject({ migrated: USERS, failed: 0 });
    expect(await nullShare('legacy_users', 'migrated_at')).toBe(0);
    expect(await nullShare('conversations', 'org_id')).toBe(0);
    expect(await nullShare('users', 'migrated_at')).toBe(0);
  });
});
