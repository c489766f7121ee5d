import type { CuidFactory } from './cuid.js';
import type { ResolvedOptions } from './options.js';
import { type FixtureMembership, type FixtureOrganization, OrganizationFactory } from './organizations.js';
import { PersonFactory } from './people.js';
import { Random } from './random.js';
import { APP_LAUNCHED, DAY, ORGANIZATIONS_SHIPPED, SNAPSHOT } from './timeline.js';
import { type FixtureUser, makeUsers } from './users.js';

/** Everyone and every organization, before any dependent row. */
export interface Population {
  readonly legacy: readonly FixtureUser[];
  readonly native: readonly FixtureUser[];
  /** Legacy then native: sorted by creation time. */
  readonly users: readonly FixtureUser[];
  readonly teams: readonly FixtureOrganization[];
  readonly personal: readonly FixtureOrganization[];
  readonly teamMemberships: ReadonlyMap<string, readonly FixtureMembership[]>;
  readonly personalOrgOf: ReadonlyMap<string, string>;
}

export function buildPopulation(o: ResolvedOptions, ids: CuidFactory): Population {
  const people = new PersonFactory(new Random(o.seed, 2));
  const random = new Random(o.seed, 3);
  const legacy = makeUsers({
    random,
    ids,
    people,
    count: o.users,
    kind: 'legacy',
    window: { from: APP_LAUNCHED, to: ORGANIZATIONS_SHIPPED, snapshot: SNAPSHOT },
    apiKeyShare: o.apiKeyShare,
  });
  // Since organizations shipped the app keeps API keys on the membership: none in "User".
  const native = makeUsers({
    random,
    ids,
    people,
    count: o.nativeUsers,
    kind: 'native',
    window: { from: ORGANIZATIONS_SHIPPED, to: SNAPSHOT - DAY, snapshot: SNAPSHOT },
    apiKeyShare: 0,
  });
  const users = [...legacy, ...native];
  const orgs = new OrganizationFactory(new Random(o.seed, 4), ids);
  const personal = native.map((user) => orgs.personal(user));
  const teams = orgs.teams(users, o.teamOrgs, ORGANIZATIONS_SHIPPED, SNAPSHOT);
  const teamMemberships = membershipsByUser(teams);
  markTeamTraits(users, teams, teamMemberships);
  return {
    legacy,
    native,
    users,
    teams,
    personal,
    teamMemberships,
    personalOrgOf: new Map(personal.map((org) => [org.creatorId, org.id])),
  };
}

function membershipsByUser(teams: readonly FixtureOrganization[]): Map<string, FixtureMembership[]> {
  const byUser = new Map<string, FixtureMembership[]>();
  for (const team of teams) {
    for (const membership of team.memberships) {
      const list = byUser.get(membership.userId) ?? [];
      list.push(membership);
      byUser.set(membership.userId, list);
    }
  }
  return byUser;
}

function markTeamTraits(
  users: readonly FixtureUser[],
  teams: readonly FixtureOrganization[],
  byUser: ReadonlyMap<string, readonly FixtureMembership[]>,
) {
  const creators = new Set(teams.map((t) => t.creatorId));
  for (const user of users) {
    const memberships = byUser.get(user.id);
    if (!memberships) continue;
    user.traits.push(creators.has(user.id) ? 'team-creator' : 'team-member');
    if (memberships.length > 1) user.traits.push('multi-team');
  }
}
