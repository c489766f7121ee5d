import { CuidFactory } from './cuid.js';
import { type DependentCounts, DependentFactory } from './dependents.js';
import { chooseSamples, type InPlaceManifest, type SampledUser, sampleOf, teamSummary } from './manifest.js';
import {
  type FixtureMembership,
  type FixtureOrganization,
  membershipRow,
  OrganizationFactory,
  organizationRow,
} from './organizations.js';
import { PersonFactory } from './people.js';
import { prismaMigrationRows } from './prisma-migrations.js';
import { Random } from './random.js';
import { API_TOKEN, INVOICE, MEMBERSHIP, ORGANIZATION, PRISMA_MIGRATIONS, PROJECT, type Row, USER } from './tables.js';
import type { FixtureTarget, SqliteTimestamps } from './target.js';
import { APP_LAUNCHED, DAY, ORGANIZATIONS_SHIPPED, SNAPSHOT } from './timeline.js';
import { type FixtureUser, makeUsers, userRow } from './users.js';
import { openWriter, type RowSink } from './writer.js';

export type { InPlaceManifest, SampledUser } from './manifest.js';
export type { FixtureTarget, SqliteTimestamps } from './target.js';

export interface InPlaceOptions {
  /** Legacy users: signed up before organizations existed, none migrated yet. */
  readonly users: number;
  /** Same seed, same rows, on either database. Default 1. */
  readonly seed?: number;
  /** Team orgs the app created after the feature shipped. Default: one per 200 users, at least 2. */
  readonly teamOrgs?: number;
  /** Users who signed up after the feature shipped and got a personal org from the app. Default 0. */
  readonly nativeUsers?: number;
  /** Averages per user; each user gets between 0 and twice the average. Defaults 2, 1, 2. */
  readonly projectsPerUser?: number;
  readonly apiTokensPerUser?: number;
  readonly invoicesPerUser?: number;
  /** Share of legacy users with a plaintext API key in "User"."apiKey". Default 0.3. */
  readonly apiKeyShare?: number;
  /** Legacy users sampled at regular intervals, besides one per trait. Default 25. */
  readonly sampleSize?: number;
  /** DateTime storage on SQLite. Default 'unixepoch-ms' (Prisma's built-in driver). */
  readonly sqliteTimestamps?: SqliteTimestamps;
  /** Rows per INSERT on PostgreSQL. Default 5,000. */
  readonly batchSize?: number;
}

type ResolvedOptions = Required<InPlaceOptions>;

const ZERO: DependentCounts = { projects: 0, apiTokens: 0, invoices: 0 };

/**
 * Fills an empty database created with applyInPlaceSchema with a Prisma
 * app's users just after it shipped organizations, in one transaction, and
 * describes what it wrote. Deterministic: the same options give the same
 * rows and manifest on PostgreSQL and SQLite.
 */
