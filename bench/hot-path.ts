import { sql } from 'kysely';
import pg from 'pg';
/**
 * Hot path (docs/design.md#performance-targets): getUser on migrated users against a bare primary-key
 * select of the users row through the same kind of pool, at concurrency 1 and
 * 16, PostgreSQL + Redis lock. Rounds are interleaved so drift hits every
 * subject alike.
 */
import { graphSql } from '../src/directory/load-queries.js';
import { internalsOf, type Orgshift, open } from '../src/orgshift.js';
import { createBenchDatabase } from './support/bench-db.js';
import { machineLine, median, table, throughput, withSpread } from './support/stats.js';

const USERS = 2_000;
const ROUNDS = 3;
const SECONDS = 2;

type Subject = { readonly name: string; readonly op: (id: string) => Promise<unknown> };

async function migrateAll(orgshift: Orgshift, ids: readonly string[]) {
  for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => orgshift.getUser(id)));
}

/** What OpenHands' UserStore does per read, minus its lock: two unprepared queries. */
function openHandsLoader(pool: pg.Pool) {
  return async (id: string) => {
    const user = await pool.query('select * from users where id = $1', [id]);
    const members = await pool.query(
      `select m.*, r.name as role_name, r.rank, o.kind, o.name as org_name
       from org_members m join roles r on r.id = m.role_id join orgs o on o.id = m.org_id
       where m.user_id = $1`,
      [id],
    );
    return { user: user.rows[0], memberships: members.rows };
  };
}

export async function run() {
  const bench = await createBenchDatabase('hot');
  const orgshift = await open(bench.config(), { migrate: true });
  const always = await open(bench.config(), { lockMode: 'always' });
  let pool: pg.Pool | undefined;
  try {
    await orgshift.seed({ users: USERS, dependents: 1 });
    const db = internalsOf(orgshift).db;
    if (db.sql.name !== 'postgres') throw new Error('postgres only');
    const legacy = await sql<{ id: string }>`select id from legacy_users`.execute(db.kysely);
    await migrateAll(
      orgshift,
      legacy.rows.map((r) => r.id),
    );
    // Fresh tables have no statistics and no visibility map yet; production tables do.
    await sql`vacuum analyze`.execute(db.kysely);
    const userIds = legacy.rows.map((r) => r.id);
    pool = new pg.Pool({ connectionString: bench.url, max: 10 });
    const named = db.prepare('select * from users where id = $1');
    const fastGraph = db.prepare(graphSql(internalsOf(orgshift).sql).fast(1));
    const subjects: Subject[] = [
      {
        name: 'bare PK select (unnamed)',
        op: (id) => (pool as pg.Pool).query('select * from users where id = $1', [id]),
      },
      { name: 'bare PK select (named prepared)', op: (id) => named.all([id]) },
      { name: "the read path's graph query alone (named prepared, one key)", op: (id) => fastGraph.all([id]) },
      { name: 'getUser (on-miss, json, verified)', op: (id) => orgshift.getUser(id) },
      { name: 'getUser lockMode always (Redis lock)', op: (id) => always.getUser(id) },
      { name: 'OpenHands-style loader (2 unprepared queries, no lock)', op: openHandsLoader(pool as pg.Pool) },
    ];
    const results = new Map<string, number[]>();
    for (const concurrency of [1, 16]) {
      for (const s of subjects) await throughput((i) => s.op(userIds[i % userIds.length] as string), concurrency, 0.5);
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? subjects : [...subjects].reverse();
        for (const s of order) {
          const rate = await throughput(
            (i) => s.op(userIds[(i * 7919) % userIds.length] as string),
            concurrency,
            SECONDS,
          );
          const key = `${s.name}@${concurrency}`;
          results.set(key, [...(results.get(key) ?? []), rate]);
        }
      }
    }
    return { name: 'hot-path', markdown: render(subjects, results) };
  } finally {
    await pool?.end();
    await always.close();
    await orgshift.close();
    await bench.drop();
  }
}

function render(subjects: readonly Subject[], results: ReadonlyMap<string, number[]>): string {
  const rows = subjects.map((s) => {
    const cells = [1, 16].flatMap((c) => {
      const rates = results.get(`${s.name}@${c}`) ?? [];
      const bare = median(results.get(`bare PK select (unnamed)@${c}`) ?? []);
      const named = median(results.get(`bare PK select (named prepared)@${c}`) ?? []);
      return [withSpread(rates), (median(rates) / bare).toFixed(2), (median(rates) / named).toFixed(2)];
    });
    return [s.name, ...cells];
  });
  return `## Hot path: getUser on migrated users (PostgreSQL + Redis)

\`npm run bench -- hot-path\`. ${machineLine()} ${USERS} migrated users, pool of 10,
${ROUNDS} interleaved rounds of ${SECONDS} s per subject and concurrency; operations/s as median (min–max).
"÷ bare" is the ratio to the unnamed bare select, "÷ named" to the named-prepared bare select
(target: getUser ≥ 0.9× the named-prepared bare select at c=1 and c=16). getUser runs the graph query
below for one key while fewer than 4 reads are in flight in the process; beyond that, waiting reads
share one query (one round trip and one plan for up to 128 keys), which is where its c=16 figure comes
from. The graph query alone is that query sent once per read, unbatched.

${table(['subject', 'c=1 ops/s', 'c=1 ÷ bare', 'c=1 ÷ named', 'c=16 ops/s', 'c=16 ÷ bare', 'c=16 ÷ named'], rows)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log((await run()).markdown);
}
