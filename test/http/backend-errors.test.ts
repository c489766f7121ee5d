import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/http/logger.js';
import { createLockManager } from '../../src/lock/create-lock-manager.js';
import type { LockConfig } from '../../src/lock/lock-manager.js';
import { internalsOf } from '../../src/orgshift.js';
import { openTest } from '../support/open-test.js';
import { call, closedPort } from './support/http-client.js';
import { listenLocal } from './support/local-server.js';

const REDIS_PASSWORD = 'redis-password-4c7e1b9a';

/** A redis-server that demands a password, owned by this file: the client sees NOAUTH or WRONGPASS. */
async function startPasswordRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', REDIS_PASSWORD, '--save', '', '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = once(child, 'exit').then(() => {
    throw new Error(`redis-server on ${port} exited`);
  });
  const ready = (async () => {
    for await (const line of lines) if (line.includes('Ready to accept connections')) return;
  })();
  await Promise.race([ready, exited]);
  return child;
}

/**
 * A lock backend that fails the way production ones do must reach the client
 * as its code and a generic message; the backend's own words (host:port,
 * ECONNREFUSED, a Redis reply) go to the log only.
 */
describe('503 answers for an unreachable or refusing lock backend', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgshift-backend-errors-'));
  const database = `sqlite:${join(dir, 'backend.db')}`;
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  let deadPort = 0;
  const ids: string[] = [];

  beforeAll(async () => {
    const seeding = await openTest({ ORGSHIFT_DATABASE_URL: database });
    try {
      await seeding.seed({ users: 10 });
      const rows = await sql<{ id: string }>`select id from legacy_users order by id`.execute(
        internalsOf(seeding).db.kysely,
      );
      ids.push(...rows.rows.map((r) => r.id));
    } finally {
      await seeding.close();
    }
    deadPort = await closedPort();
    redisPort = await closedPort();
    redis = await startPasswordRedis(redisPort);
  });
  afterAll(async () => {
    if (redis && redis.exitCode === null) {
      const exited = once(redis, 'exit');
      redis.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: readonly {
    name: string;
    lock: () => LockConfig;
    detail: RegExp;
    /** Nothing of this may reach the client. */
    hidden: () => readonly string[];
  }[] = [
    {
      name: 'a dead Redis (closed port)',
      lock: () => ({ kind: 'redis', url: `redis://127.0.0.1:${deadPort}` }),
      detail: /ECONNREFUSED/,
      hidden: () => ['ECONNREFUSED', String(deadPort), '127.0.0.1', 'redis'],
    },
    {
      name: 'a Redis that wants a password and got none',
      lock: () => ({ kind: 'redis', url: `redis://127.0.0.1:${redisPort}` }),
      detail: /NOAUTH/,
      hidden: () => ['NOAUTH', String(redisPort), '127.0.0.1', 'redis'],
    },
    {
      name: 'a Redis given the wrong password',
      lock: () => ({ kind: 'redis', url: `redis://:wrong-${REDIS_PASSWORD}@127.0.0.1:${redisPort}` }),
      detail: /WRONGPASS/,
      hidden: () => ['WRONGPASS', REDIS_PASSWORD, String(redisPort), '127.0.0.1', 'redis'],
    },
    {
      name: 'a PostgreSQL lock on a wrong port',
      lock: () => ({ kind: 'postgres', url: `postgres://postgres:pg-secret-1f2e@127.0.0.1:${deadPort}/test` }),
      detail: /ECONNREFUSED/,
      hidden: () => ['ECONNREFUSED', String(deadPort), '127.0.0.1', 'pg-secret-1f2e', 'postgres'],
    },
  ];

  it.each(cases)('$name', async ({ lock, detail, hidden }) => {
    const locks = createLockManager(lock());
    const orgshift = await openTest({ ORGSHIFT_DATABASE_URL: database }, { locks });
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', stream: { write: (line: string) => void lines.push(line) } });
    const server = await listenLocal(orgshift, { logger });
    try {
      const id = ids.shift() as string;
      const answers = [
        await call(server.url, `/v1/users/${id}`),
        await call(server.url, `/v1/admin/users/${id}/rollback`, { method: 'POST' }),
      ];
      for (const answer of answers) {
        expect(answer.status, answer.text).toBe(503);
        expect(answer.headers.get('retry-after')).not.toBeNull();
        expect(answer.json).toEqual({
          error: { code: 'lock_unavailable', message: 'the lock backend is unavailable; retry later' },
        });
        for (const word of hidden()) expect(answer.text).not.toContain(word);
      }
      // The first answer's detail is in the log, tied to its request id.
      const requestId = answers[0]?.headers.get('x-request-id');
      const logged = lines.find((line) => line.includes(`"reqId":"${requestId}"`) && line.includes('generic message'));
      expect(logged).toMatch(detail);
      expect(lines.join('')).not.toContain(REDIS_PASSWORD);
      // Never migrated without the lock.
      expect((await orgshift.verifyUser(id)).state).toBe('pending');
    } finally {
      await server.close();
      await orgshift.close();
      await locks.close();
    }
  });
});
