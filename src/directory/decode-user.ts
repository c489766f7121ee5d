import type { Row } from '../db/prepared-query.js';
import type { LoadedUser, MembershipRecord, OrgRecord, UserRecord } from './user-graph.js';

/**
 * Turns driver rows into frozen LoadedUser snapshots with real types: Dates,
 * booleans, numbers. Both dialects' quirks end here (SQLite: text timestamps,
 * 0/1 booleans, JSON as text; PostgreSQL: bigint counts as strings).
 */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  const date = new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new TypeError(`not a timestamp: ${String(value)}`);
  return date;
}

function toNullableDate(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

export function toJsonObject(value: unknown): Readonly<Record<string, unknown>> {
  const parsed = typeof value === 'string' ? JSON.parse(value) : value;
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}

function orgFrom(id: unknown, kind: unknown, name: unknown): OrgRecord | null {
  return id === null || id === undefined
    ? null
    : Object.freeze({ id: String(id), kind: String(kind), name: String(name) });
}

function userFrom(row: Row): UserRecord | null {
  if (row.user_id === null || row.user_id === undefined) return null;
  return Object.freeze({
    id: String(row.user_id),
    email: String(row.email),
    displayName: row.display_name === null ? null : String(row.display_name),
    currentOrgId: String(row.current_org_id),
    preferences: Object.freeze(toJsonObject(row.preferences)),
    createdAt: toDate(row.created_at),
    migratedAt: toNullableDate(row.migrated_at),
  });
}

/** A membership from flat `m_*` columns (join and select-in strategies). */
export function membershipFromFlat(row: Row): MembershipRecord {
  return Object.freeze({
    orgId: String(row.m_org_id),
    status: String(row.m_status),
    createdAt: toDate(row.m_created_at),
    role:
      row.m_role_id === null
        ? null
        : Object.freeze({ id: Number(row.m_role_id), name: String(row.m_role_name), rank: Number(row.m_role_rank) }),
    org: orgFrom(row.m_org_found, row.m_org_kind, row.m_org_name),
  });
}

interface MembershipJson {
  orgId: string;
  status: string;
  createdAt: string;
  roleId: number | null;
  roleName: string | null;
  roleRank: number | null;
  orgFound: string | null;
  orgKind: string | null;
  orgName: string | null;
}

/** Memberships from the json strategy's aggregated array, in the order the other strategies' SQL gives. */
export function membershipsFromJson(value: unknown): MembershipRecord[] {
  const items = (typeof value === 'string' ? JSON.parse(value) : (value ?? [])) as MembershipJson[];
  const memberships = items.map((m) =>
    Object.freeze({
      orgId: String(m.orgId),
      status: String(m.status),
      createdAt: toDate(m.createdAt),
      role:
        m.roleId === null
          ? null
          : Object.freeze({ id: Number(m.roleId), name: String(m.roleName), rank: Number(m.roleRank) }),
      org: orgFrom(m.orgFound, m.orgKind, m.orgName),
    }),
  );
  return memberships.length > 1 ? memberships.sort(byCreatedThenOrg) : memberships;
}

/** `order by created_at, org_id`: lower-case uuid text sorts as PostgreSQL sorts uuids. */
function byCreatedThenOrg(a: MembershipRecord, b: MembershipRecord): number {
  const byTime = a.createdAt.getTime() - b.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a.orgId < b.orgId ? -1 : a.orgId > b.orgId ? 1 : 0;
}

/** Assembles the snapshot from a head row and the memberships however they were fetched. */
export function loadedUserFrom(head: Row, memberships: readonly MembershipRecord[]): LoadedUser {
  const user = userFrom(head);
  return Object.freeze({
    id: String(head.key),
    user,
    currentOrg: orgFrom(head.current_org_found, head.current_org_kind, head.current_org_name),
    memberships: Object.freeze(user === null ? [] : [...memberships]),
    personalOrg: orgFrom(head.personal_org_id, head.personal_org_kind, head.personal_org_name),
    personalOrgMemberCount: Number(head.personal_member_count ?? 0),
    legacy: Object.freeze({
      exists: toBoolean(head.legacy_exists),
      migratedAt: toNullableDate(head.legacy_migrated_at),
    }),
  });
}
