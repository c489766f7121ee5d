import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretCipher } from '../../src/crypto/secret-cipher.js';
import { isOrgshiftError } from '../../src/errors.js';
import type { BackfillProgress } from '../../src/ops/backfill/options.js';
import type { Orgshift } from '../../src/orgshift.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { kyselyOf } from '../support/internals.js';
import { openTest, TEST_LEGACY_KEY } from '../support/open-test.js';
import { killAllCli, runCli } from './support/cli.js';
import { legacyIds, tableCounts } from './support/tables.js';

const USERS = 400;
const backends = BACKENDS.filter((b) => b.name !== 'PostgreSQL + postgres lock');

describe.each(backends)('backfill on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;
    let broken: string;

    beforeAll(async () => {
      instance = await backend.setup('backfill');
      orgshift = await openTest({ ...instance.env });
      await orgshift.seed({ users: USERS, dependents: 2, apiKeyShare: 1 });
      // A secret sealed for another owner: the legacy key cannot open it for this one.
      const ids = await legacyIds(orgshift);
      broken = ids[123] as string;
      const foreign = new SecretCipher(Buffer.from(TEST_LEGACY_KEY, 'base64')).encrypt(
        'sk-someone-else',
        ids[0] as string,
      );
      await sql`update legacy_users set api_key_enc = ${foreign} where id = ${broken}`.execute(kyselyOf(orgshift));
    });

    afterAll(async () => {
      killAllCli();
      await orgshift?.close();
      await instance?.teardown();
    });

    it('--dry-run counts what it would do, including the secret that will not decrypt, and writes nothing', async () => {
      const before = await tableCounts(orgshift);
      const report = await orgshift.backfill({ dryRun: true, batchSize: 64 });
      expect(report).toMatchObject({ migrated: USERS - 1, failed: 1, skipped: 0, dryRun: true });
      expect(await tableCounts(orgshift)).toEqual(before);
      const cli = await runCli(['backfill', '--dry-run', '--json'], { ...instance.env });
      expect(JSON.parse(cli.stdout)).toMatchObject({ migrated: USERS - 1, failed: 1, dryRun: true });
      expect(await tableCounts(orgshift)).toEqual(before);
    });

    it('stops at --limit and keeps under --rate', async () => {
      const started = performance.now();
      const report = await orgshift.backfill({ limit: 30, rate: 20 });
      // 20 users at once, the other 10 a second later.
      expect(performance.now() - started).toBeGreaterThanOrEqual(900);
      expect(report).toMatchObject({ migrated: 30, failed: 0 });
      expect((await tableCounts(orgshift)).legacyMigrated).toBe(30);
    });

    it('records a user that fails, goes on with the others, and reports it', async () => {
      const progress: BackfillProgress[] = [];
      const report = await orgshift.backfill({ batchSize: 50, onProgress: (p) => progress.push(p) });
      expect(report).toMatchObject({ migrated: USERS - 31, failed: 1, skipped: 0, interrupted: false });
      expect(progress.at(-1)).toMatchObject({ done: USERS - 30, total: USERS - 30, failed: 1 });
      const failures = await sql<{ subject: string; code: string; attempts: number }>`
        select subject, code, attempts from orgshift_migration_failures`.execute(kyselyOf(orgshift));
      expect(failures.rows.map((r) => ({ ...r, attempts: Number(r.attempts) }))).toEqual([
        { subject: broken, code: 'secret_undecryptable', attempts: 1 },
      ]);
      const counts = await tableCounts(orgshift);
      expect(counts).toMatchObject({ legacyMigrated: USERS - 1, users: USERS - 1, members: USERS - 1 });
      expect((await orgshift.audit()).violations).toEqual([]);
    });

    it('skips recorded failures by default (exit 0) and retries them on request (exit 1 while they fail)', async () => {
      const skip = await runCli(['backfill', '--json'], { ...instance.env });
      expect(skip.code, skip.stderr).toBe(0);
      expect(JSON.parse(skip.stdout)).toEqual({
        migrated: 0,
        skipped: 1,
        failed: 0,
        invalidKeys: 0,
        seconds: expect.any(Number),
      });

      const retry = await runCli(['backfill', '--retry-failed', '--json'], { ...instance.env });
      expect(retry.code).toBe(1);
      expect(JSON.parse(retry.stdout)).toMatchObject({ migrated: 0, skipped: 0, failed: 1 });
      const attempts = await sql<{ attempts: number }>`select attempts from orgshift_migration_failures`.execute(
        kyselyOf(orgshift),
      );
      expect(Number(attempts.rows[0]?.attempts)).toBe(2);

      // Once the secret is repaired, the retry migrates the user and clears its failure.
      const repaired = new SecretCipher(Buffer.from(TEST_LEGACY_KEY, 'base64')).encrypt('sk-repaired', broken);
      await sql`update legacy_users set api_key_enc = ${repaired} where id = ${broken}`.execute(kyselyOf(orgshift));
      expect(await orgshift.backfill({ retryFailed: true })).toMatchObject({ migrated: 1, failed: 0 });
      expect(await tableCounts(orgshift)).toMatchObject({ legacyMigrated: USERS, failures: 0 });
      expect(await orgshift.backfill()).toMatchObject({ migrated: 0, skipped: 0, failed: 0 });
    });

    it('rejects bad options with invalid_input (CLI: exit 2)', async () => {
      const code = await orgshift.backfill({ batchSize: 0 }).then(
        () => 'ok',
        (error: unknown) => (isOrgshiftError(error) ? error.code : String(error)),
      );
      expect(code).toBe('invalid_input');
      expect((await runCli(['backfill', '--rate', 'fast'], { ...instance.env })).code).toBe(2);
    });
  });
});
