import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { DatabaseConfig } from '../db/open-database.js';
import { ConfigError } from '../errors.js';
import type { LockConfig } from '../lock/lock-manager.js';
import { createCodecs } from '../migration/codecs.js';
import { OUTBOX_DEFAULTS, type OutboxConfig } from '../outbox/outbox-config.js';
import { parseWebhookUrls } from '../outbox/webhook-endpoint.js';
import { demoMap } from '../schema-map/demo-map.js';
import { type LoadedMap, loadMapFile } from '../schema-map/load-map.js';
import {
  assertDemoKeysStayLocal,
  assertKeyNotPlaceholder,
  assertKeysDistinct,
  assertTokensDistinct,
  bearerToken,
} from './secret-rules.js';

export type { DatabaseConfig } from '../db/open-database.js';

export interface KeyConfig {
  /**
   * The environment variables the map's codecs read, with their values: key
   * material never lives in the map file. On SQLite, the demo keys fill in
   * ORGSHIFT_LEGACY_KEY and ORGSHIFT_SECRET_KEY when they are unset.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** True when the built-in demo keys are in use (SQLite only). */
  readonly demo: boolean;
}

export interface OrgshiftConfig {
  readonly database: DatabaseConfig;
  readonly lock: LockConfig;
  readonly lockTtlMs: number;
  readonly lockWaitMs: number;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly apiToken: string | undefined;
    readonly adminToken: string | undefined;
  };
  readonly keys: KeyConfig;
  /** The schema map: the team's tables, and how each target value is derived. */
  readonly map: LoadedMap;
  /** Webhooks and the dispatcher of after-commit events. */
  readonly outbox: OutboxConfig;
}

/** Public demo keys: anyone can read them here, so they are refused on PostgreSQL. */
export const DEMO_LEGACY_KEY = Buffer.alloc(32, 'orgshift-demo-legacy-key').toString('base64');
export const DEMO_SECRET_KEY = Buffer.alloc(32, 'orgshift-demo-current-key').toString('base64');

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

