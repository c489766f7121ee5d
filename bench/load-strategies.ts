/**
 * The three loading strategies side by side (step 2 of docs/design.md#lock-load-verify): one query
 * with memberships aggregated as JSON, one flat LEFT JOIN (joinedload), and
 * two queries (select-in), for users with 1, 10 and 1,000 memberships.
 */
import { sql } from 'kysely';
import { createUserLoader, type LoadStrategy } from '../src/directory/load-user.js';
import { internalsOf, type Orgshift, open } from '../src/orgshift.js';
import { createBenchDatabase } from './support/bench-db.js';
import { machineLine, median, table, throughput, withSpread } from './support/stats.js';

const SIZES = [1, 10, 1_000];
const STRATEGIES: readonly LoadStrategy[] = ['json', 'join', 'select-in'];
const ROUNDS = 3;
const SECONDS = 1.5;

/** Gives one migrated user `n - 1` team memberships besides its personal org. */
async function userWithMemberships(orgshift: Orgshift, id: string, n: number) {
  await orgshift.getUser(id);
  if (n <= 1) return;
  await sql`insert into orgs (id, kind, name)
    select gen_random_uuid(), 'team', 'team ' || g from generate_series(1, ${n - 1}) g`.execute(
    internalsOf(orgshift).db.kysely,
  );
  await sql`insert into org_members (org_id, user_id, role_id, status)
    select o.id, ${id}::uuid, 3, 'active' from orgs o
    where o.kind = 'team' and not exists (select 1 from org_members m where m.org_id = o.id)`.execute(
    internalsOf(orgshift).db.kysely,
  );
}

export async function run() {
  const bench = await createBenchDatabase('strategies');
  const orgshift = await open(bench.config(), { migrate: true });
  try {
    await orgshift.seed({ users: SIZES.length, dependents: 0 });
    const ids = (
      await sql<{ id: string }>`select id from legacy_users order by id`.execute(internalsOf(orgshift).db.kysely)
    ).rows.map((r) => r.id);
    for (const [i, n] of SIZES.entries()) await userWithMemberships(orgshift, ids[i] as string, n);
    await sql`analyze`.execute(internalsOf(orgshift).db.kysely);
    const loaders = STRATEGIES.map((s) => createUserLoader(internalsOf(orgshift).db, internalsOf(orgshift).sql, s));
    const results = new Map<string, number[]>();
    for (const [i, n] of SIZES.entries()) {
      const id = ids[i] as string;
      for (const loader of loaders) {
        const graph = await loader.load(id);
        if (graph.memberships.length !== n)
          throw new Error(`${loader.strategy} loaded ${graph.memberships.length} of ${n}`);
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const loader of round % 2 === 0 ? loaders : [...loaders].reverse()) {
          const key = `${loader.strategy}@${n}`;
          results.set(key, [...(results.get(key) ?? []), await throughput(() => loader.load(id), 1, SECONDS)]);
        }
      }
    }
    return { name: 'load-strategies', markdown: render(results) };
  } finally {
    await orgshift.close();
    await bench.drop();
  }
}

function render(results: ReadonlyMap<string, number[]>): string {
  const rows = STRATEGIES.map((s) => [
    s,
    ...SIZES.flatMap((n) => {
      const rates = results.get(`${s}@${n}`) ?? [];
      const json = median(results.get(`json@${n}`) ?? []);
      return [withSpread(rates), (median(rates) / json).toFixed(2)];
    }),
  ]);
  return `## Loading strategies (PostgreSQL)

\`npm run bench -- load-strategies\`. ${machineLine()} One user per size, loaded through the
strategy's prepared statements at concurrency 1; loads/s as median (min–max) of ${ROUNDS}
interleaved rounds of ${SECONDS} s, and the ratio to \`json\`.

${table(['strategy', ...SIZES.flatMap((n) => [`${n} membership(s)`, '÷ json'])], rows)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log((await run()).markdown);
}
