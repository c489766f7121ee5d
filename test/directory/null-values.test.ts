import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/open-database.js';
import { demoTableStatements } from '../../src/demo/demo-tables.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { kyselyOf } from '../support/internals.js';
import { openTest, testConfig } from '../support/open-test.js';

/**
 * A NULL in a legacy row stays NULL through the migration, deep verification
 * compares it (the text 'null' in its place is a violation), and a rollback
 * writes NULL back. The demo map on both dialects, with the demo's email
 * columns made nullable (a team whose legacy table allows users without one).
 */

const DIALECTS = [BACKENDS[0], BACKENDS[1]].filter((b) => b !== undefined);

const NO_EMAIL = '0a0a0a0a-0000-4000-8000-000000000001';
const NO_NAME = '0a0a0a0a-0000-4000-8000-000000000002';
/** One JSON key of the user's preferences and one of the org's settings (the demo map splits them) hold JSON null. */
const SETTINGS = { theme: null, locale: 'fr', llm_model: null, llm_base_url: 'https://llm.example.com' };

interface Snapshot {
  readonly legacy: Record<string, unknown>;
  readonly user: Record<string, unknown> | undefined;
  readonly org: Record<string, unknown> | undefined;
}

function json(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

async function snapshot(orgshift: Orgshift, id: string): Promise<Snapshot> {
  const db = kyselyOf(orgshift);
  const legacy = await sql<Record<string, unknown>>`
    select email, display_name, settings from legacy_users where id = ${id}`.execute(db);
  const user = await sql<Record<string, unknown>>`
    select email, display_name, preferences from users where ${sql.raw(textOf(orgshift, 'id'))} = ${id}`.execute(db);
  const org = await sql<Record<string, unknown>>`
    select name, contact_email, settings from orgs where ${sql.raw(textOf(orgshift, 'id'))} = ${id}`.execute(db);
  const l = legacy.rows[0] as Record<string, unknown>;
  const u = user.rows[0];
  const o = org.rows[0];
  return {
    legacy: { ...l, settings: json(l.settings) },
    user: u && { ...u, preferences: json(u.preferences) },
    org: o && { ...o, settings: json(o.settings) },
  };
}

/** uuid on PostgreSQL, text on SQLite: compared as text either way. */
function textOf(orgshift: Orgshift, column: string): string {
  return internalsOf(orgshift).sql.asText(column);
}

describe.each(DIALECTS)('NULL stays NULL on $name', (backend) => {
  describe.skipIf(!backend.available)('', { timeout: 60_000 }, () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;

    beforeAll(async () => {
      instance = await backend.setup('null_values');
      // The demo's tables, created before orgshift's migration (which leaves existing tables alone), with nullable emails.
      const db = openDatabase(testConfig({ ...instance.env }).database);
      try {
        for (const statement of demoTableStatements(db.sql)) {
          await sql.raw(statement.replace(/email text not null/g, 'email text')).execute(db.kysely);
        }
      } finally {
        await db.close();
      }
      orgshift = await openTest({ ...instance.env }, { countsFlushMs: 3_600_000 });
      await orgshift.seed({ users: 2 });
      const settings = JSON.stringify(SETTINGS);
      await sql`insert into legacy_users (id, email, display_name, settings)
        values (${NO_EMAIL}, null, 'Nora Noemail', ${settings}), (${NO_NAME}, 'nameless@example.com', null, ${settings})`.execute(
        kyselyOf(orgshift),
      );
    });

    afterAll(async () => {
      await orgshift?.close();
      await instance?.teardown();
    });

    it('migrates NULL email, NULL display name and JSON nulls as NULL, and verifies them', async () => {
      const noEmail = await orgshift.getUser(NO_EMAIL);
      expect([noEmail.email, noEmail.displayName]).toEqual([null, 'Nora Noemail']);
      const noName = await orgshift.getUser(NO_NAME);
      expect([noName.email, noName.displayName]).toEqual(['nameless@example.com', null]);

      expect(await snapshot(orgshift, NO_EMAIL)).toMatchObject({
        user: { email: null, display_name: 'Nora Noemail', preferences: { theme: null, locale: 'fr' } },
        org: {
          name: 'Nora Noemail (personal)',
          contact_email: null,
          settings: { llm_model: null, llm_base_url: 'https://llm.example.com' },
        },
      });
      expect(await snapshot(orgshift, NO_NAME)).toMatchObject({
        user: { email: 'nameless@example.com', display_name: null },
        org: { name: 'nameless@example.com (personal)', contact_email: 'nameless@example.com' },
      });
      for (const id of [NO_EMAIL, NO_NAME])
        expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'migrated', violations: [] });
    });

    it("reports the text 'null' in place of a NULL as a violation of that field", async () => {
      const db = kyselyOf(orgshift);
      const id = textOf(orgshift, 'id');
      const tamper = [
        {
          on: NO_EMAIL,
          write: sql`update users set email = 'null' where ${sql.raw(id)} = ${NO_EMAIL}`,
          undo: sql`update users set email = null where ${sql.raw(id)} = ${NO_EMAIL}`,
          code: 'email_mismatch',
        },
        {
          on: NO_EMAIL,
          write: sql`update orgs set contact_email = 'null' where ${sql.raw(id)} = ${NO_EMAIL}`,
          undo: sql`update orgs set contact_email = null where ${sql.raw(id)} = ${NO_EMAIL}`,
          code: 'field_mismatch',
        },
        {
          on: NO_NAME,
          write: sql`update users set display_name = 'null' where ${sql.raw(id)} = ${NO_NAME}`,
          undo: sql`update users set display_name = null where ${sql.raw(id)} = ${NO_NAME}`,
          code: 'field_mismatch',
        },
        {
          on: NO_NAME,
          write: sql`update users set preferences = ${JSON.stringify({ theme: 'null', locale: 'fr' })} where ${sql.raw(id)} = ${NO_NAME}`,
          undo: sql`update users set preferences = ${JSON.stringify({ theme: null, locale: 'fr' })} where ${sql.raw(id)} = ${NO_NAME}`,
          code: 'settings_mismatch',
        },
      ];
      for (const { on, write, undo, code } of tamper) {
        await write.execute(db);
        const report = await orgshift.verifyUser(on);
        expect({ ok: report.ok, codes: report.violations.map((v) => v.code) }).toEqual({ ok: false, codes: [code] });
        await undo.execute(db);
        expect((await orgshift.verifyUser(on)).ok).toBe(true);
      }
    });

    it("refuses, and records, a user whose org name template has no value for a NOT NULL column: never the text 'null'", async () => {
      const id = '0a0a0a0a-0000-4000-8000-000000000003';
      await sql`insert into legacy_users (id, email, display_name) values (${id}, null, null)`.execute(
        kyselyOf(orgshift),
      );
      const report = await orgshift.backfill({ retryFailed: true });
      expect(report.failed).toBe(1);
      const failure = await sql<{ code: string; message: string }>`
        select code, message from orgshift_migration_failures where subject = ${id}`.execute(kyselyOf(orgshift));
      expect(failure.rows).toEqual([{ code: 'migration_failed', message: expect.stringContaining('NOT NULL') }]);
      expect(await snapshot(orgshift, id)).toMatchObject({ user: undefined, org: undefined });
      await sql`delete from legacy_users where id = ${id}`.execute(kyselyOf(orgshift));
    });

    it('rolls back NULL as NULL, and the JSON nulls as JSON nulls', async () => {
      for (const [id, email, displayName] of [
        [NO_EMAIL, null, 'Nora Noemail'],
        [NO_NAME, 'nameless@example.com', null],
      ] as const) {
        const report = await orgshift.rollbackUser(id);
        expect(report.discarded).toEqual([]);
        const after = await snapshot(orgshift, id);
        expect(after).toEqual({
          legacy: { email, display_name: displayName, settings: SETTINGS },
          user: undefined,
          org: undefined,
        });
      }
    });
  });
});
