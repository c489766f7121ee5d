import type { DependentCounts } from './dependents.js';
import type { FixtureMembership, FixtureOrganization, Role } from './organizations.js';
import { TRAITS, type Trait } from './traits.js';
import type { FixtureUser } from './users.js';

/** What the generator wrote, for tests to check a migration against. Plain JSON. */
export interface InPlaceManifest {
  readonly seed: number;
  readonly counts: {
    readonly users: number;
    readonly legacyUsers: number;
    readonly nativeUsers: number;
    readonly organizations: number;
    readonly teamOrganizations: number;
    readonly personalOrganizations: number;
    readonly memberships: number;
    readonly teamMemberships: number;
    readonly projects: number;
    readonly apiTokens: number;
    readonly invoices: number;
    readonly prismaMigrations: number;
  };
  /** Dependent rows with a NULL "organizationId": every one belongs to a legacy user, and a migration fills them. */
  readonly withoutOrganization: DependentCounts;
  /** Dependent rows already in a team org: a migration must leave them there. */
  readonly inTeams: DependentCounts;
  /** Users to migrate ("organizationId" NULL, no personal org), in creation order. */
  readonly legacyUserIds: readonly string[];
  /** Users the app created with a personal org after the feature shipped: already in the target shape. */
  readonly nativeUserIds: readonly string[];
  /** Legacy users that already belong to a team org (so a membership exists before their migration). */
  readonly legacyUsersWithTeamMemberships: readonly string[];
  readonly teamOrganizations: readonly TeamSummary[];
  readonly samples: readonly SampledUser[];
}

export interface TeamSummary {
  readonly id: string;
  readonly name: string;
  readonly slug: string;
  readonly creatorId: string;
  readonly members: readonly { readonly userId: string; readonly role: Role }[];
}

/** One user's values as written, to compare with the database after a migration. */
export interface SampledUser {
  readonly id: string;
  readonly kind: 'legacy' | 'native';
  /** Every trait the user has: what makes the user a hard case, if anything does. */
  readonly traits: readonly Trait[];
  readonly email: string;
  readonly name: string | null;
  readonly image: string | null;
  readonly locale: string;
  readonly timezone: string | null;
  readonly marketingOptIn: boolean;
  /** JSON text: null is SQL NULL, 'null' is the JSON value null. Compare parsed values: jsonb reorders keys. */
  readonly preferences: string | null;
  readonly apiKey: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly teamMemberships: readonly { readonly organizationId: string; readonly role: Role }[];
  readonly dependents: { readonly total: DependentCounts; readonly withoutOrganization: DependentCounts };
}

/**
 * The users to sample: the first user of each trait, then every n-th legacy
 * user, then the first and last native users.
 */
export function chooseSamples(
  legacy: readonly FixtureUser[],
  native: readonly FixtureUser[],
  regular: number,
): FixtureUser[] {
  const chosen = new Map<string, FixtureUser>();
  for (const trait of TRAITS) {
    const user = legacy.find((u) => u.traits.includes(trait)) ?? native.find((u) => u.traits.includes(trait));
    if (user) chosen.set(user.id, user);
  }
  const stride = Math.max(1, Math.floor(legacy.length / Math.max(1, regular)));
  for (let i = 0, taken = 0; i < legacy.length && taken < regular; i += stride, taken++) {
    const user = legacy[i] as FixtureUser;
    chosen.set(user.id, user);
  }
  for (const user of [native[0], native[native.length - 1]]) if (user) chosen.set(user.id, user);
  return [...chosen.values()];
}

export function sampleOf(
  user: FixtureUser,
  teams: readonly FixtureMembership[],
  dependents: SampledUser['dependents'],
): SampledUser {
  return {
    id: user.id,
    kind: user.kind,
    traits: [...user.traits],
    email: user.email,
    name: user.name,
    image: user.image,
    locale: user.locale,
    timezone: user.timezone,
    marketingOptIn: user.marketingOptIn,
    preferences: user.preferences,
    apiKey: user.apiKey,
    createdAt: new Date(user.createdAt).toISOString(),
    updatedAt: new Date(user.updatedAt).toISOString(),
    teamMemberships: teams.map((m) => ({ organizationId: m.organizationId, role: m.role })),
    dependents,
  };
}

export function teamSummary(org: FixtureOrganization): TeamSummary {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    creatorId: org.creatorId,
    members: org.memberships.map((m) => ({ userId: m.userId, role: m.role })),
  };
}
