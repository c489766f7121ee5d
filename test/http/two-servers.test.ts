import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { type Orgshift, open } from '../../src/orgshift.js';
import { kyselyOf } from '../support/internals.js';
import { describePostgresRedis } from '../support/services.js';
import { call } from './support/http-client.js';
import { type PgRedis, setupPgRedis } from './support/pg-redis.js';
import { CHILD_TEST_TIMEOUT_MS, exitWithin, type ServeChild, startServe } from './support/serve-child.js';

const USERS = 30;
const REQUESTS = 300;

function migratedCount(metricsText: string): number {
  const line = metricsText.split('\n').find((l) => l.startsWith('orgshift_migrations_total{result="migrated"} '));
  return Number(line?.split(' ')[1]);
}

describePostgresRedis('two server processes on one PostgreSQL + Redis', () => {
  let pg: PgRedis;
  let orgshift: Orgshift;
  let servers: ServeChild[] = [];

  beforeAll(async () => {
    pg = await setupPgRedis('http_two_servers');
    orgshift = await open(loadConfig(pg.env), { migrate: true });
    await orgshift.seed({ users: USERS, dependents: 2, apiKeyShare: 1 });
  });
  afterAll(async () => {
    for (const { child } of servers) child.kill();
    await orgshift?.close();
    await pg?.teardown();
  });

  it(
    `${REQUESTS} concurrent requests over ${USERS} legacy users migrate each user exactly once`,
    async () => {
      servers = await Promise.all([startServe(pg.env), startServe(pg.env)]);
      const rows = await sql<{ id: string }>`select id from legacy_users order by id`.execute(kyselyOf(orgshift));
      const ids = rows.rows.map((r) => r.id);
      const answers = await Promise.all(
        Array.from({ length: REQUESTS }, (_, i) => {
          const server = servers[i % servers.length] as ServeChild;
          return call(server.url, `/v1/users/${ids[i % ids.length]}`);
        }),
      );
      expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
      for (const [i, answer] of answers.entries()) expect(answer.json?.id).toBe(ids[i % ids.length]);

      const counts = await sql<{ users: string; orgs: string; members: string; marked: string }>`
      select (select count(*) from users) as users, (select count(*) from orgs) as orgs,
             (select count(*) from org_members) as members,
             (select count(*) from legacy_users where migrated_at is not null) as marked`.execute(kyselyOf(orgshift));
      expect(counts.rows[0]).toEqual({
        users: String(USERS),
        orgs: String(USERS),
        members: String(USERS),
        marked: String(USERS),
      });
      const notOneOrg = await sql<{ user_id: string }>`
      select u.id as user_id from users u left join org_members m on m.user_id = u.id
      group by u.id having count(m.org_id) <> 1`.execute(kyselyOf(orgshift));
      expect(notOneOrg.rows).toEqual([]);

      const metrics = await Promise.all(servers.map(async (s) => (await call(s.url, '/metrics')).text));
      expect(metrics.map(migratedCount).reduce((a, b) => a + b, 0)).toBe(USERS);

      for (const { child } of servers) child.kill('SIGTERM');
      expect(await Promise.all(servers.map(({ child }) => exitWithin(child, 20_000)))).toEqual([0, 0]);
    },
    CHILD_TEST_TIMEOUT_MS,
  );
});
