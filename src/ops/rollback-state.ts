import { type Kysely, sql } from 'kysely';
import { ident } from '../db/database.js';
import type { OrgshiftTables } from '../db/schema.js';
import type { MigrationContext } from '../directory/migration-context.js';

/** What a rollback decides on, read inside its transaction. */
export interface RollbackState {
  readonly legacy: { readonly migrated: boolean } | null;
  readonly user: {
    readonly email: string;
    readonly displayName: string | null;
    readonly preferences: unknown;
  } | null;
  /** The org whose id is the user's, whatever its kind. */
  readonly personalOrg: { readonly kind: string; readonly name: string; readonly settings: unknown } | null;
  /** The user's own membership in that org. */
  readonly membership: { readonly apiKeyEnc: string | null } | null;
  /** Memberships of the user in other orgs. */
  readonly otherOrgs: number;
  /** Other users' memberships in the personal org. */
  readonly otherMembers: number;
  /** Other users' dependent rows that point at the personal org (the org could not be deleted under them). */
  readonly foreignDependents: number;
}

/**
 * Reads with row locks in the migration's order (legacy row first), so a
 * rollback and a migration of one user queue instead of deadlocking. Locking
 * the user and org rows also blocks new memberships for either while the
 * rollback decides (a membership insert takes a key-share lock on both).
 * SQLite: the caller's `BEGIN IMMEDIATE` already excludes other writers.
 */
export async function loadRollbackState(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  userId: string,
): Promise<RollbackState> {
  const forUpdate = sql.raw(ctx.dialect === 'postgres' ? 'for update' : '');
  const c = ctx.legacy.columns;
  const legacy = await sql<{ migrated_at: unknown }>`
    select ${sql.raw(ident(c.migratedAt))} as migrated_at from ${sql.raw(ident(ctx.legacy.usersTable))}
    where ${sql.raw(ident(c.id))} = ${userId} ${forUpdate}`.execute(trx);
  const user = await sql<{ email: string; display_name: string | null; preferences: unknown }>`
    select email, display_name, preferences from users where id = ${userId} ${forUpdate}`.execute(trx);
  const org = await sql<{ kind: string; name: string; settings: unknown }>`
    select kind, name, settings from orgs where id = ${userId} ${forUpdate}`.execute(trx);
  const members = await sql<{ org_id: string; user_id: string; api_key_enc: string | null }>`
    select org_id, user_id, api_key_enc from org_members
    where user_id = ${userId} or org_id = ${userId}`.execute(trx);
  const legacyRow = legacy.rows[0];
  const userRow = user.rows[0];
  const orgRow = org.rows[0];
  const own = members.rows.find((m) => String(m.org_id) === userId && String(m.user_id) === userId);
  return {
    legacy: legacyRow === undefined ? null : { migrated: legacyRow.migrated_at !== null },
    user:
      userRow === undefined
        ? null
        : { email: userRow.email, displayName: userRow.display_name, preferences: userRow.preferences },
    personalOrg: orgRow === undefined ? null : { kind: orgRow.kind, name: orgRow.name, settings: orgRow.settings },
    membership: own === undefined ? null : { apiKeyEnc: own.api_key_enc },
    otherOrgs: members.rows.filter((m) => String(m.user_id) === userId && String(m.org_id) !== userId).length,
    otherMembers: members.rows.filter((m) => String(m.org_id) === userId && String(m.user_id) !== userId).length,
    foreignDependents: orgRow === undefined ? 0 : await countForeignDependents(trx, ctx, userId),
  };
}

async function countForeignDependents(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  userId: string,
): Promise<number> {
  let total = 0;
  for (const dependent of ctx.legacy.dependents) {
    const result = await sql<{ n: number | string }>`
      select count(*) as n from ${sql.raw(ident(dependent.table))}
      where org_id = ${userId} and user_id <> ${userId}`.execute(trx);
    total += Number(result.rows[0]?.n ?? 0);
  }
  return total;
}
