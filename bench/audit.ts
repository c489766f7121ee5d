/**
 * Audit of a fully migrated database of 1,000,000 users on PostgreSQL
 * (docs/design.md#performance-targets: ≤ 10 s on 2 cores). The database is built with set-based SQL
 * (generate_series, foreign-key triggers off for the load, then VACUUM
 * ANALYZE as autovacuum would), since what is measured is the audit, not the
 * migration. ORGSHIFT_BENCH_AUDIT_USERS changes the size.
 */
import os from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import type { AuditReport } from '../src/ops/audit.js';
import { internalsOf, type Orgshift, open } from '../src/orgshift.js';
import { createBenchDatabase } from './support/bench-db.js';
import { DEMO_LAYOUT, type DemoLayout, ident } from './support/demo-layout.js';
import { machineLine, median, table } from './support/stats.js';

const USERS = Number(process.env.ORGSHIFT_BENCH_AUDIT_USERS ?? 1_000_000);
/** Rows per user in each dependent table. */
const DEPENDENTS = 1;
const ROUNDS = 3;
const TARGET_SECONDS = 10;

/** Legacy users, their personal orgs, users, owner memberships and dependents, all consistent, in bulk. */
export function migratedDataSql(legacy: DemoLayout, users: number, dependents: number): string[] {
  const c = legacy.columns;
  const l = ident(legacy.usersTable);
  const keys = `array[${legacy.orgSettingsKeys.map((k) => `'${k}'`).join(', ')}]::text[]`;
  const orgSettings = `coalesce((select jsonb_object_agg(e.key, e.value) from jsonb_each(${ident(c.settings)}) e
    where e.key = any(${keys})), '{}'::jsonb)`;
  return [
    // Consistent by construction; triggers (foreign-key checks) would only slow the load.
    'set session_replication_role = replica',
    `insert into ${l} (${ident(c.id)}, ${ident(c.email)}, ${ident(c.displayName)}, ${ident(c.settings)},
       ${ident(c.apiKeyEnc)}, ${ident(c.migratedAt)})
     select gen_random_uuid()::text, 'user' || g || '@example.com', 'User ' || g,
       jsonb_build_object('theme', (array['light', 'dark', 'system'])[1 + g % 3], 'language', 'en',
         'notifications', g % 2 = 0, 'llm_model', 'gpt-4o', 'llm_base_url', 'https://llm.example.com/v1'),
       'v1.' || md5(g::text) || '.' || md5((g + 1)::text) || '.' || md5((g + 2)::text), now()
     from generate_series(1, ${users}) g`,
    `insert into orgs (id, kind, name, contact_email, settings)
     select ${ident(c.id)}::uuid, 'personal', ${ident(c.displayName)} || ' (personal)', ${ident(c.email)}, ${orgSettings}
     from ${l}`,
    `insert into users (id, email, display_name, current_org_id, preferences, created_at, migrated_at)
     select ${ident(c.id)}::uuid, ${ident(c.email)}, ${ident(c.displayName)}, ${ident(c.id)}::uuid,
       ${ident(c.settings)} - ${keys}, ${ident(c.createdAt)}, ${ident(c.migratedAt)}
     from ${l}`,
    `insert into org_members (org_id, user_id, role_id, status, api_key_enc)
     select ${ident(c.id)}::uuid, ${ident(c.id)}::uuid, 1, 'active', ${ident(c.apiKeyEnc)} from ${l}`,
    ...legacy.dependents.map(
      (d) => `insert into ${ident(d.table)} (user_id, org_id, ${ident(d.payloadColumn)})
       select l.${ident(c.id)}, l.${ident(c.id)}::uuid, 'row ' || k from ${l} l, generate_series(1, ${dependents}) k`,
    ),
    'set session_replication_role = origin',
    'vacuum analyze',
  ];
}

async function build(url: string): Promise<number> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of migratedDataSql(DEMO_LAYOUT, USERS, DEPENDENTS)) await client.query(statement);
  } finally {
    await client.end();
  }
  return (performance.now() - started) / 1000;
}

