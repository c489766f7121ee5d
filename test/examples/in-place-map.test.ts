import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInPlaceData, type InPlaceManifest } from '../../examples/in-place/generate.js';
import { applyInPlaceSchema } from '../../examples/in-place/schema.js';
import { loadConfig } from '../../src/config/config.js';
import { isOrgshiftError } from '../../src/errors.js';
import { inspectDatabase, migrateDatabase, type Orgshift, open } from '../../src/orgshift.js';
import { createSecretCodec } from '../../src/secrets/create-secret-codec.js';
import { TEST_SECRET_KEY } from '../support/open-test.js';
import { IN_PLACE_SETUPS, type InPlaceSetup, rowsOf } from './support/in-place-setups.js';

/**
 * A Prisma app's own tables (examples/in-place/): the users table IS the
 * user table. Quoted camelCase identifiers, ids the app generates, the role
 * a string on the membership, an org with a required unique slug, team orgs
 * that exist before anyone migrates, users the app created in the new shape,
 * dependents keyed by "userId" with an "organizationId". The map in
 * examples/in-place/orgshift.map.json, the same end-to-end checks on
 * PostgreSQL and SQLite.
 */
const MAP = fileURLToPath(new URL('../../examples/in-place/orgshift.map.json', import.meta.url));
const USERS = 500;
const NATIVE = 20;
const current = createSecretCodec({ codec: 'aes-256-gcm', key: { env: 'K' } }, { K: TEST_SECRET_KEY }, 'test');

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return isOrgshiftError(error) ? error.code : `unexpected: ${String(error)}`;
  }
}

