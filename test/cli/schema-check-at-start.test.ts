import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MAP } from '../../src/schema-map/demo-map.js';
import { CHILD_TEST_TIMEOUT_MS, exitWithin, startServe } from '../http/support/serve-child.js';
import { killAllCli, runCli } from '../ops/support/cli.js';
import { kyselyOf } from '../support/internals.js';
import { openTest, TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../support/open-test.js';

/**
 * `serve` and `backfill` check the schema map against the live database
 * before they do anything: a map the database cannot satisfy stops them
 * (schema_invalid, exit 2, pointing at `orgshift schema check`) before any
 * write; a missing index is a warning printed once on stderr, and they go on.
 */

const WARNING = /^orgshift: warning: schema check found \d+ index problems?/gm;

describe('the schema check at the start of serve and backfill (real CLI, SQLite)', {
  timeout: CHILD_TEST_TIMEOUT_MS,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgshift-start-check-'));
  const database = `sqlite:${join(dir, 'start.db')}`;
  const brokenMap = join(dir, 'broken.map.json');
  /** The demo map as a team's own file: serve then leaves the tables alone (the built-in demo would recreate its indexes). */
  const teamMap = join(dir, 'orgshift.map.json');
  const env = { ORGSHIFT_DATABASE_URL: database, ORGSHIFT_LOCK: 'memory' };
  const keys = { ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY, ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY };

  const migratedCount = async (): Promise<number> => {
    // Not migrating: the demo tables' DDL would put the dropped index back.
    const orgshift = await openTest(env, { migrate: false });
    try {
      return (await orgshift.status()).migrated;
    } finally {
      await orgshift.close();
    }
  };

  beforeAll(async () => {
    const orgshift = await openTest(env);
    try {
      await orgshift.seed({ users: 20, dependents: 1 });
      // Every migration then scans conversations for the user's rows: slow, not wrong.
      await sql`drop index conversations_user_id_idx`.execute(kyselyOf(orgshift));
    } finally {
      await orgshift.close();
    }
    const map = structuredClone(DEMO_MAP) as { target: { user: { email: string } } };
    map.target.user.email = 'e_mail';
    writeFileSync(brokenMap, JSON.stringify(map, null, 2));
    writeFileSync(teamMap, JSON.stringify(DEMO_MAP, null, 2));
  });

  afterAll(() => {
    killAllCli();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a map naming a missing column stops backfill and serve with exit 2 and the schema check message, before any write', async () => {
    const broken = { ...env, ORGSHIFT_MAP: brokenMap };
    const [backfill, serve] = await Promise.all([
      runCli(['backfill', '--json'], broken),
      runCli(['serve'], { ...broken, ORGSHIFT_HOST: '127.0.0.1', ORGSHIFT_PORT: '0' }),
    ]);
    for (const [name, run] of [
      ['backfill', backfill],
      ['serve', serve],
    ] as const) {
      expect({ name, code: run.code }).toEqual({ name, code: 2 });
      expect(run.stdout).not.toContain('listening');
      const said = name === 'backfill' ? JSON.parse(run.stdout).error.message : run.stderr;
      expect(said).toContain('the schema map does not match');
      expect(said).toContain('target.user.email (users.e_mail): column does not exist');
      expect(said).toContain('run `orgshift schema check`');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    expect(serve.stderr).toContain('orgshift: schema_invalid: ');
    expect(JSON.parse(backfill.stdout)).toMatchObject({ error: { code: 'schema_invalid' } });
    expect(await migratedCount()).toBe(0);
  });

  it('backfill prints a missing index once, as a warning on stderr, and migrates everyone', async () => {
    const run = await runCli(['backfill', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ migrated: 20, failed: 0 });
    expect(run.stderr.match(WARNING)).toHaveLength(1);
    expect(run.stderr).toContain('dependents.0.userKey.column  conversations(user_id): no index');
    expect(run.stderr).toContain('fix: create index "conversations_user_id_idx" on "conversations" ("user_id");');
  });

  it('serve prints it once too, and serves', async () => {
    const served = await startServe({ ...keys, ...env, ORGSHIFT_MAP: teamMap });
    const closed = once(served.child.process, 'close');
    try {
      expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await exitWithin(served.child, 30_000)).toBe(0);
    // Read once the process is gone: stderr is a separate pipe from the stdout line waited for.
    await closed;
    expect(served.child.stderr().match(WARNING)).toHaveLength(1);
    expect(served.child.stderr()).toContain('conversations(user_id): no index');
  });
});
