import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnTs } from '../support/child.js';
import { TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../support/open-test.js';
import { call } from './support/http-client.js';
import {
  CHILD_START_MS,
  CHILD_TEST_TIMEOUT_MS,
  exitWithin,
  type ServeChild,
  startServe,
} from './support/serve-child.js';

describe('orgshift serve', () => {
  let dir: string;
  const children: ServeChild[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orgshift-serve-'));
  });
  afterAll(() => {
    for (const { child } of children) child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    '--demo migrates, seeds 1,000 users, prints a curl that answers 200, and stops on SIGTERM with exit 0',
    async () => {
      const served = await startServe({ ORGSHIFT_DATABASE_URL: `sqlite:${join(dir, 'demo.db')}` }, ['--demo']);
      children.push(served);
      const curl = await served.nextLine(10_000);
      const match = /^try: curl (http:\/\/127\.0\.0\.1:\d+\/v1\/users\/[0-9a-f-]{36})$/.exec(curl);
      expect(match, curl).not.toBeNull();
      const answer = await fetch(String(match?.[1]));
      expect(answer.status).toBe(200);
      // More than one id to try, and where to find others.
      const more = await served.nextLine(10_000);
      expect(more).toMatch(/^more demo users:( [0-9a-f-]{36}){4}$/);
      for (const id of more.split(' ').slice(3)) {
        expect((await call(served.url, `/v1/users/${id}`)).status, id).toBe(200);
      }
      expect(await served.nextLine(10_000)).toMatch(/status --sample/);
      const status = await call(served.url, '/v1/admin/status');
      expect(status.json).toMatchObject({ legacyTotal: 1_000, migrated: 5, lock: { kind: 'memory', healthy: true } });
      served.child.kill('SIGTERM');
      expect(await exitWithin(served.child, 20_000)).toBe(0);
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  it(
    '--demo on an already seeded database does not seed again',
    async () => {
      const served = await startServe({ ORGSHIFT_DATABASE_URL: `sqlite:${join(dir, 'demo.db')}` }, ['--demo']);
      children.push(served);
      expect(await served.nextLine(10_000)).toMatch(/^try: curl /);
      expect((await call(served.url, '/v1/admin/status')).json).toMatchObject({ legacyTotal: 1_000 });
      served.child.kill('SIGINT');
      expect(await exitWithin(served.child, 20_000)).toBe(0);
      expect(served.child.stderr()).not.toContain('seeding');
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  const refusals: readonly [string, Record<string, string>, readonly string[], RegExp][] = [
    [
      'a non-loopback host without an API token',
      {
        ORGSHIFT_HOST: '0.0.0.0',
        ORGSHIFT_DATABASE_URL: 'sqlite::memory:',
        ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY,
        ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY,
      },
      [],
      /ORGSHIFT_HOST: refusing to listen on 0\.0\.0\.0 without ORGSHIFT_API_TOKEN/,
    ],
    [
      'the public demo keys on a non-loopback host',
      {
        ORGSHIFT_HOST: '0.0.0.0',
        ORGSHIFT_DATABASE_URL: 'sqlite::memory:',
        ORGSHIFT_API_TOKEN: 'api-token-3e8f1a6b9c2d',
      },
      ['--demo'],
      /ORGSHIFT_LEGACY_KEY: is required when ORGSHIFT_HOST listens beyond loopback/,
    ],
    [
      'an unknown log level',
      { ORGSHIFT_LOG_LEVEL: 'loud', ORGSHIFT_DATABASE_URL: 'sqlite::memory:' },
      [],
      /ORGSHIFT_LOG_LEVEL/,
    ],
    [
      '--demo on PostgreSQL',
      {
        ORGSHIFT_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/never_used',
        ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY,
        ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY,
      },
      ['--demo'],
      /--demo seeds demo users and only runs on SQLite/,
    ],
  ];

  it.concurrent.each(refusals)(
    'refuses %s with exit 2 and a message naming the key',
    async (_name, env, args, message) => {
      const child = spawnTs('src/cli/main.ts', ['serve', ...args], { ORGSHIFT_PORT: '0', ...env });
      expect(await exitWithin(child, CHILD_START_MS)).toBe(2);
      expect(child.stderr()).toMatch(message);
    },
    CHILD_TEST_TIMEOUT_MS,
  );
});
