import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/db/database.js';
import { decodeLegacyRow, type LegacyRow, legacySelectList } from '../../src/migration/legacy-rows.js';
import { FenceViolationError, migrateLockedRows } from '../../src/migration/migrate.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { kyselyOf } from '../support/internals.js';
import { openTest } from '../support/open-test.js';

/** One backend per dialect: the lock plays no part in migrateLockedRows. */
const dialects = BACKENDS.filter((b) => b.name !== 'PostgreSQL + redis lock');

interface TrickyUser {
  readonly id: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly settings: Record<string, unknown>;
  readonly secret: string | null;
  readonly dependents: number;
}

/** Values that break naive quoting, JSON handling or null handling, one user each. */
function trickyUsers(): TrickyUser[] {
  const base = { settings: { theme: 'dark', llm_model: 'm' }, secret: 'sk-plain', dependents: 1 };
  return [
    { ...base, id: randomUUID(), email: 'plain@example.com', displayName: 'Plain' },
    { ...base, id: randomUUID(), email: 'nulls@example.com', displayName: null, secret: null, dependents: 0 },
    {
      ...base,
      id: randomUUID(),
      email: `o'brien+"x"\\@example.com`,
      displayName: `Ada "the first" O'Brien \\ 🚀 ünïcödé`,
      secret: `sk-'quote"-\\-🔑`,
      dependents: 3,
    },
    {
      ...base,
      id: randomUUID(),
      email: 'deep@example.com',
      displayName: 'Deep',
      settings: {
        nested: { a: [1, 'two', null, { b: false }] },
        empty: {},
        nothing: null,
        'key with "quotes"': "it's",
        llm_base_url: 'https://llm.example.com/v1?x=1&y=2',
        number: 1.5e-7,
      },
    },
    { ...base, id: randomUUID(), email: 'empty@example.com', displayName: '', settings: {}, secret: '' },
  ];
}

function legacyCodec(orgshift: Orgshift) {
  const codec = internalsOf(orgshift).migration.codecs.get('legacy');
  if (codec === undefined) throw new Error('the demo map has a legacy codec');
  return codec;
}

async function insertLegacy(orgshift: Orgshift, users: readonly TrickyUser[]): Promise<void> {
  const m = internalsOf(orgshift).sql;
  const table = sql.raw(m.legacy);
  for (const user of users) {
    const secret = user.secret === null ? null : legacyCodec(orgshift).encode(user.secret, { ownerId: user.id });
    await sql`insert into ${table} (id, email, display_name, settings, api_key_enc)
      values (${user.id}, ${user.email}, ${user.displayName}, ${JSON.stringify(user.settings)}, ${secret})`.execute(
      kyselyOf(orgshift),
    );
    for (const dependent of m.model.dependents) {
      for (let n = 0; n < user.dependents; n++) {
        await sql`insert into ${sql.raw(m.table(dependent.table))} (user_id) values (${user.id})`.execute(
          kyselyOf(orgshift),
        );
      }
    }
  }
}

async function count(orgshift: Orgshift, table: string): Promise<number> {
  const result = await sql<{ n: number | string }>`select count(*) as n from ${sql.raw(table)}`.execute(
    kyselyOf(orgshift),
  );
  return Number(result.rows[0]?.n);
}

/** Reads the given legacy rows in a write transaction and hands them to `fn`, as a claim would. */
function withLegacyRows<T>(
  orgshift: Orgshift,
  ids: readonly string[],
  fn: (trx: Executor, rows: LegacyRow[]) => Promise<T>,
): Promise<T> {
  const { db, sql: m } = internalsOf(orgshift);
  return db.writeTransaction(async (trx) => {
    const result = await sql<Record<string, unknown>>`select ${sql.raw(legacySelectList(m))}
      from ${sql.raw(m.legacy)} l
      where l.id in (${sql.join(ids)}) order by l.id`.execute(trx);
    return fn(
      trx,
      result.rows.map((row) => decodeLegacyRow(m, row)),
    );
  });
}

