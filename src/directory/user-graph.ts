/**
 * What one load returns: a frozen snapshot of a user and everything its
 * verification needs. Plain data only, so nothing can be lazily loaded later
 * by accident (one query per membership, the N+1 pattern).
 */
export interface OrgRecord {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
}

export interface RoleRecord {
  readonly id: number;
  readonly name: string;
  readonly rank: number;
}

export interface MembershipRecord {
  readonly orgId: string;
  readonly status: string;
  readonly createdAt: Date;
  /** null when the membership points at a role that does not exist. */
  readonly role: RoleRecord | null;
  /** null when the membership points at an org that does not exist. */
  readonly org: OrgRecord | null;
}

export interface UserRecord {
  readonly id: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly currentOrgId: string;
  readonly preferences: Readonly<Record<string, unknown>>;
  readonly createdAt: Date;
  /** null for native sign-ups that never had a legacy row. */
  readonly migratedAt: Date | null;
}

export interface LegacyStatus {
  readonly exists: boolean;
  readonly migratedAt: Date | null;
}

export interface LoadedUser {
  /** The id that was asked for (present even when nothing was found). */
  readonly id: string;
  readonly user: UserRecord | null;
  readonly currentOrg: OrgRecord | null;
  readonly memberships: readonly MembershipRecord[];
  /** The org whose id equals the user id, whatever its kind. */
  readonly personalOrg: OrgRecord | null;
  readonly personalOrgMemberCount: number;
  readonly legacy: LegacyStatus;
}

export type LoadState = 'present' | 'unmigrated' | 'absent';

/**
 * present: there is a user, or the legacy row says it was migrated (then a
 * missing user is a violation, not a reason to migrate again).
 */
export function loadState(loaded: LoadedUser): LoadState {
  if (loaded.user !== null || loaded.legacy.migratedAt !== null) return 'present';
  return loaded.legacy.exists ? 'unmigrated' : 'absent';
}

/** The documented user JSON (docs/design.md#interfaces). Never carries a secret. */
export interface UserView {
  readonly id: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly migratedAt: Date | null;
  readonly currentOrg: OrgRecord;
  readonly memberships: readonly {
    readonly org: OrgRecord;
    readonly role: { readonly name: string; readonly rank: number };
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
