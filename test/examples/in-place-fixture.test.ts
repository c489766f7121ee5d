import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FixtureTarget,
  generateInPlaceData,
  type InPlaceManifest,
  type InPlaceOptions,
} from '../../examples/in-place/generate.js';
import { applyInPlaceSchema } from '../../examples/in-place/schema.js';
import { createTestDatabase, describePostgres } from '../support/services.js';

const OPTIONS: InPlaceOptions = { users: 2_000, nativeUsers: 60, seed: 20250601 };

/** Every reference in the schema: [table, column, referenced table]. */
const FOREIGN_KEYS = [
  ['User', 'organizationId', 'Organization'],
  ['Organization', 'ownerId', 'User'],
  ['Membership', 'userId', 'User'],
  ['Membership', 'organizationId', 'Organization'],
  ['Project', 'userId', 'User'],
  ['Project', 'organizationId', 'Organization'],
  ['ApiToken', 'userId', 'User'],
  ['ApiToken', 'organizationId', 'Organization'],
  ['Invoice', 'userId', 'User'],
  ['Invoice', 'organizationId', 'Organization'],
] as const;

/** What a sampled trait means for the stored row: the fixture really contains each hard case. */
const TRAIT_HOLDS: Readonly<Record<string, (row: Record<string, unknown>) => boolean>> = {
  'null-name': (row) => row.name === null,
  'empty-name': (row) => row.name === '',
  'padded-name': (row) => typeof row.name === 'string' && row.name !== row.name.trim(),
  'non-latin-name': (row) =>
    /[\p{Script=Cyrillic}\p{Script=Han}\p{Script=Arabic}\p{Script=Hiragana}\p{Script=Devanagari}]/u.test(
      String(row.name),
    ),
  'mixed-case-email': (row) => String(row.email) !== String(row.email).toLowerCase(),
  'null-preferences': (row) => row.preferences === null,
  'json-null-preferences': (row) => row.preferences === 'null',
  'api-key': (row) => String(row.apiKey).startsWith('sk_live_'),
  'no-api-key': (row) => row.apiKey === null,
};

const DEPENDENTS = { projects: 'Project', apiTokens: 'ApiToken', invoices: 'Invoice' } as const;

/** The few places where reading the fixture back differs between the databases. */
interface FixtureDb {
  /** Runs a query written with `?` placeholders. */
  rows<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** SQL for a DateTime column as epoch milliseconds. */
  epochMs(column: string): string;
  /** SQL for a json column as JSON text, keeping SQL NULL apart from JSON null. */
  jsonText(column: string): string;
  /** [table, column] of the leading column of every index. */
  indexedColumns(): Promise<string[]>;
  /** "table.column->table" of every foreign-key constraint. */
  foreignKeys(): Promise<string[]>;
  target(): FixtureTarget;
}

async function count(db: FixtureDb, sql: string, params: readonly unknown[] = []): Promise<number> {
  const [row] = await db.rows<{ n: number | string }>(sql, params);
  return Number(row?.n);
}

function sqliteDb(db: Database.Database): FixtureDb {
  return {
    rows: async <T>(sql: string, params: readonly unknown[] = []) => db.prepare(sql).all(...params) as T[],
    epochMs: (column) => column,
    jsonText: (column) => column,
    indexedColumns: async () =>
      db
        .prepare(
          `select m.name as t, ii.name as c from sqlite_master m, pragma_index_list(m.name) il,
             pragma_index_info(il.name) ii where m.type = 'table' and ii.seqno = 0`,
        )
        .all()
        .map((r) => `${(r as { t: string }).t}.${(r as { c: string }).c}`),
    foreignKeys: async () =>
      db
        .prepare(
          `select m.name as t, fk."from" as c, fk."table" as r from sqlite_master m, pragma_foreign_key_list(m.name) fk
           where m.type = 'table'`,
        )
        .all()
        .map((r) => {
          const { t, c, r: ref } = r as { t: string; c: string; r: string };
          return `${t}.${c}->${ref}`;
        }),
    target: () => ({ kind: 'sqlite', db }),
  };
}

