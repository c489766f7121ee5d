import { sql } from 'kysely';
import { type Database, ident } from '../db/database.js';
import { SecretUndecryptableError } from '../errors.js';
import { toJsonObject } from './decode-user.js';
import type { MigrationContext } from './migration-context.js';
import { mergeSettings, settingsDiffer } from './settings.js';
import type { LoadedUser } from './user-graph.js';
import { verifyStructure } from './verify-structure.js';
import { type Violation, violation } from './violations.js';

/**
 * Structural checks plus what needs more queries: the legacy row, the
 * dependent tables and fidelity (email, settings, secret). Secrets are
 * compared in memory and never reported.
 */
export async function verifyDeep(db: Database, ctx: MigrationContext, loaded: LoadedUser): Promise<Violation[]> {
  const found = [...verifyStructure(loaded)];
  const user = loaded.user;
  const migrated = user?.migratedAt != null || loaded.legacy.migratedAt !== null;
  if (user === null || !migrated || !loaded.legacy.exists) return found;
  found.push(...(await checkDependents(db, user.id)));
  found.push(...(await checkFidelity(db, ctx, loaded)));
  return found;
}

async function checkDependents(db: Database, userId: string): Promise<Violation[]> {
  const found: Violation[] = [];
  const orgId = db.dialect === 'postgres' ? sql`${userId}::uuid` : sql`${userId}`;
  for (const dependent of db.legacy.dependents) {
    const result = await sql<{ n: number | string }>`
      select count(*) as n from ${sql.raw(ident(dependent.table))}
      where user_id = ${userId} and (org_id is null or org_id <> ${orgId})`.execute(db.kysely);
    const n = Number(result.rows[0]?.n ?? 0);
    if (n > 0) found.push(violation('dependent_unmigrated', `${n} row(s) of ${dependent.table} not in org ${userId}`));
  }
  return found;
}

async function checkFidelity(db: Database, ctx: MigrationContext, loaded: LoadedUser): Promise<Violation[]> {
  const user = loaded.user;
  if (user === null) return [];
  const c = db.legacy.columns;
  const legacyRow = (
    await sql<Record<string, unknown>>`
      select ${sql.raw(ident(c.email))} as email, ${sql.raw(ident(c.settings))} as settings,
             ${sql.raw(ident(c.apiKeyEnc))} as api_key_enc
      from ${sql.raw(ident(db.legacy.usersTable))} where ${sql.raw(ident(c.id))} = ${user.id}`.execute(db.kysely)
  ).rows[0];
  const orgRow = (
    await sql<Record<string, unknown>>`
      select o.settings, m.api_key_enc from orgs o
      left join org_members m on m.org_id = o.id and m.user_id = o.id
      where o.id = ${user.id}`.execute(db.kysely)
  ).rows[0];
  if (legacyRow === undefined) return [];
  const found: Violation[] = [];
  if (String(legacyRow.email) !== user.email)
    found.push(violation('email_mismatch', 'email differs from the legacy row'));
  const merged = mergeSettings(user.preferences, toJsonObject(orgRow?.settings ?? {}));
  const differing = settingsDiffer(merged, toJsonObject(legacyRow.settings));
  if (differing.length > 0) {
    found.push(violation('settings_mismatch', `settings differ from the legacy row in: ${differing.join(', ')}`));
  }
  const secret = compareSecrets(ctx, user.id, legacyRow.api_key_enc, orgRow?.api_key_enc);
  if (secret !== null) found.push(violation('secret_mismatch', secret));
  return found;
}

/** Returns why the secrets differ, or null when they match. Never returns a secret. */
function compareSecrets(ctx: MigrationContext, userId: string, legacyEnc: unknown, currentEnc: unknown): string | null {
  const hasLegacy = legacyEnc !== null && legacyEnc !== undefined;
  const hasCurrent = currentEnc !== null && currentEnc !== undefined;
  if (!hasLegacy && !hasCurrent) return null;
  if (hasLegacy !== hasCurrent)
    return hasLegacy ? 'legacy secret was not carried over' : 'member has a secret the legacy row lacks';
  try {
    const before = ctx.legacyCipher.decrypt(String(legacyEnc), userId);
    const after = ctx.currentCipher.decrypt(String(currentEnc), userId);
    return before === after ? null : 'decrypted secrets differ';
  } catch (error) {
    if (error instanceof SecretUndecryptableError) return 'a secret could not be decrypted with its key';
    throw error;
  }
}
