import { ROLES } from '../db/schema.js';
import type { LoadedUser, UserRecord } from './user-graph.js';
import { type Violation, violation } from './violations.js';

/**
 * The structural checks of docs/design.md#invariants, on the graph one load returned: no
 * extra query. Runs on every read.
 */
export function verifyStructure(loaded: LoadedUser): readonly Violation[] {
  const user = loaded.user;
  if (user === null) {
    return loaded.legacy.migratedAt === null
      ? []
      : [violation('user_missing', 'legacy row is marked migrated but there is no users row')];
  }
  const found: Violation[] = [
    ...checkCurrentOrg(loaded, user),
    ...checkMemberships(loaded),
    ...checkPersonalOrg(loaded, user),
  ];
  if (user.migratedAt !== null && loaded.legacy.exists && loaded.legacy.migratedAt === null) {
    found.push(violation('legacy_not_marked', 'user is migrated but its legacy row is not marked'));
  }
  return found;
}

function checkCurrentOrg(loaded: LoadedUser, user: UserRecord): Violation[] {
  if (loaded.currentOrg === null) {
    return [violation('current_org_missing', `current org ${user.currentOrgId} does not exist`)];
  }
  const active = loaded.memberships.some((m) => m.orgId === user.currentOrgId && m.status === 'active');
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

function checkPersonalOrg(loaded: LoadedUser, user: UserRecord): Violation[] {
  const org = loaded.personalOrg;
  if (org === null || org.kind !== 'personal') {
    return [violation('personal_org_missing', `no personal org with id ${user.id}`)];
  }
  const own = loaded.memberships.find((m) => m.orgId === org.id);
  const ownerOnly =
    loaded.personalOrgMemberCount === 1 &&
    own !== undefined &&
    own.status === 'active' &&
    own.role?.name === ROLES.owner.name;
  return ownerOnly
    ? []
    : [
        violation(
          'personal_org_membership',
          `personal org must have exactly one active owner, the user (has ${loaded.personalOrgMemberCount} members)`,
        ),
      ];
}
