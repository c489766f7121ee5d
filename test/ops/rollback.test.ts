import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretCipher } from '../../src/crypto/secret-cipher.js';
import { isOrgshiftError } from '../../src/errors.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { kyselyOf } from '../support/internals.js';
import { openTest, TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../support/open-test.js';
import { legacyIds } from './support/tables.js';

const legacyCipher = new SecretCipher(Buffer.from(TEST_LEGACY_KEY, 'base64'));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return isOrgshiftError(error) ? error.code : `unexpected: ${String(error)}`;
  }
}

interface LegacySnapshot {
  readonly email: string;
  readonly settings: Record<string, unknown>;
  readonly secret: string | null;
  readonly migratedAt: unknown;
}

async function legacyRow(orgshift: Orgshift, id: string): Promise<LegacySnapshot> {
  const result = await sql<{ email: string; settings: unknown; api_key_enc: string | null; migrated_at: unknown }>`
    select email, settings, api_key_enc, migrated_at from legacy_users where id = ${id}`.execute(kyselyOf(orgshift));
  const row = result.rows[0];
  if (row === undefined) throw new Error(`no legacy row ${id}`);
  return {
    email: row.email,
    settings: { ...(typeof row.settings === 'string' ? JSON.parse(row.settings) : (row.settings as object)) },
    secret: row.api_key_enc === null ? null : legacyCipher.decrypt(row.api_key_enc, id),
    migratedAt: row.migrated_at,
  };
}

async function rowsOf(orgshift: Orgshift, id: string): Promise<Record<string, number>> {
  const count = async (query: ReturnType<typeof sql<{ n: number | string }>>) =>
    Number((await query.execute(kyselyOf(orgshift))).rows[0]?.n);
  return {
    users: await count(sql`select count(*) as n from users where id = ${id}`),
    orgs: await count(sql`select count(*) as n from orgs where id = ${id}`),
    members: await count(sql`select count(*) as n from org_members where user_id = ${id} or org_id = ${id}`),
    dependentsInOrg: await count(sql`select
      (select count(*) from conversations where user_id = ${id} and org_id is not null) +
      (select count(*) from api_keys where user_id = ${id} and org_id is not null) as n`),
  };
}

describe.each(BACKENDS)('rollback on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;
    let ids: string[];

    beforeAll(async () => {
      instance = await backend.setup('rollback');
      orgshift = await openTest({ ...instance.env });
      await orgshift.seed({ users: 12, dependents: 2, apiKeyShare: 1 });
      ids = await legacyIds(orgshift);
    });

    afterAll(async () => {
      await orgshift?.close();
      await instance?.teardown();
    });

    it('round-trips: the legacy row comes back as it was, and the next read migrates and verifies again', async () => {
      const id = ids[0] as string;
      const original = await legacyRow(orgshift, id);
      await orgshift.getUser(id);
      expect((await legacyRow(orgshift, id)).migratedAt).not.toBeNull();

      const dry = await orgshift.rollbackUser(id, { dryRun: true });
      expect(dry).toMatchObject({ id, dryRun: true, dependentRows: 4, discarded: [] });
      expect(await rowsOf(orgshift, id)).toMatchObject({ users: 1, orgs: 1, members: 1 });
      expect(await orgshift.rollbackUser(id)).toEqual({ ...dry, dryRun: false, copiesDeleted: 0 });
      const restored = await legacyRow(orgshift, id);
      expect(restored).toEqual({ ...original, migratedAt: null });
      expect(await rowsOf(orgshift, id)).toEqual({ users: 0, orgs: 0, members: 0, dependentsInOrg: 0 });
      expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'pending', violations: [] });

      const again = await orgshift.getUser(id);
      expect(again.currentOrg).toMatchObject({ id, kind: 'personal' });
      expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'migrated', violations: [] });
      expect(await rowsOf(orgshift, id)).toEqual({ users: 1, orgs: 1, members: 1, dependentsInOrg: 4 });
      expect((await orgshift.audit()).violations).toEqual([]);
    });

    it('carries changes made after the migration back to the legacy row', async () => {
      const id = ids[1] as string;
      const original = await legacyRow(orgshift, id);
      await orgshift.getUser(id);
      const rotated = 'sk-rotated-after-migration';
      const memberSecret = new SecretCipher(Buffer.from(TEST_SECRET_KEY, 'base64')).encrypt(rotated, id);
      const preferences = JSON.stringify({ ...original.settings, llm_model: undefined, theme: 'neon' });
      await sql`update org_members set api_key_enc = ${memberSecret} where user_id = ${id}`.execute(kyselyOf(orgshift));
      await sql`update users set preferences = ${preferences} where id = ${id}`.execute(kyselyOf(orgshift));

      await orgshift.rollbackUser(id);
      const restored = await legacyRow(orgshift, id);
      expect(restored.secret).toBe(rotated);
      expect(restored.settings).toEqual({ ...original.settings, theme: 'neon' });
    });

    it('refuses what the legacy model cannot hold, and validates the id first', async () => {
      const [team, member, host, guest, pending] = ids.slice(2, 7) as [string, string, string, string, string];
      for (const id of [team, member, host, guest]) await orgshift.getUser(id);
      const teamOrg = randomUUID();
      await sql`insert into orgs (id, kind, name, settings) values (${teamOrg}, 'team', 'Team', '{}')`.execute(
        kyselyOf(orgshift),
      );
      await sql`insert into org_members (org_id, user_id, role_id, status)
        values (${teamOrg}, ${team}, 3, 'active')`.execute(kyselyOf(orgshift));
      await sql`insert into org_members (org_id, user_id, role_id, status)
        values (${host}, ${guest}, 3, 'active')`.execute(kyselyOf(orgshift));
      const native = randomUUID();
      await orgshift.createUser({ id: native, email: 'native@example.com' });

      expect(await codeOf(orgshift.rollbackUser(team))).toBe('rollback_refused');
      expect(await codeOf(orgshift.rollbackUser(host))).toBe('rollback_refused');
      expect(await codeOf(orgshift.rollbackUser(native))).toBe('rollback_refused');
      expect(await codeOf(orgshift.rollbackUser(pending))).toBe('rollback_refused');
      expect(await codeOf(orgshift.rollbackUser(randomUUID()))).toBe('user_not_found');
      expect(await codeOf(orgshift.rollbackUser('not-a-uuid'))).toBe('invalid_user_id');
      // Refusals change nothing.
      expect(await rowsOf(orgshift, team)).toMatchObject({ users: 1, orgs: 1, members: 2 });
      expect(await rowsOf(orgshift, host)).toMatchObject({ users: 1, orgs: 1, members: 2 });
      // The member itself (in no other org) can still be rolled back.
      expect(await codeOf(orgshift.rollbackUser(member))).toBe('ok');
    });

    it("runs under the user's lock: a held lock makes it wait, then time out", async () => {
      const id = ids[8] as string;
      await orgshift.getUser(id);
      const impatient = await openTest(
        { ...instance.env, ORGSHIFT_LOCK_WAIT_MS: '100' },
        { locks: backend.crossProcessLock ? undefined : internalsOf(orgshift).locks },
      );
      const lease = await internalsOf(orgshift).locks.acquire(`user:${id}`, { ttlMs: 10_000, waitMs: 1_000 });
      try {
        expect(await codeOf(impatient.rollbackUser(id))).toBe('lock_timeout');
      } finally {
        await lease.release();
      }
      expect(await codeOf(impatient.rollbackUser(id))).toBe('ok');
      await impatient.close();
    });
  });
});
