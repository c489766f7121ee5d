import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type OrgshiftConfig } from '../../src/config/config.js';

const ADMIN_URL = process.env.ORGSHIFT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BENCH_REDIS_URL = process.env.ORGSHIFT_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BENCH_KEYS = {
  ORGSHIFT_LEGACY_KEY: createHash('sha256').update('orgshift-bench-legacy-key').digest('base64'),
  ORGSHIFT_SECRET_KEY: createHash('sha256').update('orgshift-bench-current-key').digest('base64'),
};

export interface BenchDatabase {
  readonly url: string;
  /** Environment for loadConfig and child processes: this database, a Redis lock with its own prefix. */
  readonly env: Readonly<Record<string, string>>;
  config(extra?: Record<string, string>): OrgshiftConfig;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A scratch PostgreSQL database for one benchmark, dropped afterwards. */
export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const name = `orgshift_bench_${label.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const env = {
    ...BENCH_KEYS,
    ORGSHIFT_DATABASE_URL: url.toString(),
    ORGSHIFT_LOCK: 'redis',
    ORGSHIFT_REDIS_URL: BENCH_REDIS_URL,
    ORGSHIFT_REDIS_PREFIX: `orgshift-bench:${name}:`,
  };
  return {
    url: url.toString(),
    env,
    config: (extra = {}) => loadConfig({ ...env, ...extra }),
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}
