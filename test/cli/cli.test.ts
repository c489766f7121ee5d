import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

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
    expect(orgshift(['db', 'migrate']).stdout).toContain('applied: 001_organizations, 002_outbox');
    expect(orgshift(['db', 'migrate']).stdout).toContain('schema up to date');
    expect(orgshift(['seed', '--users', '25', '--dependents', '2']).code).toBe(0);
    const status = orgshift(['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({
      legacyTotal: 25,
      migrated: 0,
      pending: 25,
      failed: 0,
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

  it('prints the user JSON of DESIGN §6 and a clean verification', async () => {
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
});
