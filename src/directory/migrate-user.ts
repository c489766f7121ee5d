import { type Kysely, type RawBuilder, sql } from 'kysely';
import { type Database, ident } from '../db/database.js';
import { isUniqueViolation, translateDatabaseError } from '../db/database-errors.js';
import { type OrgshiftTables, ROLES } from '../db/schema.js';
import { nowExpression } from '../db/sql-types.js';
import { withWriteTransaction } from '../db/transaction.js';
import { OrgshiftError } from '../errors.js';
import { LockLostError } from '../lock/errors.js';
import type { Lease } from '../lock/lock-manager.js';
import { toDate, toJsonObject } from './decode-user.js';
import type { MigrationContext } from './migration-context.js';
import { splitSettings } from './settings.js';

export type MigrateOutcome = 'migrated' | 'already-migrated' | 'not-found' | 'conflict';

interface LegacyRow {
  readonly email: string;
  readonly displayName: string | null;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly apiKeyEnc: string | null;
  readonly createdAt: Date;
  readonly migratedAt: unknown;
}

/** The conditional update touched no row: someone else marked the user first. Rolls the transaction back. */
export class FenceViolationError extends OrgshiftError {
  constructor(userId: string) {
    super('migration_failed', `legacy row of ${userId} was marked by someone else during the migration`);
  }
}

/**
 * Migrates one user in its own write transaction (DESIGN §3). A unique
 * violation means the user row was created by someone else (a native sign-up
 * or a holder whose lock we stole after expiry): reported as 'conflict', so
 * the caller reloads instead of failing.
 */
export async function migrateUser(
  db: Database,
  ctx: MigrationContext,
  userId: string,
  lease?: Lease,
): Promise<MigrateOutcome> {
  try {
    return await withWriteTransaction(db, (trx) => migrateUserWithin(trx, ctx, userId, lease));
  } catch (error) {
    if (isUniqueViolation(error) || error instanceof FenceViolationError) return 'conflict';
    throw translateDatabaseError(error);
  }
}

/**
 * The migration itself, inside a transaction the caller owns (the backfill
 * runs many under one claim). Order matters: the legacy row is locked first,
 * so a second migrator blocks there and then sees it marked.
 */
export async function migrateUserWithin(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  userId: string,
  lease?: Lease,
): Promise<MigrateOutcome> {
  const legacy = await readLegacyRowForUpdate(trx, ctx, userId);
  if (legacy === null) return 'not-found';
  if (legacy.migratedAt !== null && legacy.migratedAt !== undefined) return 'already-migrated';

  const { orgSettings, preferences } = splitSettings(legacy.settings, ctx.legacy.orgSettingsKeys);
  const apiKeyEnc =
    legacy.apiKeyEnc === null
      ? null
      : ctx.currentCipher.encrypt(ctx.legacyCipher.decrypt(legacy.apiKeyEnc, userId), userId);
  const now = sql.raw(nowExpression(ctx.dialect));

  await insertPersonalOrg(trx, ctx, userId, personalOrgName(legacy), legacy.email, orgSettings);
  await sql`insert into users (id, email, display_name, current_org_id, preferences, created_at, migrated_at)
    values (${userId}, ${legacy.email}, ${legacy.displayName}, ${userId}, ${json(ctx, preferences)},
            ${timestamp(ctx, legacy.createdAt)}, ${now})`.execute(trx);
  await sql`insert into org_members (org_id, user_id, role_id, status, api_key_enc)
    values (${userId}, ${userId}, ${ROLES.owner.id}, 'active', ${apiKeyEnc})`.execute(trx);
  for (const dependent of ctx.legacy.dependents) {
    await sql`update ${sql.raw(ident(dependent.table))} set org_id = ${userId} where user_id = ${userId}`.execute(trx);
  }
  await markLegacyMigrated(trx, ctx, userId);
  // Last chance before commit: a lease that expired or lost its backend means
  // someone else may be migrating; the database fence would stop a duplicate,
  // but side effects under a lost lease are exactly what the lock is for.
  if (lease?.lost.aborted) throw new LockLostError(lease.key, 'lease lost before commit');
  return 'migrated';
}

async function readLegacyRowForUpdate(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  userId: string,
): Promise<LegacyRow | null> {
  const c = ctx.legacy.columns;
  const forUpdate = ctx.dialect === 'postgres' ? sql.raw('for update') : sql.raw('');
  const result = await sql<Record<string, unknown>>`
    select ${sql.raw(ident(c.email))} as email, ${sql.raw(ident(c.displayName))} as display_name,
           ${sql.raw(ident(c.settings))} as settings, ${sql.raw(ident(c.apiKeyEnc))} as api_key_enc,
           ${sql.raw(ident(c.createdAt))} as created_at, ${sql.raw(ident(c.migratedAt))} as migrated_at
    from ${sql.raw(ident(ctx.legacy.usersTable))}
    where ${sql.raw(ident(c.id))} = ${userId} ${forUpdate}`.execute(trx);
  const row = result.rows[0];
  if (row === undefined) return null;
  return {
    email: String(row.email),
    displayName: row.display_name === null ? null : String(row.display_name),
    settings: toJsonObject(row.settings),
    apiKeyEnc: row.api_key_enc === null ? null : String(row.api_key_enc),
    createdAt: toDate(row.created_at),
    migratedAt: row.migrated_at,
  };
}

function personalOrgName(legacy: LegacyRow): string {
  return `${legacy.displayName ?? legacy.email} (personal)`;
}

async function insertPersonalOrg(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  orgId: string,
  name: string,
  contactEmail: string | null,
  settings: Record<string, unknown>,
) {
  await sql`insert into orgs (id, kind, name, contact_email, settings)
    values (${orgId}, 'personal', ${name}, ${contactEmail}, ${json(ctx, settings)})`.execute(trx);
}

/** The fence: exactly one migration can flip the flag; zero rows means someone beat us. */
async function markLegacyMigrated(trx: Kysely<OrgshiftTables>, ctx: MigrationContext, userId: string) {
  const c = ctx.legacy.columns;
  const result = await sql`update ${sql.raw(ident(ctx.legacy.usersTable))}
    set ${sql.raw(ident(c.migratedAt))} = ${sql.raw(nowExpression(ctx.dialect))}
    where ${sql.raw(ident(c.id))} = ${userId} and ${sql.raw(ident(c.migratedAt))} is null`.execute(trx);
  if (result.numAffectedRows !== 1n) throw new FenceViolationError(userId);
}

export function json(ctx: { readonly dialect: string }, value: unknown): RawBuilder<unknown> {
  const text = JSON.stringify(value);
  return ctx.dialect === 'postgres' ? sql`${text}::jsonb` : sql`${text}`;
}

export function timestamp(ctx: { readonly dialect: string }, value: Date): RawBuilder<unknown> {
  return ctx.dialect === 'postgres' ? sql`${value}` : sql`${value.toISOString()}`;
}

export { insertPersonalOrg };
