import { sql } from 'kysely';
import { type Database, ident } from '../db/database.js';
import { isUniqueViolation, translateDatabaseError } from '../db/database-errors.js';
import { ROLES } from '../db/schema.js';
import { json } from '../db/sql-values.js';
import { withWriteTransaction } from '../db/transaction.js';
import { UserExistsError } from '../errors.js';
import { appendEvents } from '../outbox/append-events.js';
import { nudgeOutbox } from '../outbox/outbox-nudge.js';
import { createdEvent } from '../outbox/user-events.js';
import type { MigrationContext } from './migration-context.js';
import { personalOrgName } from './migration-plan.js';

export interface NewUser {
  readonly id: string;
  readonly email: string;
  readonly displayName?: string | null;
}

/**
 * A native sign-up: the same personal org, user and owner membership a
 * migration creates, with `migrated_at` null. Refuses ids that have a user or
 * a legacy row (legacy users are migrated, not created).
 */
export async function insertNativeUser(db: Database, ctx: MigrationContext, input: NewUser): Promise<void> {
  try {
    await withWriteTransaction(db, async (trx) => {
      const c = ctx.legacy.columns;
      const legacy = await sql`select 1 as found from ${sql.raw(ident(ctx.legacy.usersTable))}
        where ${sql.raw(ident(c.id))} = ${input.id}`.execute(trx);
      if (legacy.rows.length > 0) throw new UserExistsError(input.id);
      const displayName = input.displayName ?? null;
      const orgName = personalOrgName(displayName, input.email);
      await sql`insert into orgs (id, kind, name, contact_email, settings)
        values (${input.id}, 'personal', ${orgName}, ${input.email}, ${json(ctx, {})})`.execute(trx);
      await sql`insert into users (id, email, display_name, current_org_id, preferences)
        values (${input.id}, ${input.email}, ${displayName}, ${input.id}, ${json(ctx, {})})`.execute(trx);
      await sql`insert into org_members (org_id, user_id, role_id, status)
        values (${input.id}, ${input.id}, ${ROLES.owner.id}, 'active')`.execute(trx);
      const data = { userId: input.id, orgId: input.id, email: input.email, displayName, orgName };
      await appendEvents(trx, ctx.dialect, [createdEvent(data)]);
    });
    nudgeOutbox(db);
  } catch (error) {
    if (isUniqueViolation(error)) throw new UserExistsError(input.id);
    throw translateDatabaseError(error);
  }
}
