import { isOrgshiftError, type OrgshiftError, SecretUndecryptableError } from '../errors.js';
import type { TargetField } from '../schema-map/map-model.js';
import { type FieldContext, fieldValue } from './field-values.js';
import { newId } from './ids.js';
import type { LegacyRow, ReadableLegacyRow } from './legacy-rows.js';
import type { MigrationContext } from './migration-context.js';

/** Column → value for one target row. */
export type RowValues = Readonly<Record<string, unknown>>;

/**
 * What a migration writes for one legacy user, computed before any write.
 * Payload groups: `o` org, `u` user, `m` membership, `l` the legacy row's
 * key (for the fence), `d<n>` dependent n's user key and org, `e<n>` the
 * per-user values of dependent n's copies.
 */
export interface PlannedUser {
  readonly key: string;
  readonly orgId: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The mapped values, for events and reports (never a secret). */
  readonly org: RowValues;
  readonly user: RowValues;
}

export interface RefusedUser {
  readonly key: string;
  readonly error: OrgshiftError;
}

export interface MigrationPlan {
  readonly users: readonly PlannedUser[];
  readonly alreadyMigrated: readonly string[];
  readonly refused: readonly RefusedUser[];
}

/**
 * Everything per user that SQL cannot do: templates, slugs, JSON splits and
 * re-encrypting secrets from the legacy codec to the target's (the database
 * never sees a key). Pure apart from fresh ids, so one set-based write can
 * then migrate any number of users.
 */
export function planMigration(
  ctx: MigrationContext,
  rows: readonly LegacyRow[],
  now: Date = new Date(),
): MigrationPlan {
  const users: PlannedUser[] = [];
  const alreadyMigrated: string[] = [];
  const refused: RefusedUser[] = [];
  const iso = now.toISOString();
  for (const row of rows) {
    if (row.migrated) {
      alreadyMigrated.push(row.key);
      continue;
    }
    if (!row.readable) {
      refused.push({ key: row.key, error: row.error });
      continue;
    }
    try {
      users.push(planUser(ctx, row, iso));
    } catch (error) {
      if (
        !(error instanceof SecretUndecryptableError) &&
        !(isOrgshiftError(error) && error.code === 'legacy_row_invalid')
      )
        throw error;
      refused.push({ key: row.key, error });
    }
  }
  return { users, alreadyMigrated, refused };
}

function planUser(ctx: MigrationContext, row: ReadableLegacyRow, now: string): PlannedUser {
  const m = ctx.sql.model;
  const key = row.key;
  const orgId = newId(m.org.id, key);
  const fields: FieldContext = { key, orgId, now, row: row.values, codecs: ctx.codecs };
  const values = (list: readonly TargetField[]) =>
    Object.fromEntries(list.map((f) => [f.column, fieldValue(f, fields)]));

  const org: Record<string, unknown> = { ...values(m.org.fields), [m.org.id.column]: orgId };
  if (m.org.kind) org[m.org.kind.column] = m.org.kind.personal;
  if (m.org.owner) org[m.org.owner] = key;

  const user: Record<string, unknown> = { ...values(m.user.fields), [m.user.id]: key, [m.user.currentOrg]: orgId };
  if (m.user.migratedAt) user[m.user.migratedAt] = now;

  const membership: Record<string, unknown> = {
    ...values(m.membership.fields),
    [m.membership.org]: orgId,
    [m.membership.user]: key,
    [m.membership.role.column]: ctx.ownerRole,
  };
  if (m.membership.status) membership[m.membership.status.column] = m.membership.status.active;
  if (m.membership.id) membership[m.membership.id.column] = newId(m.membership.id, key);

  const payload: Record<string, unknown> = {
    k: key,
    o: org,
    u: user,
    m: membership,
    l: { [m.legacy.key.column]: row.values[m.legacy.key.column] },
  };
  m.dependents.forEach((d, n) => {
    const group: Record<string, unknown> = { [d.userKey.column]: row.values[d.userKey.references] ?? null };
    if (d.org) group[d.org.column] = orgId;
    payload[`d${n}`] = group;
    if (d.copyTo) {
      const copy = d.copyTo.columns.filter((c) => c.source.kind !== 'column');
      payload[`e${n}`] = Object.fromEntries(copy.map((c) => [c.column, fieldValue(c, fields)]));
    }
  });
  return Object.freeze({ key, orgId, payload, org, user });
}
