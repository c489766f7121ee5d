import type { SqliteTimestamps } from './target.js';

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
  /** Users per write batch (rows per INSERT on PostgreSQL). Default 5,000. */
  readonly batchSize?: number;
}

export type ResolvedOptions = Required<InPlaceOptions>;

/** Defaults filled in; a bad value is a RangeError before anything is written. */
export function resolveOptions(options: InPlaceOptions): ResolvedOptions {
  const users = integer('users', options.users, 1);
  const resolved: ResolvedOptions = {
    users,
    seed: integer('seed', options.seed ?? 1, Number.MIN_SAFE_INTEGER),
    teamOrgs: integer('teamOrgs', options.teamOrgs ?? Math.max(2, Math.round(users / 200)), 0),
    nativeUsers: integer('nativeUsers', options.nativeUsers ?? 0, 0),
    projectsPerUser: average('projectsPerUser', options.projectsPerUser ?? 2),
    apiTokensPerUser: average('apiTokensPerUser', options.apiTokensPerUser ?? 1),
    invoicesPerUser: average('invoicesPerUser', options.invoicesPerUser ?? 2),
    apiKeyShare: share('apiKeyShare', options.apiKeyShare ?? 0.3),
    sampleSize: integer('sampleSize', options.sampleSize ?? 25, 0),
    sqliteTimestamps: options.sqliteTimestamps ?? 'unixepoch-ms',
    batchSize: integer('batchSize', options.batchSize ?? 5_000, 1),
  };
  if (resolved.sqliteTimestamps !== 'unixepoch-ms' && resolved.sqliteTimestamps !== 'iso8601') {
    throw new RangeError(`sqliteTimestamps must be 'unixepoch-ms' or 'iso8601'`);
  }
  return resolved;
}

function integer(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

function average(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    throw new RangeError(`${name} must be in [0, 100], got ${value}`);
  }
  return value;
}

function share(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new RangeError(`${name} must be in [0, 1], got ${value}`);
  return value;
}
