import { sql } from 'kysely';
import type { Executor, SetWrite } from '../db/database.js';
import type { MapSql } from '../db/map-sql.js';
import type { MigrationContext } from './migration-context.js';
import type { PlannedUser } from './plan.js';
import { insertFrom, payloadColumns } from './writes.js';

/**
 * A native sign-up: the personal org, the user and the owner membership a
 * migration would create, without a legacy row to read or mark. Moved: the
 * user row is new, like a migration's. In place: the user row is inserted
 * first (the org may reference it as its owner), given its org last, and
 * marked at once, since a native user never needs migrating.
 */
export async function writeNativeUser(trx: Executor, ctx: MigrationContext, user: PlannedUser): Promise<void> {
  const payload = JSON.stringify([user.payload]);
  await ctx.db.runSetWrites(trx, payload, (source) => nativeWrites(ctx.sql, source));
}

/** The user's columns: the mapped ones and the two the sign-up provides (email, display name). */
export function nativeUserColumns(m: MapSql): string[] {
  const view = [m.model.user.email, m.model.user.displayName].filter((c): c is string => c !== null);
  return [...new Set([...payloadColumns(m, 'u'), ...view])];
}

function nativeWrites(m: MapSql, source: Parameters<typeof insertFrom>[1]): SetWrite[] {
  const model = m.model;
  if (model.shape === 'moved') {
    return [
      insertFrom(m, source, 'o', m.org, model.org.table, payloadColumns(m, 'o')),
      insertFrom(m, source, 'u', m.user, model.user.table, nativeUserColumns(m)),
      insertFrom(m, source, 'm', m.membership, model.membership.table, payloadColumns(m, 'm')),
    ];
  }
  const userColumns = nativeUserColumns(m).filter((c) => c !== model.user.currentOrg);
  const marker = model.legacy.marker;
  const sets = [`${m.q(model.user.currentOrg)} = ${m.dialect.payloadValue('u', 'pu', model.user.currentOrg)}`];
  if (marker.type !== 'derived')
    sets.push(`${m.q(marker.column)} = ${marker.type === 'timestamp' ? m.dialect.now : m.dialect.trueLiteral}`);
  const record = m.dialect.payloadRecord('u', m.user, 'pu');
  return [
    insertFrom(m, source, 'u', m.user, model.user.table, userColumns),
    insertFrom(m, source, 'o', m.org, model.org.table, payloadColumns(m, 'o')),
    insertFrom(m, source, 'm', m.membership, model.membership.table, payloadColumns(m, 'm')),
    {
      sql: sql`update ${sql.raw(m.user)} as l set ${sql.raw(sets.join(', '))} from ${source} ${sql.raw(record)}
        where ${sql.raw(m.key('l'))} = ${sql.raw(m.dialect.payloadValue('u', 'pu', model.user.id))}`,
      counted: true,
    },
  ];
}
