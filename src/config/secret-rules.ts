import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { isLoopbackHost } from '../net/loopback-address.js';

/**
 * Secrets that parse but cannot be what the operator meant: placeholders,
 * copy-paste slips and one value used for two jobs. Each is refused at
 * startup (exit 2, naming the key, never the value) instead of running with
 * it.
 */

const MIN_TOKEN_LENGTH = 16;
/** "aaaa…", "abab…" and friends; a random token of 16 characters has about 10 distinct ones. */
const MIN_DISTINCT_CHARACTERS = 4;

const distinctCharacters = (value: string) => new Set(value).size;

export const bearerToken = z
  .string()
  .min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`)
  // The Authorization header carries the token as one word; one with spaces could never match.
  .refine((value) => !/\s/.test(value), 'must not contain whitespace')
  .refine(
    (value) => distinctCharacters(value) >= MIN_DISTINCT_CHARACTERS,
    `is a placeholder (fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters); use a random value such as \`openssl rand -hex 32\``,
  );

const KEY_BYTES = 32;

export const aesKey = z
  .string()
  .refine((value) => Buffer.from(value, 'base64').length === KEY_BYTES, 'must be 32 bytes, base64-encoded')
  .refine(
    (value) => distinctCharacters(Buffer.from(value, 'base64').toString('latin1')) > 1,
    'is one byte repeated (all zeros, say); use a random key such as `openssl rand -base64 32`',
  );

/** Each token opens only its own scope; one value for both would make the API token an admin token. */
export function assertTokensDistinct(apiToken: string | undefined, adminToken: string | undefined): void {
  if (apiToken !== undefined && apiToken === adminToken) {
    throw new ConfigError('ORGSHIFT_ADMIN_TOKEN', 'must differ from ORGSHIFT_API_TOKEN');
  }
}

/** Re-encrypting a secret under the key it already has would make the migration's key rotation a no-op. */
export function assertKeysDistinct(legacy: Buffer, current: Buffer): void {
  if (legacy.equals(current)) throw new ConfigError('ORGSHIFT_SECRET_KEY', 'must differ from ORGSHIFT_LEGACY_KEY');
}

/** The demo keys are published in this repository: fine for a laptop, not for a server others can reach. */
export function assertDemoKeysStayLocal(missingKey: string, host: string): void {
  if (isLoopbackHost(host)) return;
  throw new ConfigError(
    missingKey,
    'is required when ORGSHIFT_HOST listens beyond loopback (the demo keys are public)',
  );
}
