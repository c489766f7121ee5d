import { Redis } from 'ioredis';
import pg from 'pg';

const PG_ADMIN_URL = process.env.ORGSHIFT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.ORGSHIFT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function reachable(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

/** Prints, before and after the run, which integration suites a missing server skipped. */
export default async function setup() {
  const postgres = await reachable(async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
    } finally {
      await client.end().catch(() => undefined);
    }
  });
  const redis = await reachable(async () => {
    const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
    r.on('error', () => undefined);
    try {
      await r.connect();
    } finally {
      r.disconnect();
    }
  });
  const missing = [postgres ? null : `PostgreSQL (${PG_ADMIN_URL})`, redis ? null : `Redis (${REDIS_URL})`].filter(
    (m): m is string => m !== null,
  );
  const banner = () => {
    if (missing.length === 0) return;
    const line = '!'.repeat(78);
    console.warn(
      `\n${line}\n!! NOT REACHABLE: ${missing.join(', ')}\n!! Every integration test that needs it was SKIPPED.\n!! Set CI=true to make this a failure.\n${line}\n`,
    );
  };
  banner();
  return banner;
}
