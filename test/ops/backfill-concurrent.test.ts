import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isOrgshiftError } from '../../src/errors.js';
import type { Orgshift } from '../../src/orgshift.js';
import { openTest } from '../support/open-test.js';
import {
  createTestDatabase,
  describePostgresRedis,
  REDIS_URL,
  type TestDatabase,
  testRedisPrefix,
} from '../support/services.js';
import { type CliResult, killAllCli, startCli } from './support/cli.js';
import { legacyIds, tableCounts } from './support/tables.js';

const USERS = 20_000;

describePostgresRedis('backfill beside live traffic (PostgreSQL + Redis locks)', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let orgshift: Orgshift;

  beforeAll(async () => {
    database = await createTestDatabase('backfill_live');
    env = {
      ORGSHIFT_DATABASE_URL: database.url,
      ORGSHIFT_LOCK: 'redis',
      ORGSHIFT_REDIS_URL: REDIS_URL,
      ORGSHIFT_REDIS_PREFIX: testRedisPrefix('backfill'),
    };
    orgshift = await openTest(env);
    // K = 1, 2 and 3 dependent rows per user in each dependent table, a third of the users each.
    const third = Math.floor(USERS / 3);
    await orgshift.seed({ users: third, dependents: 1 });
    await orgshift.seed({ users: third, dependents: 2 });
    await orgshift.seed({ users: USERS - 2 * third, dependents: 3 });
  });

  afterAll(async () => {
    killAllCli();
    await orgshift?.close();
    await database?.drop();
  });

  it(`migrates ${USERS} users exactly once with 2 backfill processes and 4 getUser workers at once`, async () => {
    const ids = await legacyIds(orgshift);
    const readers = await Promise.all([0, 1].map(() => openReader(env)));
    const backfills = [0, 1].map(() =>
      startCli(['backfill', '--json', '--concurrency', '2', '--batch-size', '100'], env),
    );
    let running = true;
    const finished = Promise.all(backfills.map((b) => b.done)).finally(() => {
      running = false;
    });
    const outcomes: Record<string, number> = {};
    // Random ids drawn from the whole table by 4 workers over 2 instances: overlapping, and racing the claims.
    const workers = [0, 1, 2, 3].map(async (w) => {
      const reader = readers[w % 2] as Reader;
      while (running) {
        const id = ids[Math.floor(Math.random() * ids.length)] as string;
        const code = await reader.orgshift.getUser(id).then(
          () => 'ok',
          (error: unknown) => (isOrgshiftError(error) ? error.code : String(error)),
        );
        outcomes[code] = (outcomes[code] ?? 0) + 1;
        // Live traffic, not a CPU hog: a few hundred reads per second leave the two cores to the backfills.
        await sleep(5);
      }
    });
    const results: CliResult[] = await finished;
    await Promise.all(workers);
    await Promise.all(readers.map((r) => r.orgshift.close()));

    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const summaries = results.map((r) => JSON.parse(r.stdout) as { migrated: number; failed: number });
    const jitMigrations = readers.reduce((sum, r) => sum + r.migrations, 0);
    expect(Object.keys(outcomes)).toEqual(['ok']);
    expect(outcomes.ok).toBeGreaterThan(100);
    expect(summaries.map((s) => s.failed)).toEqual([0, 0]);
    // Every user was migrated by exactly one of the three parties, and only once.
    expect(summaries[0]!.migrated + summaries[1]!.migrated + jitMigrations).toBe(USERS);
    // Both processes did real work: the claims interleave rather than one process taking everything.
    expect(Math.min(summaries[0]!.migrated, summaries[1]!.migrated)).toBeGreaterThan(USERS / 10);

    const counts = await tableCounts(orgshift);
    expect(counts).toMatchObject({ legacy: USERS, legacyMigrated: USERS, orgs: USERS, users: USERS, members: USERS });
    expect(counts.dependentsInOwnOrg).toBe(counts.dependents);
    expect(counts.failures).toBe(0);
    const audit = await orgshift.audit();
    expect(audit.violations).toEqual([]);
    expect(audit.ok).toBe(true);
  }, 300_000);
});

interface Reader {
  readonly orgshift: Orgshift;
  migrations: number;
}

async function openReader(env: Record<string, string>): Promise<Reader> {
  const reader: { orgshift?: Orgshift; migrations: number } = { migrations: 0 };
  reader.orgshift = await openTest(env, {
    observer: {
      migration(result) {
        if (result === 'migrated') reader.migrations += 1;
      },
    },
  });
  return reader as Reader;
}
