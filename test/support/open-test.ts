import { loadConfig, type OrgshiftConfig } from '../../src/config/config.js';
import { type OpenOptions, type Orgshift, open } from '../../src/orgshift.js';

/** Test keys: fixed, so a failing test can be replayed; never the demo keys' role. */
export const TEST_LEGACY_KEY = Buffer.alloc(32, 7).toString('base64');
export const TEST_SECRET_KEY = Buffer.alloc(32, 9).toString('base64');

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