function postgresDb(pool: pg.Pool): FixtureDb {
  return {
    rows: async <T>(sql: string, params: readonly unknown[] = []) => {
      let n = 0;
      const result = await pool.query(
        sql.replace(/\?/g, () => `$${++n}`),
        [...params],
      );
      return result.rows as T[];
    },
    // extract(epoch) reads a timestamp without time zone as UTC, which is what Prisma stores.
    epochMs: (column) => `(extract(epoch from ${column}) * 1000)::bigint`,
    jsonText: (column) => `${column}::text`,
    indexedColumns: async () =>
      (
        await pool.query<{ t: string; c: string }>(
          `select t.relname as t, a.attname as c from pg_index i
             join pg_class t on t.oid = i.indrelid
             join pg_attribute a on a.attrelid = t.oid and a.attnum = i.indkey[0]
           where t.relnamespace = 'public'::regnamespace`,
        )
      ).rows.map((r) => `${r.t}.${r.c}`),
    foreignKeys: async () =>
      (
        await pool.query<{ t: string; c: string; r: string }>(
          `select t.relname as t, a.attname as c, r.relname as r from pg_constraint k
             join pg_class t on t.oid = k.conrelid
             join pg_class r on r.oid = k.confrelid
             join pg_attribute a on a.attrelid = t.oid and a.attnum = k.conkey[1]
           where k.contype = 'f' and t.relnamespace = 'public'::regnamespace`,
        )
      ).rows.map((r) => `${r.t}.${r.c}->${r.r}`),
    target: () => ({ kind: 'postgres', pool }),
  };
}

/**
 * The checks both databases must pass after loading the schema and 2,000
 * users: the manifest describes the tables exactly, and the data is as
 * consistent as the app would have left it.
 */
