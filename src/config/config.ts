import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_LEGACY_SCHEMA, type LegacySchema, SQL_IDENTIFIER } from '../db/legacy-schema.js';
import { ConfigError } from '../errors.js';
import type { LockConfig } from '../lock/lock-manager.js';
import { OUTBOX_DEFAULTS, type OutboxConfig } from '../outbox/outbox-config.js';
import { parseWebhookUrls } from '../outbox/webhook-endpoint.js';

export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number };

export interface KeyConfig {
  /** 32-byte AES-256 key the legacy system encrypted secrets with. */
  readonly legacy: Buffer;
  /** 32-byte AES-256 key for secrets written by orgshift. */
  readonly current: Buffer;
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
  readonly legacy: LegacySchema;
  /** Webhooks and the dispatcher of after-commit events. */
  readonly outbox: OutboxConfig;
}

/** Public demo keys: anyone can read them here, so they are refused on PostgreSQL. */
export const DEMO_LEGACY_KEY = Buffer.alloc(32, 'orgshift-demo-legacy-key').toString('base64');
export const DEMO_SECRET_KEY = Buffer.alloc(32, 'orgshift-demo-current-key').toString('base64');

const base64Key = z
  .string()
  .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be 32 bytes, base64-encoded');

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
  ORGSHIFT_REDIS_PREFIX: z.string().max(100).default('orgshift:'),
  ORGSHIFT_LOCK_TTL_MS: positiveInt(3_600_000).default(30_000),
  ORGSHIFT_LOCK_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
  ORGSHIFT_HOST: z.string().min(1).default('127.0.0.1'),
  ORGSHIFT_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  ORGSHIFT_API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ORGSHIFT_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ORGSHIFT_LEGACY_KEY: base64Key.optional(),
  ORGSHIFT_SECRET_KEY: base64Key.optional(),
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

const identifier = z.string().regex(SQL_IDENTIFIER, 'must be a lower-case SQL identifier');

const fileSchema = z
  .object({
    dependents: z
      .array(z.object({ table: identifier, payloadColumn: identifier }).strict())
      .max(50)
      .optional(),
    orgSettingsKeys: z.array(z.string().min(1).max(200)).max(200).optional(),
    legacy: z
      .object({
        usersTable: identifier.optional(),
        columns: z
          .object({
            id: identifier,
            email: identifier,
            displayName: identifier,
            settings: identifier,
            apiKeyEnc: identifier,
            createdAt: identifier,
            migratedAt: identifier,
          })
          .partial()
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof fileSchema>;

/** Names the first bad key the way a user wrote it: `ORGSHIFT_PORT` or `orgshift.config.json: dependents.0.table`. */
function firstIssue(error: z.ZodError, prefix: string): ConfigError {
  const issue = error.issues[0];
  const path = issue?.path.join('.') ?? '';
  return new ConfigError(prefix + path, issue?.message ?? 'invalid value');
}

function readConfigFile(path: string | undefined): ConfigFile {
  const explicit = path !== undefined;
  const file = path ?? 'orgshift.config.json';
  if (!existsSync(file)) {
    if (explicit) throw new ConfigError('ORGSHIFT_CONFIG', `file ${file} does not exist`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ConfigError(file, 'is not valid JSON');
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) throw firstIssue(result.error, `${file}: `);
  return result.data;
}

function legacySchemaFrom(file: ConfigFile): LegacySchema {
  const tables = file.dependents ?? DEFAULT_LEGACY_SCHEMA.dependents;
  const names = new Set(tables.map((d) => d.table));
  if (names.size !== tables.length) throw new ConfigError('dependents', 'a table is listed twice');
  return Object.freeze({
    usersTable: file.legacy?.usersTable ?? DEFAULT_LEGACY_SCHEMA.usersTable,
    columns: Object.freeze({ ...DEFAULT_LEGACY_SCHEMA.columns, ...file.legacy?.columns }),
    dependents: Object.freeze(tables.map((d) => Object.freeze({ ...d }))),
    orgSettingsKeys: Object.freeze([...(file.orgSettingsKeys ?? DEFAULT_LEGACY_SCHEMA.orgSettingsKeys)]),
  });
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

function keysFrom(env: z.infer<typeof envSchema>, database: DatabaseConfig): KeyConfig {
  const legacy = env.ORGSHIFT_LEGACY_KEY;
  const current = env.ORGSHIFT_SECRET_KEY;
  if (legacy !== undefined && current !== undefined) {
    return { legacy: Buffer.from(legacy, 'base64'), current: Buffer.from(current, 'base64'), demo: false };
  }
  if (database.kind === 'postgres') {
    const missing = legacy === undefined ? 'ORGSHIFT_LEGACY_KEY' : 'ORGSHIFT_SECRET_KEY';
    throw new ConfigError(missing, 'is required with PostgreSQL (demo keys are for SQLite only)');
  }
  return {
    legacy: Buffer.from(legacy ?? DEMO_LEGACY_KEY, 'base64'),
    current: Buffer.from(current ?? DEMO_SECRET_KEY, 'base64'),
    demo: true,
  };
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
  const file = readConfigFile(e.ORGSHIFT_CONFIG);
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
    keys: keysFrom(e, database),
    legacy: legacySchemaFrom(file),
    outbox: outboxFrom(e),
  });
}
