import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
/**
 * Hot path (docs/design.md#performance-targets): getUser on migrated users against a bare primary-key
 * select of the user row through the same kind of pool, at concurrency 1 and
 * 16, PostgreSQL + Redis lock, on two maps: the demo layout and OpenHands'
 * real one (examples/openhands). Rounds are interleaved so drift hits every
 * subject alike.
 */
import { generateOpenHandsData, OPENHANDS_TEST_JWT_SECRET } from '../examples/openhands/generate.js';
import { graphSql } from '../src/directory/load-queries.js';
import { internalsOf, migrateDatabase, type Orgshift, open } from '../src/orgshift.js';
import { type BenchDatabase, createBenchDatabase } from './support/bench-db.js';
import { machineLine, median, table, throughput, withSpread } from './support/stats.js';

const USERS = 2_000;
const ROUNDS = 3;
const SECONDS = 2;
const BARE = 'bare PK select (unnamed)';
const NAMED = 'bare PK select (named prepared)';

type Subject = { readonly name: string; readonly op: (id: string) => Promise<unknown> };

/** One map's database, seeded and fully migrated, with the subjects to race on it. */
interface Layout {
  readonly title: string;
  readonly ids: readonly string[];
  readonly subjects: readonly Subject[];
  close(): Promise<void>;
}

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

/** The subjects every layout has: the two bare selects of its user table, the graph query alone, getUser. */
async function commonSubjects(orgshift: Orgshift, pool: pg.Pool, userTable: string, ids: readonly string[]) {
  await migrateAll(orgshift, ids);
  const db = internalsOf(orgshift).db;
  // Fresh tables have no statistics and no visibility map yet; production tables do.
  await sql`vacuum analyze`.execute(db.kysely);
  const bare = `select * from ${userTable} where id = $1`;
  const named = db.prepare(bare);
  const fastGraph = db.prepare(graphSql(internalsOf(orgshift).sql).fast(1));
  return [
    { name: BARE, op: (id: string) => pool.query(bare, [id]) },
    { name: NAMED, op: (id: string) => named.all([id]) },
    { name: "the read path's graph query alone (named prepared, one key)", op: (id: string) => fastGraph.all([id]) },
    { name: 'getUser (on-miss, verified)', op: (id: string) => orgshift.getUser(id) },
  ];
}

async function demoLayout(bench: BenchDatabase): Promise<Layout> {
  const orgshift = await open(bench.config(), { migrate: true });
  const always = await open(bench.config(), { lockMode: 'always' });
  const pool = new pg.Pool({ connectionString: bench.url, max: 10 });
  await orgshift.seed({ users: USERS, dependents: 1 });
  const db = internalsOf(orgshift).db;
  if (db.sql.name !== 'postgres') throw new Error('postgres only');
  const ids = (await sql<{ id: string }>`select id from legacy_users`.execute(db.kysely)).rows.map((r) => r.id);
  const subjects = [
    ...(await commonSubjects(orgshift, pool, 'users', ids)),
    { name: 'getUser lockMode always (Redis lock)', op: (id: string) => always.getUser(id) },
    { name: 'OpenHands-style loader (2 unprepared queries, no lock)', op: openHandsLoader(pool) },
  ];
  return {
    title: `Demo map: ${USERS} migrated users`,
    ids,
    subjects,
    close: async () => {
      await pool.end();
      await always.close();
      await orgshift.close();
    },
  };
}

/** OpenHands' enterprise layout and map (examples/openhands): `user_settings` moved into `user`/`org`/`org_member`. */
async function openHandsLayout(bench: BenchDatabase): Promise<Layout> {
  const pool = new pg.Pool({ connectionString: bench.url, max: 10 });
  await pool.query(readFileSync(new URL('../examples/openhands/schema.sql', import.meta.url), 'utf8'));
  const manifest = await generateOpenHandsData(pool, { users: USERS, seed: 7 });
  const config = bench.config({
    ORGSHIFT_MAP: fileURLToPath(new URL('../examples/openhands/orgshift.map.json', import.meta.url)),
    OPENHANDS_JWT_SECRET: OPENHANDS_TEST_JWT_SECRET,
  });
  await migrateDatabase(config);
  const orgshift = await open(config);
  const ids = manifest.ids.valid;
  const subjects = await commonSubjects(orgshift, pool, '"user"', ids);
  return {
    title: `OpenHands map: ${ids.length} migrated users (user_settings moved into user, org and org_member)`,
    ids,
    subjects,
    close: async () => {
      await pool.end();
      await orgshift.close();
    },
  };
}

async function measure(layout: Layout): Promise<Map<string, number[]>> {
  const results = new Map<string, number[]>();
  const { ids, subjects } = layout;
  for (const concurrency of [1, 16]) {
    for (const s of subjects) await throughput((i) => s.op(ids[i % ids.length] as string), concurrency, 0.5);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? subjects : [...subjects].reverse();
      for (const s of order) {
        const rate = await throughput((i) => s.op(ids[(i * 7919) % ids.length] as string), concurrency, SECONDS);
        const key = `${s.name}@${concurrency}`;
        results.set(key, [...(results.get(key) ?? []), rate]);
      }
    }
  }
  return results;
}

export async function run() {
  const sections: string[] = [];
  for (const build of [demoLayout, openHandsLayout]) {
    const bench = await createBenchDatabase('hot');
    try {
      const layout = await build(bench);
      try {
        sections.push(render(layout, await measure(layout)));
      } finally {
        await layout.close();
      }
    } finally {
      await bench.drop();
    }
  }
  return { name: 'hot-path', markdown: frame(sections) };
}

function render(layout: Layout, results: ReadonlyMap<string, number[]>): string {
  const rows = layout.subjects.map((s) => {
    const cells = [1, 16].flatMap((c) => {
      const rates = results.get(`${s.name}@${c}`) ?? [];
      const bare = median(results.get(`${BARE}@${c}`) ?? []);
      const named = median(results.get(`${NAMED}@${c}`) ?? []);
      return [withSpread(rates), (median(rates) / bare).toFixed(2), (median(rates) / named).toFixed(2)];
    });
    return [s.name, ...cells];
  });
  const header = ['subject', 'c=1 ops/s', 'c=1 ÷ bare', 'c=1 ÷ named', 'c=16 ops/s', 'c=16 ÷ bare', 'c=16 ÷ named'];
  return `### ${layout.title}\n\n${table(header, rows)}`;
}

function frame(sections: readonly string[]): string {
  return `## Hot path: getUser on migrated users (PostgreSQL + Redis)

\`npm run bench -- hot-path\`. ${machineLine()} Pool of 10,
${ROUNDS} interleaved rounds of ${SECONDS} s per subject and concurrency; operations/s as median (min–max).
"÷ bare" is the ratio to the unnamed bare select of the user row by primary key, "÷ named" to the
named-prepared one (target: getUser ≥ 0.9× the named-prepared bare select at c=1 and c=16). getUser runs
the graph query below for one key while fewer than 4 reads are in flight in the process; beyond that,
waiting reads share one query (one round trip and one plan for up to 128 keys), which is where its c=16
figure comes from. The graph query alone is that query sent once per read, unbatched.

${sections.join('\n\n')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log((await run()).markdown);
}
