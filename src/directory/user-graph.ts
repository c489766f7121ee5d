/**
 * What one load returns: a frozen snapshot of a user and everything its
 * verification needs. Plain data only, so nothing can be lazily loaded later
 * by accident (the N+1 that eager loading exists to avoid).
 */
export type OrgKind = 'personal' | 'team';

export interface OrgRecord {
  readonly id: string;
  readonly kind: OrgKind;
  readonly name: string;
}

export interface RoleRecord {
  readonly name: string;
  /** Lower is stronger; null where the map gives roles no rank. */
  readonly rank: number | null;
}

export interface MembershipRecord {
  readonly orgId: string;
  readonly status: string;
  /** null when the membership points at a role that does not exist. */
  readonly role: RoleRecord | null;
  /** null when the membership points at an org that does not exist. */
  readonly org: OrgRecord | null;
}

export interface UserRecord {
  readonly id: string;
  readonly email: string | null;
  readonly displayName: string | null;
  /** null when the user has no current org (in place: not migrated yet). */
  readonly currentOrgId: string | null;
  /** When the user was migrated, where the map records it; null for native sign-ups and maps without a time. */
  readonly migratedAt: Date | null;
}

export interface LegacyStatus {
  /** Legacy rows with this key: 0, 1, or more (a duplicated key, refused). */
  readonly rows: number;
  /** The marker says migrated. */
  readonly marked: boolean;
  readonly markedAt: Date | null;
}

export interface LoadedUser {
  /** The key that was asked for (present even when nothing was found). */
  readonly id: string;
  readonly user: UserRecord | null;
  readonly currentOrg: OrgRecord | null;
  readonly memberships: readonly MembershipRecord[];
  /** The user's personal org as the map finds it (by id or owner), whatever its kind. */
  readonly personalOrg: OrgRecord | null;
  readonly personalOrgMemberCount: number;
  /**
   * The legacy row's status; null when the read did not load it (the fast
   * read of a moved user: whether its legacy row is marked is the audit's
   * and deep verification's to check, see docs/design.md).
   */
  readonly legacy: LegacyStatus | null;
}

export type LoadState = 'present' | 'unmigrated' | 'absent';

/** The documented user JSON. Never carries a secret. */
export interface UserView {
  readonly id: string;
  readonly email: string | null;
  readonly displayName: string | null;
  readonly migratedAt: Date | null;
  readonly currentOrg: OrgRecord;
  readonly memberships: readonly {
    readonly org: OrgRecord;
    readonly role: RoleRecord;
    readonly status: string;
  }[];
}

function orgView(org: OrgRecord): OrgRecord {
  return Object.freeze({ id: org.id, kind: org.kind, name: org.name });
}

/** Only called on a verified graph, where every reference below is known to resolve. */
export function toUserView(loaded: LoadedUser): UserView {
  const user = loaded.user as UserRecord;
  return Object.freeze({
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    migratedAt: user.migratedAt,
    currentOrg: orgView(loaded.currentOrg as OrgRecord),
    memberships: Object.freeze(
      loaded.memberships.map((m) =>
        Object.freeze({
          org: orgView(m.org as OrgRecord),
          role: Object.freeze({ name: (m.role as RoleRecord).name, rank: (m.role as RoleRecord).rank }),
          status: m.status,
        }),
      ),
    ),
  });
}
