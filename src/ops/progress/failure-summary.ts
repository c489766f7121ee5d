import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { FAILURES_TABLE } from '../../db/own-tables.js';

export interface FailureGroup {
  readonly code: string;
  readonly count: number;
  /** The most recently failed user keys of this code, newest first (legacy rows without a key: `row:<primary key>`). */
  readonly sample: readonly string[];
}

export interface FailureSummary {
  readonly total: number;
  /** Largest group first. */
  readonly byCode: readonly FailureGroup[];
}

/**
 * Open failures grouped by code, with a few user ids each, in one statement
 * (window functions: the count and the rank of every row within its code).
 */
export async function failureSummary(db: Database, samplesPerCode: number): Promise<FailureSummary> {
  const { rows } = await sql<{ code: string; user_id: string; n: number | string }>`
    select code, user_id, n from (
      select code, case when kind = 'key' then subject else 'row:' || subject end as user_id,
             count(*) over (partition by code) as n,
             row_number() over (partition by code order by last_at desc, subject) as nth
      from ${sql.table(FAILURES_TABLE)}
    ) f
    where nth <= ${samplesPerCode}
    order by n desc, code, nth`.execute(db.kysely as unknown as Kysely<unknown>);
  const groups = new Map<string, { code: string; count: number; sample: string[] }>();
  for (const row of rows) {
    const group = groups.get(row.code) ?? { code: row.code, count: Number(row.n), sample: [] };
    group.sample.push(String(row.user_id));
    groups.set(row.code, group);
  }
  const byCode = [...groups.values()];
  return { total: byCode.reduce((sum, g) => sum + g.count, 0), byCode };
}