describe.each(dialects)('migrateLockedRows on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;

    beforeAll(async () => {
      instance = await backend.setup('migrate_rows');
      orgshift = await openTest({ ...instance.env });
    });
    afterAll(async () => {
      await orgshift?.close();
      await instance?.teardown();
    });

    it('migrates a set of users in one call exactly as deep verification expects, tricky values included', async () => {
      const users = trickyUsers();
      await insertLegacy(orgshift, users);
      const result = await withLegacyRows(
        orgshift,
        users.map((u) => u.id),
        (trx, rows) => migrateLockedRows(trx, internalsOf(orgshift).migration, rows),
      );
      expect(result.migrated.map((u) => u.key).sort()).toEqual(users.map((u) => u.id).sort());
      expect(result.refused).toEqual([]);
      for (const user of users) {
        const report = await orgshift.verifyUser(user.id);
        expect(report, user.email).toEqual({ ok: true, state: 'migrated', violations: [] });
        const view = await orgshift.getUser(user.id);
        expect(view).toMatchObject({ email: user.email, displayName: user.displayName });
        expect(view.currentOrg).toEqual({
          id: user.id,
          kind: 'personal',
          name: `${user.displayName || user.email} (personal)`,
        });
      }
      expect((await orgshift.audit()).violations).toEqual([]);
    });

    it('leaves out a user whose secret does not decrypt and migrates the rest of the set', async () => {
      const users = trickyUsers().slice(0, 3);
      await insertLegacy(orgshift, users);
      const broken = users[1]!.id;
      const foreign = legacyCodec(orgshift).encode('sk-other', { ownerId: users[0]!.id });
      await sql`update legacy_users set api_key_enc = ${foreign} where id = ${broken}`.execute(kyselyOf(orgshift));
      const result = await withLegacyRows(
        orgshift,
        users.map((u) => u.id),
        (trx, rows) => migrateLockedRows(trx, internalsOf(orgshift).migration, rows),
      );
      expect(result.refused.map((r) => [r.key, r.error.code])).toEqual([[broken, 'secret_undecryptable']]);
      expect(result.migrated.map((u) => u.key).sort()).toEqual([users[0]!.id, users[2]!.id].sort());
      expect((await orgshift.verifyUser(broken)).state).toBe('pending');
    });

    it('reports rows that were already marked as such and writes nothing for them', async () => {
      const [user] = trickyUsers();
      await insertLegacy(orgshift, [user!]);
      await orgshift.getUser(user!.id);
      const orgs = await count(orgshift, 'orgs');
      const result = await withLegacyRows(orgshift, [user!.id], (trx, rows) =>
        migrateLockedRows(trx, internalsOf(orgshift).migration, rows),
      );
      expect(result).toEqual({ migrated: [], alreadyMigrated: [user!.id], refused: [] });
      expect(await count(orgshift, 'orgs')).toBe(orgs);
    });

    it('fails the whole set, writing nothing, when the fence finds one row marked behind its back', async () => {
      const users = trickyUsers();
      await insertLegacy(orgshift, users);
      const before = { orgs: await count(orgshift, 'orgs'), users: await count(orgshift, 'users') };
      const outcome = await withLegacyRows(
        orgshift,
        users.map((u) => u.id),
        async (trx, rows) => {
          // The rows in hand say "unmigrated"; the database now says otherwise for one of them,
          // as it would if a lock had been lost and another migrator had committed.
          await sql`update legacy_users set migrated_at = ${new Date().toISOString()} where id = ${users[2]!.id}`.execute(
            trx,
          );
          return migrateLockedRows(trx, internalsOf(orgshift).migration, rows);
        },
      ).then(
        () => 'committed',
        (error: unknown) => (error instanceof FenceViolationError ? error.code : String(error)),
      );
      expect(outcome).toBe('migration_failed');
      expect({ orgs: await count(orgshift, 'orgs'), users: await count(orgshift, 'users') }).toEqual(before);
      for (const user of users) expect((await orgshift.verifyUser(user.id)).state).toBe('pending');
    });
  });
});
