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

/**
 * A key variable holding one character or one byte repeated ("AAAA…" is 32
 * zero bytes in base64) is a placeholder, whatever the codec makes of it.
 */
export function assertKeyNotPlaceholder(name: string, value: string): void {
  const decoded = Buffer.from(value, 'base64').toString('latin1');
  if (distinctCharacters(value) > 1 && (decoded.length === 0 || distinctCharacters(decoded) > 1)) return;
  throw new ConfigError(
    name,
    'is one byte repeated (all zeros, say); use a random key such as `openssl rand -base64 32`',
  );
}

/** Each token opens only its own scope; one value for both would make the API token an admin token. */
export function assertTokensDistinct(apiToken: string | undefined, adminToken: string | undefined): void {
  if (apiToken !== undefined && apiToken === adminToken) {
    throw new ConfigError('ORGSHIFT_ADMIN_TOKEN', 'must differ from ORGSHIFT_API_TOKEN');
  }
}

/**
 * Two key variables with one value: the legacy key copied into the current
 * one, say, which makes the migration's re-encryption a no-op and ties the
 * new secrets to the old key. The later variable is named.
 */
export function assertKeysDistinct(values: Readonly<Record<string, string | undefined>>): void {
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const first = seen.get(value);
    if (first !== undefined) throw new ConfigError(name, `must differ from ${first}`);
    seen.set(value, name);
  }
}

/** The demo keys are published in this repository: fine for a laptop, not for a server others can reach. */
export function assertDemoKeysStayLocal(missingKey: string, host: string): void {
  if (isLoopbackHost(host)) return;
  throw new ConfigError(
    missingKey,
    'is required when ORGSHIFT_HOST listens beyond loopback (the demo keys are public)',
  );
}
