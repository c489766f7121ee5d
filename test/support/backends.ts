import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LockManager } from '../../src/lock/lock-manager.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, testRedisPrefix } from './services.js';

/** A database + lock combination the directory must work on, set up from scratch per test file. */
export interface Backend {
  readonly name: string;
  readonly available: boolean;
  readonly crossProcessLock: boolean;
  setup(label: string): Promise<BackendInstance>;
}

export interface BackendInstance {
  /** Environment for loadConfig and for child processes. */
  readonly env: Readonly<Record<string, string>>;
  teardown(): Promise<void>;
}

const sqliteMemory: Backend = {
  name: 'SQLite + memory lock',
  available: true,
  crossProcessLock: false,
  async setup() {
    const dir = mkdtempSync(join(tmpdir(), 'orgshift-'));
    return {
      env: { ORGSHIFT_DATABASE_URL: `sqlite:${join(dir, 'test.db')}`, ORGSHIFT_LOCK: 'memory' },
      async teardown() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

function postgresWith(lock: 'postgres' | 'redis'): Backend {
  return {
    name: `PostgreSQL + ${lock} lock`,
    available: hasPostgres && (lock === 'postgres' || hasRedis),
    crossProcessLock: true,
    async setup(label) {
      const db = await createTestDatabase(label);
      const lockEnv: Record<string, string> =
        lock === 'redis'
          ? { ORGSHIFT_LOCK: 'redis', ORGSHIFT_REDIS_URL: REDIS_URL, ORGSHIFT_REDIS_PREFIX: testRedisPrefix(label) }
          : { ORGSHIFT_LOCK: 'postgres', ORGSHIFT_LOCK_POOL_SIZE: '8' };
      // Small pools: tests open several instances and processes against a server capped at 100 connections.
      return {
        env: { ORGSHIFT_DATABASE_URL: db.url, ORGSHIFT_DATABASE_POOL_SIZE: '4', ...lockEnv },
        teardown: () => db.drop(),
      };
    },
  };
}

export const BACKENDS: readonly Backend[] = [sqliteMemory, postgresWith('postgres'), postgresWith('redis')];

/** A real lock manager that also counts what it was asked, so tests can prove "no lock taken". */
export function countingLocks(inner: LockManager): LockManager & { readonly acquired: string[] } {
  const acquired: string[] = [];
  return {
    kind: inner.kind,
    acquired,
    acquire(key, opts) {
      acquired.push(key);
      return inner.acquire(key, opts);
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}
