import { TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../../support/open-test.js';
import { createTestDatabase, REDIS_URL, testRedisPrefix } from '../../support/services.js';

/** A fresh PostgreSQL database and Redis key prefix for one test file: the production combination. */
export interface PgRedis {
  /** Complete environment for loadConfig and for `orgshift serve` children. */
  readonly env: Readonly<Record<string, string>>;
  teardown(): Promise<void>;
}

export async function setupPgRedis(label: string): Promise<PgRedis> {
  const db = await createTestDatabase(label);
  return {
    env: Object.freeze({
      ORGSHIFT_DATABASE_URL: db.url,
      ORGSHIFT_LOCK: 'redis',
      ORGSHIFT_REDIS_URL: REDIS_URL,
      ORGSHIFT_REDIS_PREFIX: testRedisPrefix(label),
      ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY,
      ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY,
    }),
    teardown: () => db.drop(),
  };
}