/** One corrupted user must come out of the full-size audit, or the timing would prove nothing. */
async function corruptedRun(orgshift: Orgshift): Promise<AuditReport> {
  const victim = await sql<{
    id: string;
  }>`select id from users order by id offset ${Math.floor(USERS / 2)} limit 1`.execute(internalsOf(orgshift).db.kysely);
  const id = victim.rows[0]?.id as string;
  await sql`update users set email = 'moved@example.com' where id = ${id}`.execute(internalsOf(orgshift).db.kysely);
  try {
    const report = await orgshift.audit();
    const found = report.violations.find((v) => v.code === 'email_mismatch');
    if (report.violations.length !== 1 || found?.count !== 1 || found.sample[0] !== id) {
      throw new Error(`audit did not single out the corrupted user: ${JSON.stringify(report.violations)}`);
    }
    return report;
  } finally {
    await sql`update users u set email = l.email from legacy_users l where u.id = ${id} and l.id = u.id::text`.execute(
      internalsOf(orgshift).db.kysely,
    );
  }
}

function render(runs: readonly AuditReport[], corrupted: AuditReport, buildSeconds: number, load: string): string {
  const totals = runs.map((r) => r.seconds);
  const worst = Math.max(...totals);
  const rows = (runs[0]?.checks ?? []).map((check, i) => [
    check.table ? `${check.code} (${check.table})` : check.code,
    ...runs.map((r) => (r.checks[i]?.seconds ?? 0).toFixed(2)),
  ]);
  return `## Audit

${machineLine()}

\`npm run bench -- audit\`: ${USERS.toLocaleString('en')} migrated users (${DEPENDENTS} row per user in each dependent table; ${(USERS * 4 + USERS * DEPENDENTS * 2).toLocaleString('en')} rows in all), built with set-based SQL in ${buildSeconds.toFixed(0)} s and vacuumed/analyzed as autovacuum would. \`orgshift.audit()\` checks ${runs[0]?.checks.length} codes with set-based queries: one per invariant, except user_missing, email_mismatch and settings_mismatch, which share one pass over legacy ⋈ users ⋈ orgs; two queries at a time, heaviest first, \`work_mem\` 256 MB and JIT off per query. ${ROUNDS} rounds after one warm-up round.

Whole audit: **${totals.map((t) => t.toFixed(2)).join(' / ')} s** (median ${median(totals).toFixed(2)} s). Target ≤ ${TARGET_SECONDS} s: **${worst <= TARGET_SECONDS ? 'met' : 'missed'}** (slowest round ${worst.toFixed(2)} s).

Seconds per check, round by round (the duration of the query that checked it; the three codes of the shared pass show the same figure; queries overlap two at a time, so they add up to more than the total):

${table(['check', ...runs.map((_, i) => `round ${i + 1}`)], rows)}

Proof that the timing is of a working audit: with one user's email changed, the same audit (${corrupted.seconds.toFixed(2)} s) reported exactly \`email_mismatch\`, count 1, that user as the sample.

Noise: rounds differ by ${(((Math.max(...totals) - Math.min(...totals)) / Math.min(...totals)) * 100).toFixed(0)} %; load average ${load} when the rounds started. Other processes on the two cores lengthen the hash joins in proportion.`;
}

export async function run() {
  const bench = await createBenchDatabase('audit');
  const orgshift = await open(bench.config(), { migrate: true });
  try {
    const buildSeconds = await build(bench.url);
    await orgshift.audit();
    const load = os.loadavg()[0]?.toFixed(1) ?? '?';
    const runs: AuditReport[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const report = await orgshift.audit();
      if (!report.ok) throw new Error(`audit of a clean database found ${JSON.stringify(report.violations)}`);
      runs.push(report);
    }
    const corrupted = await corruptedRun(orgshift);
    return { name: 'audit', markdown: render(runs, corrupted, buildSeconds, load) };
  } finally {
    await orgshift.close();
    await bench.drop();
  }
}