export async function generateInPlaceData(target: FixtureTarget, options: InPlaceOptions): Promise<InPlaceManifest> {
  const o = resolveOptions(options);
  const ids = new CuidFactory(new Random(o.seed, 1));
  const people = new PersonFactory(new Random(o.seed, 2));
  const userRandom = new Random(o.seed, 3);
  const legacy = makeUsers(
    userRandom,
    ids,
    people,
    o.users,
    'legacy',
    {
      from: APP_LAUNCHED,
      to: ORGANIZATIONS_SHIPPED,
      snapshot: SNAPSHOT,
    },
    o.apiKeyShare,
  );
  const native = makeUsers(
    userRandom,
    ids,
    people,
    o.nativeUsers,
    'native',
    {
      from: ORGANIZATIONS_SHIPPED,
      to: SNAPSHOT - DAY,
      snapshot: SNAPSHOT,
    },
    0,
  );
  const users = [...legacy, ...native];

  const orgs = new OrganizationFactory(new Random(o.seed, 4), ids);
  const personal = native.map((user) => orgs.personal(user));
  const teams = orgs.teams(users, o.teamOrgs, ORGANIZATIONS_SHIPPED, SNAPSHOT);
  const teamMemberships = membershipsByUser(teams);
  markTeamTraits(users, teams, teamMemberships);
  const personalOrgOf = new Map(personal.map((org) => [org.ownerId as string, org.id]));
  const teamIds = new Set(teams.map((t) => t.id));

  const samples = chooseSamples(legacy, native, o.sampleSize);
  const sampleCounts = new Map(
    samples.users.map((u) => [u.id, { total: { ...ZERO }, withoutOrganization: { ...ZERO } }]),
  );
  const totals = { all: { ...ZERO }, withoutOrganization: { ...ZERO }, inTeams: { ...ZERO } };
  const dependents = new DependentFactory(new Random(o.seed, 5), ids, o, SNAPSHOT);

  const writer = openWriter(target, { batchSize: o.batchSize, sqliteTimestamps: o.sqliteTimestamps });
  await writer.transaction(async (sink) => {
    await sink.insert(PRISMA_MIGRATIONS, prismaMigrationRows());
    await sink.insert(USER, users.map(userRow));
    // Users first, then their orgs, then "User"."organizationId": the two
    // tables reference each other and Prisma's constraints are not deferrable.
    const allOrgs = [...teams, ...personal];
    await sink.insert(ORGANIZATION, allOrgs.map(organizationRow));
    await sink.insert(
      MEMBERSHIP,
      allOrgs.flatMap((org) => org.memberships.map(membershipRow)),
    );
    await sink.update(
      USER,
      'id',
      'organizationId',
      personal.map((org) => [org.ownerId as string, org.id] as const),
    );
    for (let start = 0; start < users.length; start += o.batchSize) {
      const batch = { projects: [] as Row[], apiTokens: [] as Row[], invoices: [] as Row[] };
      for (const user of users.slice(start, start + o.batchSize)) {
        const rows = dependents.forUser(user, teamMemberships.get(user.id) ?? [], personalOrgOf.get(user.id) ?? null);
        for (const kind of ['projects', 'apiTokens', 'invoices'] as const) {
          batch[kind].push(...rows[kind]);
          tally(rows[kind], kind, totals, teamIds, sampleCounts.get(user.id));
        }
      }
      await insertDependents(sink, batch);
    }
  });

  return {
    seed: o.seed,
    counts: {
      users: users.length,
      legacyUsers: legacy.length,
      nativeUsers: native.length,
      organizations: teams.length + personal.length,
      teamOrganizations: teams.length,
      personalOrganizations: personal.length,
      memberships: teams.reduce((n, t) => n + t.memberships.length, 0) + personal.length,
      teamMemberships: teams.reduce((n, t) => n + t.memberships.length, 0),
      ...totals.all,
      prismaMigrations: prismaMigrationRows().length,
    },
    withoutOrganization: totals.withoutOrganization,
    inTeams: totals.inTeams,
    legacyUserIds: legacy.map((u) => u.id),
    nativeUserIds: native.map((u) => u.id),
    legacyUsersWithTeamMemberships: legacy.filter((u) => teamMemberships.has(u.id)).map((u) => u.id),
    teamOrganizations: teams.map(teamSummary),
    samples: samples.users.map((user) =>
      sampleOf(
        user,
        samples.reasons.get(user.id) ?? [],
        teamMemberships.get(user.id) ?? [],
        sampleCounts.get(user.id) as SampledUser['dependents'],
      ),
    ),
  };
}

async function insertDependents(sink: RowSink, batch: { projects: Row[]; apiTokens: Row[]; invoices: Row[] }) {
  await sink.insert(PROJECT, batch.projects);
  await sink.insert(API_TOKEN, batch.apiTokens);
  await sink.insert(INVOICE, batch.invoices);
}

type Counts = { -readonly [K in keyof DependentCounts]: number };

function tally(
  rows: readonly Row[],
  kind: keyof DependentCounts,
  totals: { all: Counts; withoutOrganization: Counts; inTeams: Counts },
  teamIds: ReadonlySet<string>,
  sample: { total: Counts; withoutOrganization: Counts } | undefined,
) {
  for (const row of rows) {
    const org = row.organizationId as string | null;
    totals.all[kind]++;
    if (org === null) totals.withoutOrganization[kind]++;
    else if (teamIds.has(org)) totals.inTeams[kind]++;
    if (sample) {
      sample.total[kind]++;
      if (org === null) sample.withoutOrganization[kind]++;
    }
  }
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

function resolveOptions(options: InPlaceOptions): ResolvedOptions {
  const users = count('users', options.users, 1);
  const resolved: ResolvedOptions = {
    users,
    seed: options.seed ?? 1,
    teamOrgs: count('teamOrgs', options.teamOrgs ?? Math.max(2, Math.round(users / 200)), 0),
    nativeUsers: count('nativeUsers', options.nativeUsers ?? 0, 0),
    projectsPerUser: average('projectsPerUser', options.projectsPerUser ?? 2),
    apiTokensPerUser: average('apiTokensPerUser', options.apiTokensPerUser ?? 1),
    invoicesPerUser: average('invoicesPerUser', options.invoicesPerUser ?? 2),
    apiKeyShare: share('apiKeyShare', options.apiKeyShare ?? 0.3),
    sampleSize: count('sampleSize', options.sampleSize ?? 25, 0),
    sqliteTimestamps: options.sqliteTimestamps ?? 'unixepoch-ms',
    batchSize: count('batchSize', options.batchSize ?? 5_000, 1),
  };
  if (!Number.isSafeInteger(resolved.seed)) throw new RangeError(`seed must be an integer, got ${resolved.seed}`);
  if (resolved.sqliteTimestamps !== 'unixepoch-ms' && resolved.sqliteTimestamps !== 'iso8601') {
    throw new RangeError(`sqliteTimestamps must be 'unixepoch-ms' or 'iso8601'`);
  }
  return resolved;
}

function count(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

function average(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 100)
    throw new RangeError(`${name} must be in [0, 100], got ${value}`);
  return value;
}

function share(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new RangeError(`${name} must be in [0, 1], got ${value}`);
  return value;
}
