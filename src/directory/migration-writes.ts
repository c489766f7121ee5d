import { type Kysely, type RawBuilder, sql } from 'kysely';
import { ident } from '../db/database.js';
import { type OrgshiftTables, ROLES } from '../db/schema.js';
import { nowExpression } from '../db/sql-types.js';
import type { MigrationContext } from './migration-context.js';
import type { PlannedUser } from './migration-plan.js';

/**
 * Writes the organization side of the planned users and marks their legacy
 * rows, set-based: the statements are the same for one user (a just-in-time
 * migration) and for a backfill batch of thousands, so neither pays a round
 * trip per user per table. Returns how many legacy rows the fence flipped
 * (`migrated_at` from null to now); the caller compares it with the users.
 *
 * The users travel as one JSON parameter: one bind value whatever their
 * number, no array escaping, and the same shape on both dialects.
 */
export async function writeMigration(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  users: readonly PlannedUser[],
): Promise<number> {
  if (users.length === 0) return 0;
  const payload = JSON.stringify(users.map(toRecord));
  return ctx.dialect === 'postgres' ? writeOnPostgres(trx, ctx, payload) : writeOnSqlite(trx, ctx, payload);
}

function toRecord(user: PlannedUser) {
  return {
    id: user.id,
    email: user.email,
    display_name: user.displayName,
    org_name: user.orgName,
    org_settings: user.orgSettings,
    preferences: user.preferences,
    api_key_enc: user.apiKeyEnc,
    created_at: user.createdAt.toISOString(),
  };
}

/** How each dialect spells the input rows (aliased `i`) and the values it writes from them. */
interface Spelling {
  readonly source: RawBuilder<unknown>;
  /** `i.id` as a value for a uuid column. */
  readonly id: string;
  readonly now: string;
}

/**
 * One statement: every write is a data-modifying CTE. PostgreSQL checks the
 * foreign keys at the end of the statement, so the org, the user and the
 * membership may be inserted side by side, and the whole migration is one
 * round trip between the row lock and the commit.
 */
async function writeOnPostgres(trx: Kysely<OrgshiftTables>, ctx: MigrationContext, payload: string): Promise<number> {
  const spelling: Spelling = { source: sql.raw('input as i'), id: 'i.id::uuid', now: nowExpression('postgres') };
  const writes = migrationWrites(ctx, spelling);
  const ctes = writes.map((write, n) => sql`w${sql.raw(String(n))} as (${write})`);
  const result = await sql<{ marked: number }>`
    with input as (
      select * from jsonb_to_recordset(${payload}::jsonb) as r(
        id text, email text, display_name text, org_name text, org_settings jsonb, preferences jsonb,
        api_key_enc text, created_at timestamptz)
    ),
    ${sql.join(ctes)},
    marked as (${markLegacyRows(ctx, spelling)} returning 1)
    select count(*)::int as marked from marked`.execute(trx);
  return Number(result.rows[0]?.marked ?? 0);
}

/**
 * The same writes as statements in a row: SQLite has no data-modifying
 * CTEs, and better-sqlite3 runs in-process, so a statement costs no round
 * trip. Its foreign keys are checked per statement, hence the order.
 */
async function writeOnSqlite(trx: Kysely<OrgshiftTables>, ctx: MigrationContext, payload: string): Promise<number> {
  const source = sql`(select value ->> 'id' as id, value ->> 'email' as email,
      value ->> 'display_name' as display_name, value ->> 'org_name' as org_name,
      value -> 'org_settings' as org_settings, value -> 'preferences' as preferences,
      value ->> 'api_key_enc' as api_key_enc, value ->> 'created_at' as created_at
    from json_each(${payload})) as i`;
  const spelling: Spelling = { source, id: 'i.id', now: nowExpression('sqlite') };
  for (const write of migrationWrites(ctx, spelling)) await write.execute(trx);
  const marked = await markLegacyRows(ctx, spelling).execute(trx);
  return Number(marked.numAffectedRows ?? 0n);
}

/** Steps 4.2 and 4.3 of docs/design.md#lock-load-verify, in foreign-key order; the repair queue entry goes in the same commit. */
function migrationWrites(ctx: MigrationContext, s: Spelling): RawBuilder<unknown>[] {
  const id = sql.raw(s.id);
  return [
    sql`insert into orgs (id, kind, name, contact_email, settings)
      select ${id}, 'personal', i.org_name, i.email, i.org_settings from ${s.source}`,
    sql`insert into users (id, email, display_name, current_org_id, preferences, created_at, migrated_at)
      select ${id}, i.email, i.display_name, ${id}, i.preferences, i.created_at, ${sql.raw(s.now)} from ${s.source}`,
    sql`insert into org_members (org_id, user_id, role_id, status, api_key_enc)
      select ${id}, ${id}, ${ROLES.owner.id}, 'active', i.api_key_enc from ${s.source}`,
    ...ctx.legacy.dependents.map(
      (dependent) => sql`update ${sql.raw(ident(dependent.table))} as d set org_id = ${id}
        from ${s.source} where d.user_id = i.id`,
    ),
    sql`delete from migration_failures where user_id in (select i.id from ${s.source})`,
  ];
}

/**
 * The fence (step 4.4 of docs/design.md#lock-load-verify): only a row still unmarked is flipped, so two
 * migrations of one user can never both count it.
 */
function markLegacyRows(ctx: MigrationContext, s: Spelling): RawBuilder<unknown> {
  const c = ctx.legacy.columns;
  return sql`update ${sql.raw(ident(ctx.legacy.usersTable))} as l
    set ${sql.raw(ident(c.migratedAt))} = ${sql.raw(s.now)}
    from ${s.source}
    where l.${sql.raw(ident(c.id))} = i.id and l.${sql.raw(ident(c.migratedAt))} is null`;
}