describe.each(IN_PLACE_SETUPS)('the in-place (Prisma) map on $name, end to end', (setup) => {
  describe.skipIf(!setup.available)('', () => {
    let db: InPlaceSetup;
    let manifest: InPlaceManifest;
    let orgshift: Orgshift;
    const rows = (text: string, ...params: unknown[]) => rowsOf(orgshift, text, ...params);
    const count = async (text: string, ...params: unknown[]) =>
      Number(Object.values((await rows(text, ...params))[0] ?? {})[0]);

    beforeAll(async () => {
      db = await setup.create('in_place_map');
      await applyInPlaceSchema(db.target);
      manifest = await generateInPlaceData(db.target, {
        users: USERS + NATIVE,
        nativeUsers: NATIVE,
        seed: 7,
        sqliteTimestamps: 'iso8601',
      });
      if (db.target.kind === 'sqlite') db.target.db.close();
      const config = loadConfig({
        ORGSHIFT_DATABASE_URL: db.url,
        ORGSHIFT_MAP: MAP,
        ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY,
      });
      expect(await inspectDatabase(config)).toEqual([]);
      const report = await migrateDatabase(config);
      // Nothing in the app's tables changes: the map opts into nothing.
      expect(report.changes).toEqual([]);
      orgshift = await open(config);
    });
    afterAll(async () => {
      await orgshift?.close();
      await db?.close();
    });

    it('counts the users the app created in the new shape as migrated, and the rest as pending', async () => {
      expect(await orgshift.status()).toEqual({
        legacyTotal: manifest.counts.users,
        migrated: manifest.counts.nativeUsers,
        pending: manifest.counts.legacyUsers,
        failed: 0,
        invalid: { nullKeys: 0, duplicateKeys: 0 },
        // No webhook and no handler: no event is written.
        outbox: { pending: 0, retrying: 0, dead: 0, oldestPendingSeconds: null },
      });
    });

    it('migrates just in time: a personal org with a unique slug and app-shaped ids, an owner membership holding the key encrypted, the user pointed at it', async () => {
      const samples = manifest.samples.filter((s) => s.kind === 'legacy').slice(0, 12);
      for (const sample of samples) {
        const user = await orgshift.getUser(sample.id);
        const org = user.currentOrg;
        expect(org.kind).toBe('personal');
        expect(org.id).toMatch(/^c[0-9a-z]{24}$/);
        expect(org.name).toBe(sample.name === null || sample.name.trim() === '' ? sample.email : sample.name);
        expect(user.email).toBe(sample.email);
        expect(user.displayName).toBe(sample.name);
        // Team memberships from before the migration are still there, beside the new owner membership.
        expect(user.memberships.map((m) => m.role.name).sort()).toEqual(
          ['owner', ...sample.teamMemberships.map((t) => t.role)].sort(),
        );
        const [row] = await rows(`select "slug", "ownerId", "billingEmail" from "Organization" where "id" = ?`, org.id);
        expect(row?.ownerId).toBe(sample.id);
        expect(row?.billingEmail).toBe(sample.email);
        expect(String(row?.slug)).toMatch(/^[a-z0-9-]+-[0-9a-z]{10}$/);
        const [member] = await rows(
          `select "id", "role", "apiKeyEnc" from "Membership" where "organizationId" = ? and "userId" = ?`,
          org.id,
          sample.id,
        );
        expect(member?.role).toBe('owner');
        expect(String(member?.id)).toMatch(/^c[0-9a-z]{24}$/);
        const enc = member?.apiKeyEnc;
        expect(enc === null ? null : current.decode(String(enc), { ownerId: sample.id, column: 'apiKeyEnc' })).toBe(
          sample.apiKey,
        );
        // Unassigned rows moved to the personal org; rows made in a team stayed there.
        expect(
          await count(`select count(*) from "Project" where "userId" = ? and "organizationId" is null`, sample.id),
        ).toBe(0);
        expect(
          await count(`select count(*) from "Project" where "userId" = ? and "organizationId" = ?`, sample.id, org.id),
        ).toBe(sample.dependents.withoutOrganization.projects);
        expect(await orgshift.verifyUser(sample.id)).toEqual({ ok: true, state: 'migrated', violations: [] });
      }
    });

    it('backfills the rest; the users the app created are left as they were; the audit is clean', async () => {
      const nativeOrgs = await count(`select count(*) from "Organization" where "personal" = ?`, true);
      const report = await orgshift.backfill();
      expect(report).toMatchObject({ failed: 0, invalidKeys: 0 });
      expect(await orgshift.status()).toMatchObject({ migrated: manifest.counts.users, pending: 0, failed: 0 });
      expect(await count(`select count(*) from "Organization" where "personal" = ?`, true)).toBe(
        nativeOrgs + report.migrated,
      );
      expect(await count(`select count(*) from "Organization" where "personal" = ?`, true)).toBe(manifest.counts.users);
      // Every slug unique, every team's rows where they were.
      expect(await count(`select count(*) - count(distinct "slug") from "Organization"`)).toBe(0);
      expect(await count(`select count(*) from "Project" where "organizationId" is null`)).toBe(0);
      for (const team of manifest.teamOrganizations) {
        expect(await count(`select count(*) from "Membership" where "organizationId" = ?`, team.id)).toBe(
          team.members.length,
        );
      }
      const audit = await orgshift.audit();
      expect(audit.violations).toEqual([]);
      // Only "billingEmail" (a column) is compared in SQL; the rest is named, with the reason.
      const named = audit.notChecked.flatMap((n) => (n.reason.split(': ')[0] ?? '').split(', ')).sort();
      expect(named).toEqual(
        [
          'target.org.fields.name',
          'target.org.fields.slug',
          'target.org.fields.createdAt',
          'target.org.fields.updatedAt',
          'target.membership.fields.apiKeyEnc',
          'target.membership.fields.createdAt',
        ].sort(),
      );
    });

    it('tells the users the app created in the new shape (native) from those orgshift migrated, whose fields it compares', async () => {
      for (const id of manifest.nativeUserIds.slice(0, 3)) {
        expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'native', violations: [] });
      }
      const migrated = manifest.samples.filter((s) => s.kind === 'legacy').slice(0, 3);
      for (const sample of migrated) {
        expect(await orgshift.verifyUser(sample.id)).toEqual({ ok: true, state: 'migrated', violations: [] });
      }
      // A migrated user's org that no longer matches its legacy source is found; a native user's org has none.
      const changed = migrated[0]?.id as string;
      const native = manifest.nativeUserIds[0] as string;
      const billing = `update "Organization" set "billingEmail" = ? where "ownerId" = ?`;
      const [{ billingEmail: before } = {}] = await rows(
        `select "billingEmail" from "Organization" where "ownerId" = ?`,
        changed,
      );
      await rows(billing, 'someone-else@example.com', changed);
      await rows(billing, 'billing-desk@example.com', native);
      const audit = await orgshift.audit();
      expect(audit.violations).toEqual([{ code: 'field_mismatch', count: 1, sample: [changed] }]);
      expect(await orgshift.verifyUser(changed)).toEqual({
        ok: false,
        state: 'migrated',
        violations: [
          { code: 'field_mismatch', message: '"Organization"."billingEmail" differs from its legacy source' },
        ],
      });
      expect(await orgshift.verifyUser(native)).toEqual({ ok: true, state: 'native', violations: [] });
      await rows(billing, before, changed);
      expect((await orgshift.audit()).violations).toEqual([]);
    });

    it("refuses keys that are not the app's ids before any I/O, and unknown ones as user_not_found", async () => {
      expect(await codeOf(orgshift.getUser("x' or '1'='1"))).toBe('invalid_user_id');
      expect(await codeOf(orgshift.getUser('00000000-0000-4000-8000-000000000000'))).toBe('invalid_user_id');
      expect(await codeOf(orgshift.getUser(`c${'0'.repeat(24)}`))).toBe('user_not_found');
    });

    it('rolls a user back: the key it moved goes back to the user row, its rows leave the org, a team member is refused', async () => {
      const solo = manifest.samples.find(
        (s) => s.kind === 'legacy' && s.teamMemberships.length === 0 && s.apiKey !== null,
      );
      const member = manifest.legacyUsersWithTeamMemberships[0];
      if (solo === undefined || member === undefined) throw new Error('fixture lacks the cases');
      expect(await codeOf(orgshift.rollbackUser(member))).toBe('rollback_refused');
      // A user the app created in the new shape was never migrated: there is nothing to roll back to.
      const native = manifest.nativeUserIds[1] as string;
      const before = await rows(`select * from "User" where "id" = ?`, native);
      expect(await codeOf(orgshift.rollbackUser(native))).toBe('rollback_refused');
      expect(await rows(`select * from "User" where "id" = ?`, native)).toEqual(before);
      const org = (await orgshift.getUser(solo.id)).currentOrg.id;
      const rotated = 'sk_live_rotated_after_migration';
      await rows(
        `update "Membership" set "apiKeyEnc" = ? where "organizationId" = ?`,
        current.encode(rotated, { ownerId: solo.id }),
        org,
      );
      const report = await orgshift.rollbackUser(solo.id);
      expect(report).toMatchObject({
        restored: ['apiKey'],
        discarded: [],
        dependentRows:
          solo.dependents.withoutOrganization.projects +
          solo.dependents.withoutOrganization.apiTokens +
          solo.dependents.withoutOrganization.invoices,
      });
      const [user] = await rows(`select "apiKey", "organizationId" from "User" where "id" = ?`, solo.id);
      expect(user).toEqual({ apiKey: rotated, organizationId: null });
      expect(await count(`select count(*) from "Organization" where "id" = ?`, org)).toBe(0);
      expect(await orgshift.verifyUser(solo.id)).toEqual({ ok: true, state: 'pending', violations: [] });
      expect(await count('select count(*) from orgshift_in_place_migrations where user_key = ?', solo.id)).toBe(0);
      await orgshift.getUser(solo.id);
      expect(await orgshift.verifyUser(solo.id)).toEqual({ ok: true, state: 'migrated', violations: [] });
      expect((await orgshift.audit()).violations).toEqual([]);
    });
  });
});
