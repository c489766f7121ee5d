import { sql } from 'kysely';
import { translateDatabaseError } from '../db/database-errors.js';
import { OrgshiftError, UserExistsError } from '../errors.js';
import type { ReadableLegacyRow } from '../migration/legacy-rows.js';
import type { AfterWrites } from '../migration/migrate.js';
import type { MigrationContext } from '../migration/migration-context.js';
import { writeNativeUser } from '../migration/native-writes.js';
import { type PlannedUser, planMigration } from '../migration/plan.js';

export interface NewUser {
  readonly id: string;
  readonly email: string;
  readonly displayName?: string | null;
}

/**
 * A native sign-up: the same personal org, user and owner membership a
 * migration creates. Its values come from the map as if the user had a
 * legacy row holding just the key, the email and the display name, so a
 * template such as "{display_name|email} (personal)" names its org the same
 * way. Refuses keys that have a legacy row or a user (legacy users are
 * migrated, not created). `after` runs in the same transaction (the outbox).
 */
export async function insertNativeUser(
  ctx: MigrationContext,
  input: NewUser,
  after?: AfterWrites,
): Promise<PlannedUser> {
  const planned = planNative(ctx, input);
  try {
    await ctx.db.writeTransaction(async (trx) => {
      const m = ctx.sql;
      const taken =
        await sql`select 1 as found from ${sql.raw(m.legacy)} l where ${sql.raw(m.key('l'))} = ${input.id}`.execute(
          trx,
        );
      if (taken.rows.length > 0) throw new UserExistsError(input.id);
      await writeNativeUser(trx, ctx, planned);
      await after?.(trx, [planned]);
    });
    return planned;
  } catch (error) {
    if (ctx.db.classifyError(error) === 'unique') throw new UserExistsError(input.id);
    if (ctx.db.classifyError(error) === 'not-null') {
      throw new OrgshiftError(
        'invalid_input',
        'the user table requires a value orgshift cannot give a native sign-up (a NOT NULL column without a default)',
      );
    }
    throw translateDatabaseError(ctx.db, error);
  }
}

function planNative(ctx: MigrationContext, input: NewUser): PlannedUser {
  const model = ctx.sql.model;
  const displayName = input.displayName ?? null;
  const values: Record<string, unknown> = { [model.legacy.key.column]: input.id };
  for (const field of model.user.fields) {
    if (field.source.kind !== 'column') continue;
    if (field.column === model.user.email) values[field.source.column] = input.email;
    if (field.column === model.user.displayName) values[field.source.column] = displayName;
  }
  const row: ReadableLegacyRow = { readable: true, key: input.id, migrated: false, values };
  const plan = planMigration(ctx, [row]);
  const refused = plan.refused[0];
  if (refused !== undefined) throw refused.error;
  const planned = plan.users[0] as PlannedUser;
  const user: Record<string, unknown> = withoutNulls(planned.payload.u);
  if (model.user.email) user[model.user.email] = input.email;
  if (model.user.displayName) user[model.user.displayName] = displayName;
  // A native user was never migrated: the target's migration time stays empty.
  if (model.user.migratedAt) delete user[model.user.migratedAt];
  const payload = {
    ...planned.payload,
    o: withoutNulls(planned.payload.o),
    m: withoutNulls(planned.payload.m),
    u: user,
  };
  return Object.freeze({ ...planned, user, payload: Object.freeze(payload) });
}

/**
 * A native user has no legacy row: values the map reads from one come out
 * NULL, and are left out so that the database's defaults apply (a migration,
 * by contrast, writes a legacy NULL as NULL).
 */
function withoutNulls(group: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(group as Record<string, unknown>).filter(([, value]) => value !== null));
}
