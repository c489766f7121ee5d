import { sql } from 'kysely';
import type { Database, Executor } from '../db/database.js';
import { translateDatabaseError } from '../db/database-errors.js';
import type { MapSql } from '../db/map-sql.js';
import { VIOLATION_CODES, type ViolationCode } from '../directory/violations.js';
import { OrgshiftError } from '../errors.js';
import { type AuditCheck, auditChecks, type NotChecked, notChecked } from './audit-checks.js';
import { unindexedForeignKeys } from './audit-schema.js';

export type AuditCode = ViolationCode | 'fk_unindexed';

export interface AuditFinding {
  readonly code: AuditCode;
  /** Distinct users breaking the invariant (for `fk_unindexed`: foreign keys without an index). */
  readonly count: number;
  /** Up to 10 user ids, smallest first (for `fk_unindexed`: `table(column)`). */
  readonly sample: readonly string[];
  /** The dependent table, for `dependent_unmigrated`. */
  readonly table?: string;
}

export interface AuditCheckResult extends AuditFinding {
  /** Duration of the query that checked it (codes checked by one shared query show the same). */
  readonly seconds: number;
}

export interface AuditReport {
  /** True when no check found anything. */
  readonly ok: boolean;
  /** Only the checks that found something (count > 0). */
  readonly violations: readonly AuditFinding[];
  /** Every check that ran, with its count and duration, including the clean ones. */
  readonly checks: readonly AuditCheckResult[];
  /** Invariants the audit cannot check set-based, and why. */
  readonly notChecked: readonly NotChecked[];
  readonly seconds: number;
}

export interface AuditOptions {
  /** Queries in flight at once on PostgreSQL (default 2; SQLite runs one at a time). */
  readonly concurrency?: number;
}

const SAMPLE_SIZE = 10;

/**
 * The whole-database integrity audit (docs/design.md#operations): one set-based query per
 * invariant plus the foreign-key index check, counts and samples, never a
 * per-user load. Each query is one statement, so each sees one consistent
 * snapshot even beside live migrations (a migration or rollback commits all
 * of a user's rows at once).
 */
export async function audit(db: Database, m: MapSql, options: AuditOptions = {}): Promise<AuditReport> {
  const started = performance.now();
  const requested = wholeOrThrow(options.concurrency ?? 2);
  const concurrency = db.sql.concurrentWriters ? requested : 1;
  const tasks: Task[] = [
    ...auditChecks(m).map((check) => ({ weight: check.weight, run: () => runCheck(db, check) })),
    { weight: 0, run: () => runSchemaCheck(db, m) },
  ];
  const checks = inReportOrder((await runLongestFirst(tasks, concurrency)).flat());
  const violations = checks
    .filter((c) => c.count > 0)
    .map(({ seconds: _seconds, ...finding }) => Object.freeze(finding));
  return Object.freeze({
    ok: violations.length === 0,
    violations: Object.freeze(violations),
    checks: Object.freeze(checks),
    notChecked: notChecked(m),
    seconds: elapsed(started),
  });
}

const REPORT_ORDER: readonly AuditCode[] = [...VIOLATION_CODES, 'fk_unindexed'];

/** The order of the invariants in docs/design.md#invariants, whatever order the queries ran or were grouped in. */
function inReportOrder(results: readonly AuditCheckResult[]): AuditCheckResult[] {
  return [...results].sort((a, b) => REPORT_ORDER.indexOf(a.code) - REPORT_ORDER.indexOf(b.code));
}

function wholeOrThrow(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    throw new OrgshiftError('invalid_input', 'audit concurrency must be a whole number between 1 and 16');
  }
  return n;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}

interface Task {
  readonly weight: number;
  run(): Promise<AuditCheckResult[]>;
}

/**
 * Runs the tasks `concurrency` at a time, heaviest first so that the last
 * query to finish is a short one; results keep the order of `tasks`.
 */
async function runLongestFirst(tasks: readonly Task[], concurrency: number): Promise<AuditCheckResult[][]> {
  const results: AuditCheckResult[][] = new Array(tasks.length);
  const queue = tasks.map((task, index) => ({ task, index })).sort((a, b) => b.task.weight - a.task.weight);
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      results[next.index] = await next.task.run();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return results;
}

/**
 * Counts first, as a plain aggregate: the planner may run it in parallel and
 * has no ORDER BY … LIMIT to tempt it into an ordered, fast-start plan for a
 * query that must read everything. Samples are a second query, run only for
 * the codes that found something.
 */
async function runCheck(db: Database, check: AuditCheck): Promise<AuditCheckResult[]> {
  const started = performance.now();
  const columns = check.codes.map((code) => `count(*) filter (where v.${code}) as ${code}`).join(', ');
  const counted = sql<Record<string, number | string>>`select ${sql.raw(columns)} from (${sql.raw(check.sql)}) v`;
  const row = await inAuditSession(db, (trx) => counted.execute(trx).then((r) => r.rows[0] ?? {}));
  const results: AuditCheckResult[] = [];
  for (const code of check.codes) {
    const count = Number(row[code] ?? 0);
    const sample = count === 0 ? [] : await sampleOf(db, check, code);
    results.push(
      Object.freeze({
        code,
        ...(check.table === undefined ? {} : { table: check.table }),
        count,
        sample: Object.freeze(sample),
        seconds: elapsed(started),
      }),
    );
  }
  return results;
}

async function sampleOf(db: Database, check: AuditCheck, code: string): Promise<string[]> {
  // Materialized: the LIMIT must not change how the violations are found.
  const sampled = sql<{ user_id: string }>`
    with v as materialized (${sql.raw(check.sql)})
    select cast(v.user_id as text) as user_id from v where v.${sql.raw(code)} order by 1 limit ${SAMPLE_SIZE}`;
  return inAuditSession(db, (trx) => sampled.execute(trx).then((r) => r.rows.map((row) => String(row.user_id))));
}

async function runSchemaCheck(db: Database, m: MapSql): Promise<AuditCheckResult[]> {
  const started = performance.now();
  let names: string[];
  try {
    names = await unindexedForeignKeys(db, m);
  } catch (error) {
    throw translateDatabaseError(db, error);
  }
  return [
    Object.freeze({
      code: 'fk_unindexed',
      count: names.length,
      sample: Object.freeze(names.slice(0, SAMPLE_SIZE)),
      seconds: elapsed(started),
    }),
  ];
}

/** One snapshot per query group, tuned for whole-table scans (Database.snapshot). */
async function inAuditSession<T>(db: Database, fn: (trx: Executor) => Promise<T>): Promise<T> {
  try {
    return await db.snapshot(fn);
  } catch (error) {
    throw translateDatabaseError(db, error);
  }
}
