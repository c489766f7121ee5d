import { type Kysely, sql } from 'kysely';
import { type Database, ident } from '../db/database.js';
import { translateDatabaseError } from '../db/database-errors.js';
import type { OrgshiftTables } from '../db/schema.js';
import { json } from '../db/sql-values.js';
import { withWriteTransaction } from '../db/transaction.js';
import { toJsonObject } from '../directory/decode-user.js';
import type { MigrationContext } from '../directory/migration-context.js';
import { mergeSettings } from '../directory/settings.js';
import { userLockKey } from '../directory/user-directory.js';
import { parseUserId } from '../directory/user-id.js';
import { RollbackRefusedError, UserNotFoundError } from '../errors.js';
import { LockLostError } from '../lock/errors.js';
import type { Lease, LockManager } from '../lock/lock-manager.js';
import { appendEvents } from '../outbox/append-events.js';
import { nudgeOutbox } from '../outbox/outbox-nudge.js';
import { rolledBackEvent } from '../outbox/user-events.js';
import { loadRollbackState, type RollbackState } from './rollback-state.js';

export interface RollbackReport {
  readonly id: string;
  /** Dependent rows whose org_id was cleared, over all dependent tables. */
  readonly dependentRows: number;
}

export interface RollbackLocking {
  readonly locks: LockManager;
  readonly ttlMs: number;
  readonly waitMs: number;
}

/**
 * Reverses one user's migration (DESIGN §5) under the same `user:<id>` lock
 * as a just-in-time migration, in one transaction: the legacy row gets back
 * the user's current email, display name, settings (preferences ∪ org
 * settings) and secret (re-encrypted with the legacy key) and loses its
 * `migrated_at`; dependents leave the org; membership, user and personal org
 * are deleted; a pending repair entry is dropped. A later read migrates the
 * user again.
 *
 * Refused (`rollback_refused`) for native users, users in other orgs and
 * personal orgs that gained members: deleting those would lose data the
 * legacy model cannot hold.
 */
export async function rollbackUser(
  db: Database,
  ctx: MigrationContext,
  locking: RollbackLocking,
  id: unknown,
): Promise<RollbackReport> {
  const userId = parseUserId(id);
  // Unknown ids are answered without lock traffic, as reads are.
  if (!(await anyRowFor(db, ctx, userId))) throw new UserNotFoundError(userId);
  const lease = await locking.locks.acquire(userLockKey(userId), {
    ttlMs: locking.ttlMs,
    waitMs: locking.waitMs,
  });
  try {
    const report = await withWriteTransaction(db, (trx) => rollbackWithin(trx, ctx, userId, lease));
    nudgeOutbox(db);
    return report;
  } catch (error) {
    throw translateDatabaseError(error);
  } finally {
    await lease.release().catch(() => false);
  }
}

async function anyRowFor(db: Database, ctx: MigrationContext, userId: string): Promise<boolean> {
  const c = ctx.legacy.columns;
  const result = await sql<{ found: number }>`
    select 1 as found from users where id = ${userId}
    union all
    select 1 as found from ${sql.raw(ident(ctx.legacy.usersTable))} where ${sql.raw(ident(c.id))} = ${userId}`.execute(
    db.kysely,
  );
  return result.rows.length > 0;
}

async function rollbackWithin(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  userId: string,
  lease: Lease,
): Promise<RollbackReport> {
  const state = await loadRollbackState(trx, ctx, userId);
  refuseUnlessRollbackable(userId, state);
  await restoreLegacyRow(trx, ctx, userId, state);
  let dependentRows = 0;
  for (const dependent of ctx.legacy.dependents) {
    const cleared = await sql`update ${sql.raw(ident(dependent.table))} set org_id = null
      where user_id = ${userId}`.execute(trx);
    dependentRows += Number(cleared.numAffectedRows ?? 0n);
  }
  await sql`delete from org_members where org_id = ${userId} and user_id = ${userId}`.execute(trx);
  await sql`delete from users where id = ${userId}`.execute(trx);
  await sql`delete from orgs where id = ${userId}`.execute(trx);
  await sql`delete from migration_failures where user_id = ${userId}`.execute(trx);
  await appendEvents(trx, ctx.dialect, [rolledBackEvent(rolledBackData(userId, state))]);
  if (lease.lost.aborted) throw new LockLostError(lease.key, 'lease lost before the rollback committed');
  return Object.freeze({ id: userId, dependentRows });
}

/** The user as it was before the rollback; refuseUnlessRollbackable has checked that user and org exist. */
function rolledBackData(userId: string, state: RollbackState) {
  const user = state.user;
  return {
    userId,
    orgId: userId,
    email: user?.email ?? '',
    displayName: user?.displayName ?? null,
    orgName: state.personalOrg?.name ?? '',
  };
}

function refuseUnlessRollbackable(userId: string, state: RollbackState): void {
  const { user, legacy, personalOrg } = state;
  if (user === null && legacy === null) throw new UserNotFoundError(userId);
  if (legacy === null) throw new RollbackRefusedError(userId, 'native user: there is no legacy row to return to');
  if (user === null) {
    throw new RollbackRefusedError(
      userId,
      legacy.migrated ? 'legacy row is marked migrated but there is no user (audit: user_missing)' : 'not migrated',
    );
  }
  if (state.otherOrgs > 0) throw new RollbackRefusedError(userId, `user belongs to ${state.otherOrgs} other org(s)`);
  if (personalOrg !== null && personalOrg.kind !== 'personal') {
    throw new RollbackRefusedError(userId, `org ${userId} is a ${personalOrg.kind} org, not a personal one`);
  }
  if (state.otherMembers > 0) {
    throw new RollbackRefusedError(userId, `personal org has ${state.otherMembers} other member(s)`);
  }
  if (state.foreignDependents > 0) {
    throw new RollbackRefusedError(userId, `${state.foreignDependents} dependent row(s) of other users are in the org`);
  }
}

/** Carries the user's current state back: the legacy system becomes the source of truth again. */
async function restoreLegacyRow(
  trx: Kysely<OrgshiftTables>,
  ctx: MigrationContext,
  userId: string,
  state: RollbackState,
): Promise<void> {
  const user = state.user;
  if (user === null) return;
  const c = ctx.legacy.columns;
  const settings = mergeSettings(toJsonObject(user.preferences), toJsonObject(state.personalOrg?.settings ?? {}));
  // Without a membership row there is no current secret; the legacy one stays as it is.
  const secret =
    state.membership === null ? sql.ref(c.apiKeyEnc) : sql`${reencrypt(ctx, userId, state.membership.apiKeyEnc)}`;
  await sql`update ${sql.raw(ident(ctx.legacy.usersTable))} set
      ${sql.raw(ident(c.migratedAt))} = null,
      ${sql.raw(ident(c.email))} = ${user.email},
      ${sql.raw(ident(c.displayName))} = ${user.displayName},
      ${sql.raw(ident(c.settings))} = ${json(ctx, settings)},
      ${sql.raw(ident(c.apiKeyEnc))} = ${secret}
    where ${sql.raw(ident(c.id))} = ${userId}`.execute(trx);
}

function reencrypt(ctx: MigrationContext, userId: string, current: string | null): string | null {
  return current === null ? null : ctx.legacyCipher.encrypt(ctx.currentCipher.decrypt(current, userId), userId);
}
