import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../support/open-test.js';

const dir = mkdtempSync(join(tmpdir(), 'orgshift-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DB = `sqlite:${join(dir, 'cli.db')}`;

function orgshift(args: readonly string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, ORGSHIFT_DATABASE_URL: DB, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Each spawn starts tsx from scratch (seconds on a loaded 2-core machine); a test makes several.
describe('orgshift CLI', { timeout: 240_000 }, () => {
  it('exits 2 and names the key for bad configuration, without a stack trace', () => {
    for (const [key, value] of [
      ['ORGSHIFT_LOCK_TTL_MS', 'soon'],
      ['ORGSHIFT_DATABASE_URL', 'mysql://nope'],
      ['ORGSHIFT_SECRET_KEY', 'dG9vIHNob3J0'],
    ] as const) {
      const run = orgshift(['status'], { [key]: value });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(key);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stderr).not.toContain('dG9vIHNob3J0');
    }
  });

  it('migrates idempotently, seeds, and reports status as one JSON document', () => {
    expect(orgshift(['db', 'migrate']).stdout).toContain('applied: 001_repair_queue');
    expect(orgshift(['db', 'migrate']).stdout).toContain('schema up to date');
    expect(orgshift(['seed', '--users', '25', '--dependents', '2']).code).toBe(0);
    const status = orgshift(['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({
      legacyTotal: 25,
      migrated: 0,
      pending: 25,
      failed: 0,
      invalid: { nullKeys: 0, duplicateKeys: 0 },
      outbox: { pending: 0, retrying: 0, dead: 0, oldestPendingSeconds: null },
      lock: { kind: 'memory', healthy: true },
    });
  });

  it('migrates and verifies one user, with exit codes for bad and unknown ids', () => {
    const bare = orgshift(['seed', '--users', '1', '--json']);
    expect(JSON.parse(bare.stdout)).toMatchObject({ users: 1 });
    const ids = orgshift(['status', '--json']);
    expect(JSON.parse(ids.stdout).legacyTotal).toBe(26);

    const missing = orgshift(['user', '00000000-0000-4000-8000-000000000000', '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).error.code).toBe('user_not_found');
    const invalid = orgshift(['user', "1' or '1'='1"]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('invalid_user_id');
    expect(orgshift(['frobnicate']).code).toBe(2);
    expect(orgshift(['seed', '--users', 'many']).code).toBe(2);
  });

  it('prints the documented user JSON and a clean verification', async () => {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(DB.slice('sqlite:'.length), { readonly: true });
    const { id } = db.prepare('select id from legacy_users limit 1').get() as { id: string };
    db.close();
    const user = orgshift(['user', id, '--json']);
    expect(user.code).toBe(0);
    const json = JSON.parse(user.stdout);
    expect(Object.keys(json)).toEqual(['id', 'email', 'displayName', 'migratedAt', 'currentOrg', 'memberships']);
    expect(json.memberships[0].role).toEqual({ name: 'owner', rank: 10 });
    const verify = orgshift(['verify', id, '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toEqual({ ok: true, state: 'migrated', violations: [] });
  });

  it('prints its version, the one in package.json', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const run = orgshift([flag]);
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe(version);
    }
  });

  it('states the accepted range of a numeric option, and accepts exactly that range', () => {
    for (const value of ['abc', '0']) {
      const run = orgshift(['backfill', '--concurrency', value]);
      expect(run.code, value).toBe(2);
      expect(run.stderr).toContain('--concurrency must be a whole number from 1 to 64');
    }
    expect(orgshift(['seed', '--users', '0']).stderr).toContain('--users must be a whole number from 1 to');
    // 0 is a valid number of dependents, and the message for a bad one says so.
    expect(orgshift(['seed', '--users', '1', '--dependents', '-1']).stderr).toContain('from 0 to 1000');
    expect(orgshift(['seed', '--users', '1', '--dependents', '0']).code).toBe(0);
    expect(orgshift(['backfill', '--concurrency', '1', '--dry-run', '--json']).code).toBe(0);
  });

  it('lists sample ids to try, unmigrated ones first', () => {
    const run = orgshift(['status', '--sample', '3', '--json']);
    expect(run.code).toBe(0);
    const { sample } = JSON.parse(run.stdout) as { sample: string[] };
    expect(sample).toHaveLength(3);
    for (const id of sample) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const user = orgshift(['user', sample[0] as string, '--json']);
    expect(user.code).toBe(0);
    expect(JSON.parse(user.stdout).migratedAt).not.toBeNull();
    expect(orgshift(['status']).stdout).not.toContain('sample ids');
    expect(orgshift(['status', '--sample', '0']).code).toBe(2);
  });

  it('warns about the public demo keys once per database, not on every command', () => {
    const fresh = `sqlite:${join(dir, 'warned.db')}`;
    const warning = 'public demo keys';
    const first = orgshift(['db', 'migrate'], { ORGSHIFT_DATABASE_URL: fresh });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(warning);
    expect(orgshift(['status'], { ORGSHIFT_DATABASE_URL: fresh }).stderr).not.toContain(warning);
    expect(orgshift(['status', '--json'], { ORGSHIFT_DATABASE_URL: fresh }).stderr).not.toContain(warning);
    // Another database is warned about on its own; so is one recreated where a deleted one was.
    expect(orgshift(['status'], { ORGSHIFT_DATABASE_URL: `sqlite:${join(dir, 'other.db')}` }).stderr).toContain(
      warning,
    );
    rmSync(join(dir, 'warned.db'));
    expect(orgshift(['status'], { ORGSHIFT_DATABASE_URL: fresh }).stderr).toContain(warning);
    // Real keys: no warning at all.
    const keys = { ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY, ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY };
    const real = orgshift(['db', 'migrate'], { ORGSHIFT_DATABASE_URL: `sqlite:${join(dir, 'real.db')}`, ...keys });
    expect(real.stderr).not.toContain(warning);
  });

  it('exits 2 naming the key when a token or key is a placeholder or reused', () => {
    const token = 'same-token-for-both-1234';
    const cases: [Record<string, string>, string][] = [
      [{ ORGSHIFT_API_TOKEN: token, ORGSHIFT_ADMIN_TOKEN: token }, 'ORGSHIFT_ADMIN_TOKEN'],
      [{ ORGSHIFT_API_TOKEN: 'x'.repeat(32) }, 'ORGSHIFT_API_TOKEN'],
      [{ ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY, ORGSHIFT_SECRET_KEY: TEST_LEGACY_KEY }, 'ORGSHIFT_SECRET_KEY'],
      [{ ORGSHIFT_HOST: '0.0.0.0', ORGSHIFT_API_TOKEN: 'api-token-0f3e9a7c1b2d' }, 'ORGSHIFT_LEGACY_KEY'],
    ];
    for (const [env, key] of cases) {
      const run = orgshift(['status'], env);
      expect(run.code, key).toBe(2);
      expect(run.stderr).toContain(key);
      for (const value of Object.values(env).filter((v) => v.length >= 16)) expect(run.stderr).not.toContain(value);
    }
  });
});
