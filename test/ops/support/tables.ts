import { sql } from 'kysely';
import { ident } from '../../../src/db/database.js';
import type { Orgshift } from '../../../src/orgshift.js';

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
  const result = await sql<{ n: number | string }>`${sql.raw(query)}`.execute(orgshift.db.kysely);
  return Number(result.rows[0]?.n ?? 0);
}

/** Row counts across every table a migration writes, to compare before and after. */
export async function tableCounts(orgshift: Orgshift): Promise<TableCounts> {
  const legacy = ident(orgshift.db.legacy.usersTable);
  const text = orgshift.db.dialect === 'postgres' ? '::text' : '';
  const dependents = orgshift.db.legacy.dependents.map((d) => ident(d.table));
  const sum = (parts: string[]) => `select ${parts.map((p) => `(${p})`).join(' + ') || '0'} as n`;
  return {
    legacy: await scalar(orgshift, `select count(*) as n from ${legacy}`),
    legacyMigrated: await scalar(orgshift, `select count(*) as n from ${legacy} where migrated_at is not null`),
    orgs: await scalar(orgshift, 'select count(*) as n from orgs'),
    users: await scalar(orgshift, 'select count(*) as n from users'),
    members: await scalar(orgshift, 'select count(*) as n from org_members'),
    failures: await scalar(orgshift, 'select count(*) as n from migration_failures'),
    dependents: await scalar(orgshift, sum(dependents.map((t) => `select count(*) from ${t}`))),
    dependentsInOwnOrg: await scalar(
      orgshift,
      sum(dependents.map((t) => `select count(*) from ${t} where org_id${text} = user_id`)),
    ),
  };
}

export async function legacyIds(orgshift: Orgshift, where = 'true'): Promise<string[]> {
  const result = await sql<{ id: string }>`select id from ${sql.raw(ident(orgshift.db.legacy.usersTable))}
    where ${sql.raw(where)} order by id`.execute(orgshift.db.kysely);
  return result.rows.map((row) => String(row.id));
}
