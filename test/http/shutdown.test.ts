import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLockManager } from '../../src/lock/create-lock-manager.js';
import { internalsOf, type Orgshift, open } from '../../src/orgshift.js';
import { kyselyOf } from '../support/internals.js';
import { describePostgresRedis } from '../support/services.js';
import { type Answer, call } from './support/http-client.js';
import { type PgRedis, setupPgRedis } from './support/pg-redis.js';
import { CHILD_TEST_TIMEOUT_MS, exitWithin, type ServeChild, startServe } from './support/serve-child.js';

const USERS = 200;
const SIGNAL_AFTER = 10;
const GRACE_MS = 10_000;
/** The grace period plus slack for closing pools and the lock backend on a loaded machine. */
const EXIT_BOUND_MS = GRACE_MS + 5_000;

interface Outcome {
  readonly id: string;
  readonly answer: Answer | undefined;
  readonly afterSignal: boolean;
}

describePostgresRedis('SIGTERM while migrations are in flight', () => {
  let pg: PgRedis;
  let orgshift: Orgshift;
  let served: ServeChild | undefined;
  let ids: string[];

  beforeAll(async () => {
    pg = await setupPgRedis('http_shutdown');
    orgshift = await open(loadConfig(pg.env), { migrate: true });
    await orgshift.seed({ users: USERS, dependents: 3, apiKeyShare: 1 });
    const rows = await sql<{ id: string }>`select id from legacy_users`.execute(kyselyOf(orgshift));
    ids = rows.rows.map((r) => r.id);
  });
  afterAll(async () => {
    served?.child.kill();
    await orgshift?.close();
    await pg?.teardown();
  });

  it(
    'drains in-flight requests, exits 0 within the bound, and leaves no user half-migrated',
    async () => {
      served = await startServe({ ...pg.env, ORGSHIFT_SHUTDOWN_GRACE_MS: String(GRACE_MS) });
      const { child, url } = served;
      let answered = 0;
      let signalledAt: number | undefined;
      const outcomes = await Promise.all(
        ids.map(async (id): Promise<Outcome> => {
          const answer = await call(url, `/v1/users/${id}`).catch(() => undefined);
          const afterSignal = signalledAt !== undefined;
          answered += 1;
          if (answered === SIGNAL_AFTER) {
            signalledAt = performance.now();
            child.kill('SIGTERM');
          }
          return { id, answer, afterSignal };
        }),
      );
      expect(await exitWithin(child, EXIT_BOUND_MS)).toBe(0);
      expect(performance.now() - (signalledAt ?? 0)).toBeLessThan(EXIT_BOUND_MS);

      // Requests caught by the signal were finished, not dropped: the drain is real.
      expect(outcomes.filter((o) => o.afterSignal && o.answer?.status === 200).length).toBeGreaterThan(0);
      for (const { answer } of outcomes) {
        if (answer === undefined || answer.status === 200) continue;
        expect(answer.status).toBe(503);
        expect(answer.json?.error?.code).toBe('shutting_down');
        expect(answer.headers.get('retry-after')).not.toBeNull();
      }

      const reports = await Promise.all(ids.map(async (id) => ({ id, report: await orgshift.verifyUser(id) })));
      const answeredOk = new Set(outcomes.filter((o) => o.answer?.status === 200).map((o) => o.id));
      for (const { id, report } of reports) {
        expect(report.violations, id).toEqual([]);
        if (answeredOk.has(id)) expect(report.state, id).toBe('migrated');
      }
      const counts = await sql<{ users: string; orgs: string; members: string; marked: string }>`
      select (select count(*) from users) as users, (select count(*) from orgs) as orgs,
             (select count(*) from org_members) as members,
             (select count(*) from legacy_users where migrated_at is not null) as marked`.execute(kyselyOf(orgshift));
      const row = counts.rows[0];
      expect(Number(row?.users)).toBeGreaterThanOrEqual(answeredOk.size);
      expect([row?.orgs, row?.members, row?.marked]).toEqual([row?.users, row?.users, row?.users]);
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  it(
    'cuts a request still waiting at the end of the grace period, and still exits 0 with nothing migrated',
    async () => {
      await orgshift.seed({ users: 1, dependents: 3, apiKeyShare: 1 });
      const [id] = (
        await sql<{ id: string }>`select id from legacy_users where migrated_at is null limit 1`.execute(
          kyselyOf(orgshift),
        )
      ).rows.map((r) => r.id);
      if (id === undefined) throw new Error('no unmigrated user left');
      const locks = createLockManager(internalsOf(orgshift).config.lock);
      const lease = await locks.acquire(`user:${id}`, { ttlMs: 30_000, waitMs: 1_000 });
      try {
        served = await startServe({ ...pg.env, ORGSHIFT_LOCK_WAIT_MS: '30000', ORGSHIFT_SHUTDOWN_GRACE_MS: '1000' });
        const { child, url } = served;
        const pending = call(url, `/v1/users/${id}`).catch((error: Error) => error);
        // The request is now queued on the lock we hold; give it time to get there.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const signalledAt = performance.now();
        child.kill('SIGTERM');
        expect(await exitWithin(child, EXIT_BOUND_MS)).toBe(0);
        const elapsed = performance.now() - signalledAt;
        expect(elapsed).toBeGreaterThanOrEqual(900);
        expect(elapsed).toBeLessThan(1_000 + 5_000);
        expect(await pending).toBeInstanceOf(Error);
      } finally {
        await lease.release();
        await locks.close();
      }
      expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'pending', violations: [] });
    },
    CHILD_TEST_TIMEOUT_MS,
  );
});
