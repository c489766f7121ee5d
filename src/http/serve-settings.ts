import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './http-limits.js';
import type { LogLevel } from './logger.js';
import { DEFAULT_SHUTDOWN_GRACE_MS } from './shutdown.js';

/** Settings only `orgshift serve` reads; validated like the rest of the configuration (exit 2 naming the key). */
export interface ServeSettings {
  readonly logLevel: LogLevel;
  /** How long in-flight requests may run after SIGTERM before their connections are cut. */
  readonly shutdownGraceMs: number;
  readonly limits: HttpLimits;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const milliseconds = (fallback: number) =>
  z.coerce.number('must be a number of milliseconds').int().min(1).max(3_600_000).default(fallback);

const schema = z.object({
  ORGSHIFT_LOG_LEVEL: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'),
  ORGSHIFT_SHUTDOWN_GRACE_MS: z.coerce
    .number('must be a number of milliseconds')
    .int()
    .min(0)
    .max(600_000)
    .default(DEFAULT_SHUTDOWN_GRACE_MS),
  ORGSHIFT_HTTP_HEADERS_TIMEOUT_MS: milliseconds(DEFAULT_HTTP_LIMITS.headersTimeoutMs),
  ORGSHIFT_HTTP_REQUEST_TIMEOUT_MS: milliseconds(DEFAULT_HTTP_LIMITS.requestTimeoutMs),
  ORGSHIFT_HTTP_KEEP_ALIVE_TIMEOUT_MS: milliseconds(DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs),
  ORGSHIFT_HTTP_CONNECTION_TIMEOUT_MS: milliseconds(DEFAULT_HTTP_LIMITS.connectionTimeoutMs),
  ORGSHIFT_HTTP_MAX_CONNECTIONS: z.coerce
    .number('must be a number of connections')
    .int()
    .min(1)
    .max(1_000_000)
    .default(DEFAULT_HTTP_LIMITS.maxConnections),
});

export function serveSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ServeSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? 'environment'), issue?.message ?? 'invalid value');
  }
  const e = parsed.data;
  // Node refuses the combination; say so in our words, naming the key.
  if (e.ORGSHIFT_HTTP_HEADERS_TIMEOUT_MS > e.ORGSHIFT_HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('ORGSHIFT_HTTP_HEADERS_TIMEOUT_MS', 'must not exceed ORGSHIFT_HTTP_REQUEST_TIMEOUT_MS');
  }
  return {
    logLevel: e.ORGSHIFT_LOG_LEVEL,
    shutdownGraceMs: e.ORGSHIFT_SHUTDOWN_GRACE_MS,
    limits: Object.freeze({
      headersTimeoutMs: e.ORGSHIFT_HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.ORGSHIFT_HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.ORGSHIFT_HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionTimeoutMs: e.ORGSHIFT_HTTP_CONNECTION_TIMEOUT_MS,
      maxConnections: e.ORGSHIFT_HTTP_MAX_CONNECTIONS,
    }),
  };
}
