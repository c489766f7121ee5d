import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { LogLevel } from './logger.js';
import { DEFAULT_SHUTDOWN_GRACE_MS } from './shutdown.js';

/** Settings only `orgshift serve` reads; validated like the rest of the configuration (exit 2 naming the key). */
export interface ServeSettings {
  readonly logLevel: LogLevel;
  /** How long in-flight requests may run after SIGTERM before their connections are cut. */
  readonly shutdownGraceMs: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const schema = z.object({
  ORGSHIFT_LOG_LEVEL: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'),
  ORGSHIFT_SHUTDOWN_GRACE_MS: z.coerce
    .number('must be a number of milliseconds')
    .int()
    .min(0)
    .max(600_000)
    .default(DEFAULT_SHUTDOWN_GRACE_MS),
});

export function serveSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ServeSettings {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? 'environment'), issue?.message ?? 'invalid value');
  }
  return { logLevel: parsed.data.ORGSHIFT_LOG_LEVEL, shutdownGraceMs: parsed.data.ORGSHIFT_SHUTDOWN_GRACE_MS };
}