function fixtureChecks(open: () => Promise<{ db: FixtureDb; close(): Promise<void> }>) {
  let db: FixtureDb;
  let close: () => Promise<void>;
  let manifest: InPlaceManifest;

  beforeAll(async () => {
    ({ db, close } = await open());
    await applyInPlaceSchema(db.target());
    manifest = await generateInPlaceData(db.target(), OPTIONS);
  });
  afterAll(async () => close?.());

  it('has the tables, foreign keys and indexes of the schema files', async () => {
    expect((await db.foreignKeys()).sort()).toEqual(FOREIGN_KEYS.map(([t, c, r]) => `${t}.${c}->${r}`).sort());
    // Every column a migration looks users and orgs up by leads an index.
    const indexed = new Set(await db.indexedColumns());
    for (const [table, column] of FOREIGN_KEYS) expect(indexed, `${table}.${column}`).toContain(`${table}.${column}`);
    expect(indexed).toContain('User.email');
    expect(indexed).toContain('Organization.slug');
  });

  it('holds exactly the rows the manifest counts', async () => {
    const c = manifest.counts;
    expect(c.legacyUsers).toBe(OPTIONS.users);
    expect(c.nativeUsers).toBe(OPTIONS.nativeUsers);
    expect(await count(db, 'select count(*) as n from "User"')).toBe(c.users);
    expect(await count(db, 'select count(*) as n from "Organization"')).toBe(c.organizations);
    expect(await count(db, 'select count(*) as n from "Organization" where "personal" = false')).toBe(
      c.teamOrganizations,
    );
    expect(await count(db, 'select count(*) as n from "Membership"')).toBe(c.memberships);
    expect(await count(db, 'select count(*) as n from "Project"')).toBe(c.projects);
    expect(await count(db, 'select count(*) as n from "ApiToken"')).toBe(c.apiTokens);
    expect(await count(db, 'select count(*) as n from "Invoice"')).toBe(c.invoices);
    expect(await count(db, 'select count(*) as n from "_prisma_migrations"')).toBe(c.prismaMigrations);
    const ids = await db.rows<{ id: string }>('select "id" from "User"');
    expect(new Set(ids.map((r) => r.id))).toEqual(new Set([...manifest.legacyUserIds, ...manifest.nativeUserIds]));
    // Enough of each case for an end-to-end test to meet it.
    expect(manifest.legacyUsersWithTeamMemberships.length).toBeGreaterThan(20);
    expect(manifest.inTeams.projects).toBeGreaterThan(0);
    expect(c.teamOrganizations).toBeGreaterThanOrEqual(10);
  });

  it('has unique emails (ignoring case), unique slugs and cuid-shaped ids unique across tables', async () => {
    expect(await count(db, 'select count(distinct lower("email")) as n from "User"')).toBe(manifest.counts.users);
    expect(await count(db, 'select count(distinct "slug") as n from "Organization"')).toBe(
      manifest.counts.organizations,
    );
    const ids = await db.rows<{ id: string }>(
      `select "id" from "User" union all select "id" from "Organization" union all select "id" from "Membership"
       union all select "id" from "Project" union all select "id" from "ApiToken" union all select "id" from "Invoice"`,
    );
    expect(ids.filter((r) => !/^c[0-9a-z]{24}$/.test(r.id))).toEqual([]);
    expect(new Set(ids.map((r) => r.id)).size).toBe(ids.length);
  });

  it('has no dangling reference', async () => {
    for (const [table, column, referenced] of FOREIGN_KEYS) {
      const dangling = await count(
        db,
        `select count(*) as n from "${table}" x left join "${referenced}" r on r."id" = x."${column}"
         where x."${column}" is not null and r."id" is null`,
      );
      expect(dangling, `${table}.${column}`).toBe(0);
    }
  });

  it('leaves legacy users unmigrated and native users complete', async () => {
    const placed = await db.rows<{ id: string }>('select "id" from "User" where "organizationId" is not null');
    expect(placed.map((r) => r.id).sort()).toEqual([...manifest.nativeUserIds].sort());
    // Each native user: a personal org it owns, its current org, an 'owner' membership of it.
    expect(
      await count(
        db,
        `select count(*) as n from "User" u
           join "Organization" o on o."id" = u."organizationId" and o."ownerId" = u."id" and o."personal" = true
           join "Membership" m on m."organizationId" = o."id" and m."userId" = u."id" and m."role" = 'owner'`,
      ),
    ).toBe(manifest.counts.nativeUsers);
    expect(await count(db, 'select count(*) as n from "Organization" where "personal" = true')).toBe(
      manifest.counts.nativeUsers,
    );
    // Team orgs leave "ownerId" to personal orgs: it is unique per user.
    expect(
      await count(db, 'select count(*) as n from "Organization" where "personal" = false and "ownerId" is not null'),
    ).toBe(0);
  });

  it('has exactly the team memberships the manifest lists', async () => {
    const rows = await db.rows<{ userId: string; organizationId: string; role: string; slug: string }>(
      `select m."userId", m."organizationId", m."role", o."slug" from "Membership" m
         join "Organization" o on o."id" = m."organizationId" where o."personal" = false`,
    );
    const listed = manifest.teamOrganizations.flatMap((t) =>
      t.members.map((m) => `${m.userId} ${t.id} ${m.role} ${t.slug}`),
    );
    expect(rows.map((r) => `${r.userId} ${r.organizationId} ${r.role} ${r.slug}`).sort()).toEqual(listed.sort());
    for (const team of manifest.teamOrganizations) {
      expect(team.members.find((m) => m.userId === team.creatorId)?.role).toBe('owner');
    }
    const legacyMembers = new Set(manifest.legacyUsersWithTeamMemberships);
    const legacy = new Set(manifest.legacyUserIds);
    expect(new Set(rows.map((r) => r.userId).filter((id) => legacy.has(id)))).toEqual(legacyMembers);
  });

  it('counts dependents without an org (all legacy users) and in teams as the manifest does', async () => {
    for (const [kind, table] of Object.entries(DEPENDENTS) as [keyof typeof DEPENDENTS, string][]) {
      expect(await count(db, `select count(*) as n from "${table}" where "organizationId" is null`), table).toBe(
        manifest.withoutOrganization[kind],
      );
      expect(
        await count(
          db,
          `select count(*) as n from "${table}" x join "User" u on u."id" = x."userId"
           where x."organizationId" is null and u."organizationId" is not null`,
        ),
        `${table} rows without an org belong to legacy users only`,
      ).toBe(0);
      expect(
        await count(
          db,
          `select count(*) as n from "${table}" x join "Organization" o on o."id" = x."organizationId"
           where o."personal" = false`,
        ),
        table,
      ).toBe(manifest.inTeams[kind]);
    }
  });

  it('stores each sampled user exactly as the manifest recorded it', async () => {
    const traits = new Set(manifest.samples.flatMap((s) => s.traits));
    for (const trait of ['null-name', 'empty-name', 'non-latin-name', 'json-null-preferences', 'null-preferences']) {
      expect(traits, trait).toContain(trait);
    }
    for (const trait of ['api-key', 'team-member', 'team-creator', 'slug-taken-by-team', 'name-collision']) {
      expect(traits, trait).toContain(trait);
    }
    for (const sample of manifest.samples) {
      const [row] = await db.rows<Record<string, unknown>>(
        `select "email", "name", "image", "locale", "timezone", "marketingOptIn", "apiKey",
           ${db.jsonText('"preferences"')} as "preferences",
           ${db.epochMs('"createdAt"')} as "createdAt", ${db.epochMs('"updatedAt"')} as "updatedAt"
         from "User" where "id" = ?`,
        [sample.id],
      );
      expect(row, sample.id).toBeDefined();
      const stored = row as Record<string, unknown>;
      expect(
        {
          email: stored.email,
          name: stored.name,
          image: stored.image,
          locale: stored.locale,
          timezone: stored.timezone,
          marketingOptIn: Boolean(stored.marketingOptIn),
          apiKey: stored.apiKey,
          createdAt: new Date(Number(stored.createdAt)).toISOString(),
          updatedAt: new Date(Number(stored.updatedAt)).toISOString(),
        },
        sample.id,
      ).toEqual({
        email: sample.email,
        name: sample.name,
        image: sample.image,
        locale: sample.locale,
        timezone: sample.timezone,
        marketingOptIn: sample.marketingOptIn,
        apiKey: sample.apiKey,
        createdAt: sample.createdAt,
        updatedAt: sample.updatedAt,
      });
      for (const trait of sample.traits)
        expect(TRAIT_HOLDS[trait]?.(stored) ?? true, `${sample.id} ${trait}`).toBe(true);
      // SQL NULL and JSON null are different values and must stay so.
      const preferences = stored.preferences as string | null;
      expect(preferences === null, sample.id).toBe(sample.preferences === null);
      if (sample.preferences !== null)
        expect(JSON.parse(preferences as string)).toEqual(JSON.parse(sample.preferences));

      for (const [kind, table] of Object.entries(DEPENDENTS) as [keyof typeof DEPENDENTS, string][]) {
        expect(await count(db, `select count(*) as n from "${table}" where "userId" = ?`, [sample.id])).toBe(
          sample.dependents.total[kind],
        );
        expect(
          await count(db, `select count(*) as n from "${table}" where "userId" = ? and "organizationId" is null`, [
            sample.id,
          ]),
        ).toBe(sample.dependents.withoutOrganization[kind]);
      }
      const memberships = await db.rows<{ organizationId: string; role: string }>(
        `select m."organizationId", m."role" from "Membership" m join "Organization" o on o."id" = m."organizationId"
         where m."userId" = ? and o."personal" = false`,
        [sample.id],
      );
      expect(memberships.map((m) => `${m.organizationId} ${m.role}`).sort()).toEqual(
        sample.teamMemberships.map((m) => `${m.organizationId} ${m.role}`).sort(),
      );
    }
  });

  it('generates nothing at all when a second run collides with the first', async () => {
    await expect(generateInPlaceData(db.target(), OPTIONS)).rejects.toThrow();
    expect(await count(db, 'select count(*) as n from "User"')).toBe(manifest.counts.users);
    expect(await count(db, 'select count(*) as n from "_prisma_migrations"')).toBe(manifest.counts.prismaMigrations);
  });

  return () => manifest;
}

