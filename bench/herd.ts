/**
 * Herd (docs/design.md#performance-targets): 500 concurrent reads of one unmigrated user from 2
 * processes must cost exactly one migration, and every caller must be
 * answered within the migration's own time + 50 ms. Beside it, the OpenHands
 * algorithm (lock first, 2 s polling) on the same data.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { internalsOf, open } from '../src/orgshift.js';
import { createBenchDatabase } from './support/bench-db.js';
import { machineLine, ms, percentile, table } from './support/stats.js';

const CALLERS_PER_PROCESS = 250;
const REPEATS = 3;
const CAP_MS = 20_000;

interface CallerReport {
  readonly latencies: number[];
  readonly migrationMs: number | null;
  readonly errors: number;
}

function startCaller(mode: string, id: string, warmId: string, env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/fixtures/herd-caller.ts', mode, id, String(CALLERS_PER_PROCESS), String(CAP_MS), warmId],
    { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => String((await lines.next()).value);
  return { child, next };
}

async function herd(mode: string, id: string, warmIds: readonly string[], env: Record<string, string>) {
  const callers = [0, 1].map((p) => startCaller(mode, id, warmIds[p] as string, env));
  try {
    for (const c of callers) if ((await c.next()) !== 'ready') throw new Error('caller did not start');
    for (const c of callers) c.child.stdin.write('go\n');
    const reports = (await Promise.all(callers.map(async (c) => JSON.parse(await c.next())))) as CallerReport[];
    return {
      latencies: reports.flatMap((r) => r.latencies),
      migrationMs: reports.map((r) => r.migrationMs).find((m) => m !== null) ?? Number.NaN,
      errors: reports.reduce((n, r) => n + r.errors, 0),
    };
  } finally {
    for (const c of callers) c.child.kill();
  }
}

export async function run() {
  const bench = await createBenchDatabase('herd');
  const orgshift = await open(bench.config(), { migrate: true });
  const rows: string[][] = [];
  try {
    const modes = [...Array.from({ length: REPEATS }, () => 'orgshift'), 'openhands'];
    await orgshift.seed({ users: 3 * modes.length, dependents: 3 });
    const ids = (
      await sql<{ id: string }>`select id from legacy_users order by id`.execute(internalsOf(orgshift).db.kysely)
    ).rows.map((r) => r.id);
    for (const [i, mode] of modes.entries()) {
      const [id, ...warmIds] = ids.slice(3 * i, 3 * i + 3) as [string, string, string];
      const result = await herd(mode, id, warmIds, { ...bench.env });
      const migrations = await sql<{
        n: string;
      }>`select count(*) as n from org_members where user_id = ${id}::uuid`.execute(internalsOf(orgshift).db.kysely);
      const p50 = percentile(result.latencies, 50);
      const p99 = percentile(result.latencies, 99);
      rows.push([
        mode === 'orgshift' ? 'orgshift getUser' : 'OpenHands (lock first, 2 s poll)',
        String(result.latencies.length),
        String(result.errors),
        migrations.rows[0]?.n ?? '?',
        ms(result.migrationMs),
        ms(p50),
        ms(p99),
        ms(p99 - result.migrationMs),
      ]);
    }
  } finally {
    await orgshift.close();
    await bench.drop();
  }
  return {
    name: 'herd',
    markdown: `## Herd: 500 concurrent first reads of one user from 2 processes (PostgreSQL + Redis)

\`npm run bench -- herd\`. ${machineLine()} Each row is one herd on a fresh legacy user with 3 rows
in each dependent table: ${CALLERS_PER_PROCESS} callers in each of 2 processes released together. Latency is
from the release to each caller's answer, in its own process; both processes are warmed first
(pools connected, statements prepared, one migration of their own). "migrations" counts the memberships
the user ended with; "errors" counts callers that failed or, for the reference algorithm, were still
polling when the run stopped at ${CAP_MS / 1000} s (its synchronized 2 s polls admit about one caller per
round, so 500 callers would need ~1,000 s). Target: exactly 1 migration and p99 ≤ migration + 50 ms.

${table(['algorithm', 'answered', 'errors', 'migrations', 'migration took', 'p50', 'p99', 'p99 − migration'], rows)}`,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log((await run()).markdown);
}
