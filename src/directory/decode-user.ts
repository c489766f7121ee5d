import type { Row } from '../db/database.js';
import { isTrue } from '../db/driver-values.js';
import type { MapModel, Scalar } from '../schema-map/map-model.js';
import type {
  LegacyStatus,
  LoadedUser,
  LoadState,
  MembershipRecord,
  OrgKind,
  OrgRecord,
  UserRecord,
} from './user-graph.js';

/**
 * Turns driver rows into frozen LoadedUser snapshots with real types. Both
 * dialects' quirks end here (SQLite: text timestamps, 0/1 booleans, JSON as
 * text; PostgreSQL: bigint counts as strings, everything as JSON text inside
 * the graph column).
 */
export class UserDecoder {
  readonly #model: MapModel;

  constructor(model: MapModel) {
    this.#model = model;
  }

  /** A json-strategy row: flat on SQLite, one `graph` object with the same keys on PostgreSQL. */
  fromJsonRow(row: Row): LoadedUser {
    const graph = row.graph;
    const head = graph !== null && typeof graph === 'object' ? (graph as Row) : row;
    return this.fromHead(head, this.membershipsFromJson(head.memberships, head));
  }

  /**
   * A fast-read row (GraphSql.fast): the current and personal orgs are taken
   * from the memberships. Null when the row cannot stand for the whole graph
   * (no user, or either org is not among its memberships): the caller then
   * loads the full graph, whose verification names the exact fault.
   */
  fromFastRow(row: Row): LoadedUser | null {
    const graph = row.graph;
    const head = graph !== null && typeof graph === 'object' ? (graph as Row) : row;
    const user = this.#userFrom(head);
    if (user === null || user.currentOrgId === null) return null;
    const items = (typeof head.memberships === 'string' ? JSON.parse(head.memberships) : head.memberships) as Row[];
    let personal: { readonly org: OrgRecord | null; readonly members: number } | undefined;
    const memberships = items.map((item) => {
      const membership = this.#membership(item, head);
      if (personal === undefined && item.members !== null && item.members !== undefined) {
        personal = { org: membership.org, members: Number(item.members) };
      }
      return membership;
    });
    const currentOrg = memberships.find((m) => m.orgId === user.currentOrgId)?.org ?? null;
    if (currentOrg === null || personal === undefined || personal.org === null) return null;
    return Object.freeze({
      id: String(head.key),
      user,
      currentOrg,
      memberships: Object.freeze(sortMemberships(memberships, personal.org.id)),
      personalOrg: personal.org,
      personalOrgMemberCount: personal.members,
      legacy: head.legacy_rows === undefined ? null : this.#legacyFrom(head),
    });
  }