const envSchema = z.object({
  ORGSHIFT_DATABASE_URL: z
    .string()
    .default('sqlite:./orgshift.db')
    .refine(
      (url) => url.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(url),
      'must be sqlite:PATH, sqlite::memory: or postgres://…',
    ),
  ORGSHIFT_DATABASE_POOL_SIZE: positiveInt(1000).default(10),
  ORGSHIFT_LOCK: z.enum(['memory', 'postgres', 'redis']).optional(),
  // Each held or awaited PostgreSQL lock occupies a connection (the server does the waiting).
  ORGSHIFT_LOCK_POOL_SIZE: positiveInt(1000).default(20),
  ORGSHIFT_REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((url) => /^rediss?:\/\//.test(url), 'must be redis://… or rediss://…'),
  // Empty would put orgshift's keys among the application's own, where a FLUSH or a clash is one typo away.
  ORGSHIFT_REDIS_PREFIX: z.string().min(1, 'must not be empty').max(100).default('orgshift:'),
  ORGSHIFT_LOCK_TTL_MS: positiveInt(3_600_000).default(30_000),
  ORGSHIFT_LOCK_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
  ORGSHIFT_HOST: z.string().min(1).default('127.0.0.1'),
  ORGSHIFT_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  ORGSHIFT_API_TOKEN: bearerToken.optional(),
  ORGSHIFT_ADMIN_TOKEN: bearerToken.optional(),
  ORGSHIFT_MAP: z.string().min(1).optional(),
  ORGSHIFT_CONFIG: z.string().optional(),
  ORGSHIFT_WEBHOOK_URL: z.string().optional(),
  ORGSHIFT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  ORGSHIFT_WEBHOOK_TIMEOUT_MS: positiveInt(600_000).default(OUTBOX_DEFAULTS.timeoutMs),
  ORGSHIFT_OUTBOX_MAX_AGE_MS: positiveInt(30 * 24 * 3_600_000).default(OUTBOX_DEFAULTS.maxAgeMs),
  ORGSHIFT_OUTBOX_RETRY_BASE_MS: positiveInt(24 * 3_600_000).default(OUTBOX_DEFAULTS.retryBaseMs),
  ORGSHIFT_OUTBOX_RETRY_MAX_MS: positiveInt(24 * 3_600_000).default(OUTBOX_DEFAULTS.retryMaxMs),
  ORGSHIFT_OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(OUTBOX_DEFAULTS.pollMs),
  ORGSHIFT_OUTBOX_CONCURRENCY: positiveInt(1_000).default(OUTBOX_DEFAULTS.concurrency),
  ORGSHIFT_OUTBOX_DISPATCH: z.enum(['on', 'off'], 'must be on or off').default('on'),
});

/** Names the first bad key the way a user wrote it: `ORGSHIFT_PORT`. */
function firstIssue(error: z.ZodError, prefix: string): ConfigError {
  const issue = error.issues[0];
  const path = issue?.path.join('.') ?? '';
  return new ConfigError(prefix + path, issue?.message ?? 'invalid value');
}

/** The map named by ORGSHIFT_MAP, else ./orgshift.map.json when present, else the built-in demo map. */
function mapFrom(path: string | undefined, legacyConfig: string | undefined): LoadedMap {
  if (legacyConfig !== undefined || (path === undefined && existsSync('orgshift.config.json'))) {
    throw new ConfigError(
      legacyConfig !== undefined ? 'ORGSHIFT_CONFIG' : 'orgshift.config.json',
      'is no longer read: describe your tables in a schema map (ORGSHIFT_MAP, see docs/schema-map.md)',
    );
  }
  if (path !== undefined) return loadMapFile(path);
  if (existsSync('orgshift.map.json')) return loadMapFile('orgshift.map.json');
  return demoMap();
}

function databaseFrom(url: string, poolSize: number): DatabaseConfig {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path.length === 0) throw new ConfigError('ORGSHIFT_DATABASE_URL', 'sqlite: needs a path or :memory:');
    return { kind: 'sqlite', path };
  }
  try {
    new URL(url);
  } catch {
    throw new ConfigError('ORGSHIFT_DATABASE_URL', 'is not a valid URL');
  }
  return { kind: 'postgres', url, poolSize };
}

const DEMO_KEYS: Readonly<Record<string, string>> = Object.freeze({
  ORGSHIFT_LEGACY_KEY: DEMO_LEGACY_KEY,
  ORGSHIFT_SECRET_KEY: DEMO_SECRET_KEY,
});

/**
 * The key material the map's codecs name, read now so that a missing or
 * malformed key stops the program at start (exit 2, naming the variable,
 * never the value). The demo keys fill in only on SQLite.
 */
function keysFrom(env: NodeJS.ProcessEnv, map: LoadedMap, database: DatabaseConfig, host: string): KeyConfig {
  const names = new Set(
    Object.values(map.map.codecs ?? {}).flatMap((codec) => ('key' in codec ? [codec.key.env] : [])),
  );
  const values: Record<string, string | undefined> = {};
  let demo = false;
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      assertKeyNotPlaceholder(name, value);
      values[name] = value;
      continue;
    }
    const fallback = DEMO_KEYS[name];
    if (fallback === undefined) throw new ConfigError(name, `is required by the schema map's codecs`);
    if (database.kind !== 'sqlite')
      throw new ConfigError(name, 'is required with PostgreSQL (demo keys are for SQLite only)');
    assertDemoKeysStayLocal(name, host);
    values[name] = fallback;
    demo = true;
  }
  assertKeysDistinct(values);
  const frozen = Object.freeze(values);
  createCodecs(map.map.codecs ?? {}, frozen);
  return Object.freeze({ env: frozen, demo });
}

/**
 * Only the database, for commands that run before a map exists (`schema
 * init` drafts one): neither the map nor its keys are read.
 */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw firstIssue(parsed.error, '');
  return databaseFrom(parsed.data.ORGSHIFT_DATABASE_URL, parsed.data.ORGSHIFT_DATABASE_POOL_SIZE);
}