function inMemorySqlite(): FixtureTarget & { kind: 'sqlite' } {
  return { kind: 'sqlite', db: new Database(':memory:') };
}

async function generateInMemory(
  options: InPlaceOptions,
): Promise<{ manifest: InPlaceManifest; db: Database.Database }> {
  const target = inMemorySqlite();
  await applyInPlaceSchema(target);
  return { manifest: await generateInPlaceData(target, options), db: target.db };
}

/** A hash of every row of every table, in id order. */
function digest(db: Database.Database): string {
  const hash = createHash('sha256');
  for (const table of ['_prisma_migrations', 'User', 'Organization', 'Membership', 'Project', 'ApiToken', 'Invoice']) {
    for (const row of db.prepare(`select * from "${table}" order by "id"`).iterate()) hash.update(JSON.stringify(row));
  }
  return hash.digest('hex');
}

describe('in-place fixture on SQLite (temp file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgshift-in-place-'));
  const manifest = fixtureChecks(async () => {
    const sqlite = new Database(join(dir, 'kanbu.db'));
    return {
      db: sqliteDb(sqlite),
      close: async () => {
        sqlite.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });

  it('enforces foreign keys and stores DateTime as Prisma milliseconds, JSON as text', async () => {
    const db = new Database(join(dir, 'kanbu.db'));
    try {
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('foreign_key_check')).toEqual([]);
      expect(db.prepare('select distinct typeof("createdAt") as t from "User"').all()).toEqual([{ t: 'integer' }]);
      expect(
        db
          .prepare('select distinct typeof("preferences") as t from "User" order by t')
          .all()
          .map((r) => r),
      ).toEqual([{ t: 'null' }, { t: 'text' }]);
    } finally {
      db.close();
    }
  });

  it('is deterministic: the same seed gives the same manifest and rows, another seed another one', async () => {
    const again = await generateInMemory(OPTIONS);
    const file = new Database(join(dir, 'kanbu.db'), { readonly: true });
    try {
      expect(again.manifest).toEqual(manifest());
      expect(digest(again.db)).toBe(digest(file));
      const other = await generateInMemory({ ...OPTIONS, users: 50, seed: OPTIONS.seed! + 1 });
      other.db.close();
      expect(other.manifest.legacyUserIds.slice(0, 50)).not.toEqual(manifest().legacyUserIds.slice(0, 50));
    } finally {
      again.db.close();
      file.close();
    }
  });

  it('stores DateTime as ISO 8601 text when asked to, as Prisma driver adapters do', async () => {
    const { manifest: small, db } = await generateInMemory({ users: 50, sqliteTimestamps: 'iso8601' });
    try {
      const sample = small.samples[0]!;
      expect(db.prepare('select "createdAt" as c from "User" where "id" = ?').get(sample.id)).toEqual({
        c: sample.createdAt,
      });
    } finally {
      db.close();
    }
  });

  it('refuses bad options before writing anything', async () => {
    const target = inMemorySqlite();
    await applyInPlaceSchema(target);
    await expect(generateInPlaceData(target, { users: 0 })).rejects.toThrow(/users must be an integer >= 1/);
    await expect(generateInPlaceData(target, { users: 10, apiKeyShare: 2 })).rejects.toThrow(/apiKeyShare/);
    expect(target.db.prepare('select count(*) as n from "_prisma_migrations"').get()).toEqual({ n: 0 });
    target.db.close();
  });
});

describePostgres('in-place fixture on PostgreSQL', () => {
  const manifest = fixtureChecks(async () => {
    const database = await createTestDatabase('in_place_fixture');
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    return {
      db: postgresDb(pool),
      close: async () => {
        await pool.end();
        await database.drop();
      },
    };
  });

  it('writes the same data as SQLite for the same options', async () => {
    const { manifest: onSqlite, db } = await generateInMemory(OPTIONS);
    db.close();
    expect(onSqlite).toEqual(manifest());
  });
});
