import { sql } from 'kysely';
import type { Orgshift } from '../../../src/orgshift.js';
import { internalsOf } from '../../../src/orgshift.js';

export interface TableCounts {
  readonly legacy: number;
  readonly legacyMigrated: number;
  readonly orgs: number;
  readonly users: number;
  readonly members: number;
  readonly failures: number;
  /** Dependent rows whose org is their user's personal org. */
  readonly dependentsInOwnOrg: number;
  readonly dependents: number;
}

async function scalar(orgshift: Orgshift, query: string): Promise<number> {
  const result = await sql<{ n: number | string }>`${sql.raw(query)}`.execute(internalsOf(orgshift).db.kysely);
  return Number(result.rows[0]?.n ?? 0);
}

/** Row counts across every table a migration writes (the demo map's), to compare before and after. */
export async function tableCounts(orgshift: Orgshift): Promise<TableCounts> {
  const m = internalsOf(orgshift).sql;
  const dependents = m.model.dependents.map((d) => m.table(d.table));
  const sum = (parts: string[]) => `select ${parts.map((p) => `(${p})`).join(' + ') || '0'} as n`;
  return {
    legacy: await scalar(orgshift, `select count(*) as n from ${m.legacy}`),
    legacyMigrated: await scalar(orgshift, `select count(*) as n from ${m.legacy} l where ${m.marked('l')}`),
    orgs: await scalar(orgshift, `select count(*) as n from ${m.org}`),
    users: await scalar(orgshift, `select count(*) as n from ${m.user}`),
    members: await scalar(orgshift, `select count(*) as n from ${m.membership}`),
    failures: await scalar(orgshift, 'select count(*) as n from orgshift_migration_failures'),
    dependents: await scalar(orgshift, sum(dependents.map((t) => `select count(*) from ${t}`))),
    dependentsInOwnOrg: await scalar(
      orgshift,
      sum(dependents.map((t) => `select count(*) from ${t} where ${m.asText('org_id')} = user_id`)),
    ),
  };
}

export async function legacyIds(orgshift: Orgshift, where = 'true'): Promise<string[]> {
  const m = internalsOf(orgshift).sql;
  const result = await sql<{ id: string }>`select ${sql.raw(m.key('l'))} as id from ${sql.raw(m.legacy)} l
    where ${sql.raw(where)} order by 1`.execute(internalsOf(orgshift).db.kysely);
  return result.rows.map((row) => String(row.id));
}
