import type { MapModel } from '../schema-map/map-model.js';
import { sameScalar } from './decode-user.js';
import type { LoadedUser, MembershipRecord, UserRecord } from './user-graph.js';
import { type Violation, violation } from './violations.js';

export type StructureCheck = (loaded: LoadedUser) => readonly Violation[];

/**
 * The structural invariants (docs/design.md#invariants) on the graph one load
 * returned: no extra query, so they run on every read.
 */
export function structureCheck(model: MapModel): StructureCheck {
  const isActive = (m: MembershipRecord) =>
    model.membership.status === null ? true : sameScalar(m.status, model.membership.status.active);
  const ownerRole = model.membership.role.owner;
  const hasMarker = model.legacy.marker.type !== 'derived';
  return (loaded) => {
    const user = loaded.user;
    const legacy = loaded.legacy;
    if (user === null) {
      return legacy?.marked
        ? [violation('user_missing', 'the legacy row is marked migrated but there is no user row')]
        : [];
    }
    const found: Violation[] = [
      ...checkCurrentOrg(loaded, user, isActive),
      ...checkMemberships(loaded),
      ...checkPersonalOrg(loaded, user, isActive, ownerRole),
    ];
    // Not loaded by the fast read: the audit checks every legacy row's marker.
    if (legacy === null) return found;
    const migrated = model.shape === 'in-place' ? user.currentOrgId !== null : legacy.rows > 0;
    if (hasMarker && migrated && legacy.rows > 0 && !legacy.marked) {
      found.push(violation('legacy_not_marked', 'the user is migrated but its legacy row is not marked'));
    }
    return found;
  };
}

function checkCurrentOrg(
  loaded: LoadedUser,
  user: UserRecord,
  isActive: (m: MembershipRecord) => boolean,
): Violation[] {
  if (user.currentOrgId === null) return [violation('current_org_missing', 'the user has no current org')];
  if (loaded.currentOrg === null)
    return [violation('current_org_missing', `current org ${user.currentOrgId} does not exist`)];
  const active = loaded.memberships.some((m) => m.orgId === user.currentOrgId && isActive(m));
  return active
    ? []
    : [violation('current_org_not_member', `no active membership in current org ${user.currentOrgId}`)];
}

function checkMemberships(loaded: LoadedUser): Violation[] {
  return loaded.memberships
    .filter((m) => m.org === null || m.role === null)
    .map((m) =>
      violation('membership_dangling', `membership in ${m.orgId} points at a missing ${m.org ? 'role' : 'org'}`),
    );
}

function checkPersonalOrg(
  loaded: LoadedUser,
  user: UserRecord,
  isActive: (m: MembershipRecord) => boolean,
  ownerRole: string,
): Violation[] {
  const org = loaded.personalOrg;
  if (org === null || org.kind !== 'personal') {
    return [violation('personal_org_missing', `no personal org for user ${user.id}`)];
  }
  const own = loaded.memberships.find((m) => m.orgId === org.id);
  const ownerOnly =
    loaded.personalOrgMemberCount === 1 && own !== undefined && isActive(own) && own.role?.name === ownerRole;
  return ownerOnly
    ? []
    : [
        violation(
          'personal_org_membership',
          `the personal org must have exactly one active owner, the user (it has ${loaded.personalOrgMemberCount} members)`,
        ),
      ];
}
