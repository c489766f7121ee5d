import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe } from 'vitest';

/**
 * Integration tests talk to the real PostgreSQL and Redis. Without them a
 * local run skips those tests and says so loudly (see global-setup.ts);
 * with CI=true a missing server fails the run instead.
 */
export const PG_ADMIN_URL = process.env.ORGSHIFT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.ORGSHIFT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

async function probePostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeRedis(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function required(name: string, available: boolean): boolean {
  if (!available && IN_CI)
    throw new Error(`CI=true and ${name} is not reachable: integration tests must not be skipped`);
  return available;
}

export const hasPostgres = required('PostgreSQL', await probePostgres());
export const hasRedis = required('Redis', await probeRedis());

/** `describe` that runs only with PostgreSQL (and skips, loudly, without it). */
export const describePostgres = describe.skipIf(!hasPostgres);
export const describeRedis = describe.skipIf(!hasRedis);
export const describePostgresRedis = describe.skipIf(!hasPostgres || !hasRedis);

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** A fresh database per test file, so files run in parallel and never see leftovers. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `orgshift_t_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A Redis key prefix no other test file uses. */
export function testRedisPrefix(label: string): string {
  return `orgshift-test:${label}:${randomBytes(4).toString('hex')}:`;
}
