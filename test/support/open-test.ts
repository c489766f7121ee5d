import { createHash } from 'node:crypto';
import { loadConfig, type OrgshiftConfig } from '../../src/config/config.js';
import { type OpenOptions, type Orgshift, open } from '../../src/orgshift.js';

/** Test keys: fixed, so a failing test can be replayed; never the demo keys' role. */
export const TEST_LEGACY_KEY = testKey('legacy');
export const TEST_SECRET_KEY = testKey('current');

/** 32 bytes that are not one byte repeated (the configuration refuses those as placeholders). */
function testKey(label: string): string {
  return createHash('sha256').update(`orgshift-test-${label}-key`).digest('base64');
}

export function testConfig(env: Record<string, string>): OrgshiftConfig {
  return loadConfig({
    ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY,
    ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY,
    ...env,
  });
}

/** Opens orgshift on the given database URL with migrated schema. */
export async function openTest(env: Record<string, string>, options: OpenOptions = {}): Promise<Orgshift> {
  return open(testConfig(env), { migrate: true, ...options });
}