function outboxFrom(env: z.infer<typeof envSchema>): OutboxConfig {
  const webhooks = parseWebhookUrls(env.ORGSHIFT_WEBHOOK_URL);
  if (typeof webhooks === 'string') throw new ConfigError('ORGSHIFT_WEBHOOK_URL', webhooks);
  if (webhooks.length > 0 && env.ORGSHIFT_WEBHOOK_SECRET === undefined) {
    throw new ConfigError('ORGSHIFT_WEBHOOK_SECRET', 'is required when ORGSHIFT_WEBHOOK_URL is set');
  }
  if (env.ORGSHIFT_OUTBOX_RETRY_MAX_MS < env.ORGSHIFT_OUTBOX_RETRY_BASE_MS) {
    throw new ConfigError('ORGSHIFT_OUTBOX_RETRY_MAX_MS', 'must not be less than ORGSHIFT_OUTBOX_RETRY_BASE_MS');
  }
  return Object.freeze({
    webhooks: Object.freeze([...webhooks]),
    webhookSecret: env.ORGSHIFT_WEBHOOK_SECRET,
    timeoutMs: env.ORGSHIFT_WEBHOOK_TIMEOUT_MS,
    maxAgeMs: env.ORGSHIFT_OUTBOX_MAX_AGE_MS,
    retryBaseMs: env.ORGSHIFT_OUTBOX_RETRY_BASE_MS,
    retryMaxMs: env.ORGSHIFT_OUTBOX_RETRY_MAX_MS,
    pollMs: env.ORGSHIFT_OUTBOX_POLL_MS,
    concurrency: env.ORGSHIFT_OUTBOX_CONCURRENCY,
    dispatch: env.ORGSHIFT_OUTBOX_DISPATCH === 'on',
  });
}

/**
 * Reads the configuration from the environment, then the optional config file.
 * Throws `ConfigError` naming the first bad key; never echoes a value, since
 * values may be secrets.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): OrgshiftConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw firstIssue(parsed.error, '');
  const e = parsed.data;
  assertTokensDistinct(e.ORGSHIFT_API_TOKEN, e.ORGSHIFT_ADMIN_TOKEN);
  const map = mapFrom(e.ORGSHIFT_MAP, e.ORGSHIFT_CONFIG);
  const database = databaseFrom(e.ORGSHIFT_DATABASE_URL, e.ORGSHIFT_DATABASE_POOL_SIZE);
  const lockKind = e.ORGSHIFT_LOCK ?? (database.kind === 'sqlite' ? 'memory' : 'postgres');
  if (lockKind === 'postgres' && database.kind !== 'postgres') {
    throw new ConfigError('ORGSHIFT_LOCK', 'postgres locks need a postgres:// ORGSHIFT_DATABASE_URL');
  }
  const lock: LockConfig =
    lockKind === 'memory'
      ? { kind: 'memory' }
      : lockKind === 'postgres'
        ? { kind: 'postgres', url: (database as { url: string }).url, poolSize: e.ORGSHIFT_LOCK_POOL_SIZE }
        : { kind: 'redis', url: e.ORGSHIFT_REDIS_URL, prefix: e.ORGSHIFT_REDIS_PREFIX };
  return Object.freeze({
    database,
    lock,
    lockTtlMs: e.ORGSHIFT_LOCK_TTL_MS,
    lockWaitMs: e.ORGSHIFT_LOCK_WAIT_MS,
    http: Object.freeze({
      host: e.ORGSHIFT_HOST,
      port: e.ORGSHIFT_PORT,
      apiToken: e.ORGSHIFT_API_TOKEN,
      adminToken: e.ORGSHIFT_ADMIN_TOKEN,
    }),
    keys: keysFrom(env, map, database, e.ORGSHIFT_HOST),
    map,
    outbox: outboxFrom(e),
  });
}
