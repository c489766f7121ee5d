import { CuidFactory } from './cuid.js';
import { DependentFactory } from './dependents.js';
import { chooseSamples, type InPlaceManifest, sampleOf, teamSummary } from './manifest.js';
import { type InPlaceOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { membershipRow, organizationRow } from './organizations.js';
import { buildPopulation, type Population } from './population.js';
import { prismaMigrationRows } from './prisma-migrations.js';
import { Random } from './random.js';
import { API_TOKEN, INVOICE, MEMBERSHIP, ORGANIZATION, PRISMA_MIGRATIONS, PROJECT, type Row, USER } from './tables.js';
import { DependentTally } from './tally.js';
import type { FixtureTarget } from './target.js';
import { SNAPSHOT } from './timeline.js';
import { userRow } from './users.js';
import { openWriter, type RowSink } from './writer.js';

export type { InPlaceManifest, SampledUser } from './manifest.js';
export type { InPlaceOptions } from './options.js';
export type { FixtureTarget, SqliteTimestamps } from './target.js';

/**
 * Fills an empty database created with applyInPlaceSchema with a Prisma
 * app's users just after it shipped organizations, in one transaction, and
 * describes what it wrote. Deterministic: the same options give the same
 * rows and manifest on PostgreSQL and SQLite.
 */
export async function generateInPlaceData(target: FixtureTarget, options: InPlaceOptions): Promise<InPlaceManifest> {
  const o = resolveOptions(options);
  const ids = new CuidFactory(new Random(o.seed, 1));
  const population = buildPopulation(o, ids);
  const samples = chooseSamples(population.legacy, population.native, o.sampleSize);
  const tally = new DependentTally(
    new Set(population.teams.map((t) => t.id)),
    samples.map((u) => u.id),
  );
  const dependents = new DependentFactory(new Random(o.seed, 5), ids, o, SNAPSHOT);

  const writer = openWriter(target, { batchSize: o.batchSize, sqliteTimestamps: o.sqliteTimestamps });
  await writer.transaction(async (sink) => {
    await sink.insert(PRISMA_MIGRATIONS, prismaMigrationRows());
    await writeUsersAndOrganizations(sink, population, o);
    await writeDependents(sink, population, dependents, tally, o);
  });

  const { legacy, native, teams, personal, teamMemberships } = population;
  const teamMembershipCount = teams.reduce((n, t) => n + t.memberships.length, 0);
  return {
    seed: o.seed,
    counts: {
      users: legacy.length + native.length,
      legacyUsers: legacy.length,
      nativeUsers: native.length,
      organizations: teams.length + personal.length,
      teamOrganizations: teams.length,
      personalOrganizations: personal.length,
      memberships: teamMembershipCount + personal.length,
      teamMemberships: teamMembershipCount,
      ...tally.all,
      prismaMigrations: prismaMigrationRows().length,
    },
    withoutOrganization: { ...tally.withoutOrganization },
    inTeams: { ...tally.inTeams },
    legacyUserIds: legacy.map((u) => u.id),
    nativeUserIds: native.map((u) => u.id),
    legacyUsersWithTeamMemberships: legacy.filter((u) => teamMemberships.has(u.id)).map((u) => u.id),
    teamOrganizations: teams.map(teamSummary),
    samples: samples.map((user) => sampleOf(user, teamMemberships.get(user.id) ?? [], tally.ofSample(user.id))),
  };
}

/**
 * Users first, then organizations and memberships, then the native users'
 * "organizationId": "User" and "Organization" reference each other, and
 * Prisma's constraints are not deferrable.
 */
async function writeUsersAndOrganizations(sink: RowSink, population: Population, o: ResolvedOptions) {
  const { users, teams, personal } = population;
  for (let start = 0; start < users.length; start += o.batchSize) {
    await sink.insert(USER, users.slice(start, start + o.batchSize).map(userRow));
  }
  const organizations = [...teams, ...personal];
  await sink.insert(ORGANIZATION, organizations.map(organizationRow));
  await sink.insert(
    MEMBERSHIP,
    organizations.flatMap((org) => org.memberships.map(membershipRow)),
  );
  await sink.update(
    USER,
    'id',
    'organizationId',
    personal.map((org) => [org.creatorId, org.id] as const),
  );
}

/** A batch of users' projects, tokens and invoices at a time, so 100,000 users never sit in memory as rows. */
async function writeDependents(
  sink: RowSink,
  population: Population,
  dependents: DependentFactory,
  tally: DependentTally,
  o: ResolvedOptions,
) {
  const { users, teamMemberships, personalOrgOf } = population;
  for (let start = 0; start < users.length; start += o.batchSize) {
    const batch = { projects: [] as Row[], apiTokens: [] as Row[], invoices: [] as Row[] };
    for (const user of users.slice(start, start + o.batchSize)) {
      const rows = dependents.forUser(user, teamMemberships.get(user.id) ?? [], personalOrgOf.get(user.id) ?? null);
      for (const kind of ['projects', 'apiTokens', 'invoices'] as const) {
        batch[kind].push(...rows[kind]);
        tally.add(user.id, kind, rows[kind]);
      }
    }
    await sink.insert(PROJECT, batch.projects);
    await sink.insert(API_TOKEN, batch.apiTokens);
    await sink.insert(INVOICE, batch.invoices);
  }
}
