import { sql } from 'kysely';
import type { Executor, Row } from '../../db/database.js';
import { isTrue } from '../../db/driver-values.js';
import type { MapSql } from '../../db/map-sql.js';
import { sameScalar } from '../../directory/decode-user.js';

/** What a rollback decides on, read inside its transaction with the rows locked. */
export interface RollbackState {
  /** Legacy rows with the key (more than one: a duplicated key, refused). */
  readonly legacy: readonly Row[];
  readonly marked: boolean;
  /** The user row (in place: the legacy row). */
  readonly user: Row | null;
  /** The personal org, found as the map says (by id or owner). */
  readonly org: Row | null;
  readonly orgIsPersonal: boolean;
  /** The user's own membership in it. */
  readonly membership: Row | null;
  /** Memberships of the user in other orgs. */
  readonly otherOrgs: number;
  /** Other users' memberships in the personal org. */
  readonly otherMembers: number;
}

/**
 * Reads with row locks in the migration's order (legacy row first), so a
 * rollback and a migration of one user queue instead of deadlocking.
 * Locking the user and org rows also blocks new memberships for either
 * while the rollback decides. SQLite: the caller's write transaction
 * already excludes other writers.
 */
export async function loadRollbackState(trx: Executor, m: MapSql, key: string): Promise<RollbackState> {
  const model = m.model;
  const lock = sql.raw(m.dialect.forUpdate);
  const legacy = await sql<Row>`select l.*, ${sql.raw(m.marked('l'))} as orgshift_marked from ${sql.raw(m.legacy)} l
    where ${sql.raw(m.key('l'))} = ${key} ${lock}`.execute(trx);
  const first = legacy.rows[0];
  const user =
    model.shape === 'in-place'
      ? (first ?? null)
      : ((
          await sql<Row>`select * from ${sql.raw(m.user)} u where ${sql.raw(m.col('u', model.user.id))} = ${m.param(key, m.resolved.user, model.user.id)} ${lock}`.execute(
            trx,
          )
        ).rows[0] ?? null);
  const link = model.org.id.generate === 'user-key' ? model.org.id.column : (model.org.owner as string);
  const org =
    (
      await sql<Row>`select * from ${sql.raw(m.org)} o where ${sql.raw(m.col('o', link))} = ${m.param(key, m.resolved.org, link)} ${lock}`.execute(
        trx,
      )
    ).rows[0] ?? null;
  const orgId = org === null ? null : org[model.org.id.column];
  const ms = model.membership;
  const members = await sql<Row>`select * from ${sql.raw(m.membership)} m
    where ${sql.raw(m.col('m', ms.user))} = ${m.param(key, m.resolved.membership, ms.user)}
    ${orgId === null ? sql`` : sql`or ${sql.raw(m.col('m', ms.org))} = ${m.param(orgId, m.resolved.membership, ms.org)}`}`.execute(
    trx,
  );
  const inOrg = (row: Row) => orgId !== null && String(row[ms.org]) === String(orgId);
  const isUser = (row: Row) => String(row[ms.user]) === key;
  return {
    legacy: legacy.rows,
    marked: first !== undefined && isTrue(first.orgshift_marked),
    user,
    org,
    orgIsPersonal:
      org !== null && (model.org.kind === null || sameScalar(org[model.org.kind.column], model.org.kind.personal)),
    membership: members.rows.find((row) => inOrg(row) && isUser(row)) ?? null,
    otherOrgs: members.rows.filter((row) => isUser(row) && !inOrg(row)).length,
    otherMembers: members.rows.filter((row) => inOrg(row) && !isUser(row)).length,
  };
}