  fromHead(head: Row, memberships: readonly MembershipRecord[]): LoadedUser {
    const user = this.#userFrom(head);
    const personalOrgId = text(head.personal_org_id);
    return Object.freeze({
      id: String(head.key),
      user,
      currentOrg: this.#org(
        head.current_org_found,
        head.current_org_kind,
        head.current_org_name,
        head.current_org_owner,
        head,
      ),
      memberships: Object.freeze(user === null ? [] : sortMemberships([...memberships], personalOrgId)),
      personalOrg: this.#org(
        head.personal_org_id,
        head.personal_org_kind,
        head.personal_org_name,
        String(head.key),
        head,
      ),
      personalOrgMemberCount: Number(head.personal_member_count ?? 0),
      legacy: this.#legacyFrom(head),
    });
  }

  #legacyFrom(head: Row): LegacyStatus {
    return Object.freeze({
      rows: Number(head.legacy_rows ?? 0),
      marked: isTrue(head.legacy_marked),
      markedAt: toNullableDate(head.legacy_marked_at),
    });
  }

  /** Memberships from flat `m_*` columns (join and select-in strategies). */
  membershipFromFlat(row: Row, head: Row): MembershipRecord {
    return this.#membership(
      {
        orgId: row.m_orgId,
        status: row.m_status,
        roleFound: row.m_roleFound,
        roleName: row.m_roleName,
        roleRank: row.m_roleRank,
        orgFound: row.m_orgFound,
        orgKind: row.m_orgKind,
        orgName: row.m_orgName,
        orgOwner: row.m_orgOwner,
      },
      head,
    );
  }

  membershipsFromJson(value: unknown, head: Row): MembershipRecord[] {
    const items = (typeof value === 'string' ? JSON.parse(value) : (value ?? [])) as Row[];
    return items.map((item) => this.#membership(item, head));
  }

  #membership(item: Row, head: Row): MembershipRecord {
    const role = this.#model.membership.role;
    const name = text(item.roleName);
    const found = item.roleFound !== null && item.roleFound !== undefined;
    const rank =
      role.kind === 'table' ? nullableNumber(item.roleRank) : name === null ? null : (role.ranks[name] ?? null);
    return Object.freeze({
      orgId: String(item.orgId),
      status: item.status === null || item.status === undefined ? this.#activeStatus() : String(item.status),
      role: found && name !== null ? Object.freeze({ name, rank }) : null,
      org: this.#org(item.orgFound, item.orgKind, item.orgName, item.orgOwner, head),
    });
  }

  /** The membership status that means active, as the view shows it. */
  #activeStatus(): string {
    return 'active';
  }

  #userFrom(head: Row): UserRecord | null {
    if (head.user_id === null || head.user_id === undefined) return null;
    const migratedAt =
      toNullableDate(head.user_migrated_at) ??
      (isTrue(head.legacy_marked) ? toNullableDate(head.legacy_marked_at) : null);
    return Object.freeze({
      id: String(head.key),
      email: text(head.email),
      displayName: text(head.display_name),
      currentOrgId: text(head.current_org_id),
      migratedAt,
    });
  }

  /**
   * An org with its kind: from the kind column where the map has one, else
   * personal exactly when it is this user's personal org.
   */
  #org(id: unknown, kind: unknown, name: unknown, owner: unknown, head: Row): OrgRecord | null {
    if (id === null || id === undefined) return null;
    const orgId = String(id);
    return Object.freeze({
      id: orgId,
      kind: this.#kindOf(orgId, kind, owner, head),
      name: name === null || name === undefined ? orgId : String(name),
    });
  }

  #kindOf(orgId: string, kind: unknown, owner: unknown, head: Row): OrgKind {
    const spec = this.#model.org.kind;
    if (spec !== null) return sameScalar(kind, spec.personal) ? 'personal' : 'team';
    if (this.#model.org.owner !== null)
      return owner !== null && owner !== undefined && String(owner) === String(head.key) ? 'personal' : 'team';
    return orgId === text(head.personal_org_id) ? 'personal' : 'team';
  }
}

/**
 * present: there is a user, or the legacy row says it was migrated (then a
 * missing user is a violation, not a reason to migrate again); in place, the
 * user row is the legacy row, present once marked or given an org.
 */
export function loadState(loaded: LoadedUser, inPlace: boolean): LoadState {
  const legacy = loaded.legacy;
  if (inPlace) {
    if (loaded.user === null) return 'absent';
    return legacy?.marked || loaded.user.currentOrgId !== null ? 'present' : 'unmigrated';
  }
  if (loaded.user !== null || legacy?.marked) return 'present';
  return legacy !== null && legacy.rows > 0 ? 'unmigrated' : 'absent';
}

/** The personal org first, then by org id: a stable order whatever the database returned. */
function sortMemberships(memberships: MembershipRecord[], personalOrgId: string | null): MembershipRecord[] {
  return memberships.sort((a, b) => {
    if (a.orgId === personalOrgId) return -1;
    if (b.orgId === personalOrgId) return 1;
    return a.orgId < b.orgId ? -1 : a.orgId > b.orgId ? 1 : 0;
  });
}

export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  const date = new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new TypeError('not a timestamp');
  return date;
}

function toNullableDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(normalizeTimestamp(String(value)));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `timestamp without time zone` comes as "2026-01-02 03:04:05" (or ISO without an offset): read it as UTC. */
function normalizeTimestamp(text: string): string {
  const iso = text.includes('T') ? text : text.replace(' ', 'T');
  return /(Z|[+-]\d\d(:?\d\d)?)$/.test(iso) ? iso : `${iso}Z`;
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function nullableNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** A kind value as the database returned it against the map's scalar (booleans come back as 0/1 on SQLite). */
export function sameScalar(value: unknown, expected: Scalar): boolean {
  if (value === null || value === undefined) return false;
  if (typeof expected === 'boolean')
    return (
      isTrue(value) === expected &&
      (expected || value === false || value === 0 || value === '0' || value === 'f' || value === 'false')
    );
  return String(value) === String(expected);
}
