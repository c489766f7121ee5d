import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { AUDIT_RUNS_TABLE } from '../../db/own-tables.js';
import type { AuditCode, AuditReport } from '../audit.js';

export interface AuditRun {
  readonly finishedAt: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly violations: readonly { readonly code: AuditCode; readonly count: number }[];
}

/** Older runs are deleted as new ones arrive; the dashboard shows the last one. */
const KEPT_RUNS = 100;

/** Stores a finished audit so that any process can show the last one. */
export async function recordAuditRun(db: Database, report: AuditReport, finishedAtMs = Date.now()): Promise<void> {
  const violations = JSON.stringify(report.violations.map(({ code, count }) => ({ code, count })));
  const table = sql.table(AUDIT_RUNS_TABLE);
  await db.writeTransaction(async (trx) => {
    await sql`insert into ${table} (finished_at_ms, ok, seconds, violations)
      values (${finishedAtMs}, ${report.ok ? 1 : 0}, ${report.seconds}, ${violations})`.execute(trx);
    await sql`delete from ${table} where id <= (select max(id) from ${table}) - ${KEPT_RUNS}`.execute(trx);
  });
}

/** The most recently finished audit, from any process, or null before the first. */
export async function lastAuditRun(db: Database): Promise<AuditRun | null> {
  const { rows } = await sql<{
    finished_at_ms: number | string;
    ok: number | string | boolean;
    seconds: number | string;
    violations: string;
  }>`select finished_at_ms, ok, seconds, violations from ${sql.table(AUDIT_RUNS_TABLE)}
     order by finished_at_ms desc, id desc limit 1`.execute(db.kysely as unknown as Kysely<unknown>);
  const row = rows[0];
  if (row === undefined) return null;
  return {
    finishedAt: new Date(Number(row.finished_at_ms)).toISOString(),
    ok: Number(row.ok) === 1,
    seconds: Number(row.seconds),
    violations: JSON.parse(row.violations) as AuditRun['violations'],
  };
}
