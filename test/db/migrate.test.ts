import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { Database } from '../../src/db/database.js';
import { migrateSchema } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open-database.js';
import { createDemoTables } from '../../src/demo/demo-tables.js';
import { migrateDatabase } from '../../src/orgshift.js';
import { DEMO_MAP, demoMap } from '../../src/schema-map/demo-map.js';
import type { SchemaMap } from '../../src/schema-map/schema-map.js';
import { TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../support/open-test.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';

const DEMO_TABLES = ['roles', 'orgs', 'users', 'org_members', 'legacy_users', 'conversations', 'api_keys'];
const OWN_TABLES = [
  'orgshift_migration_failures',
  'orgshift_schema_versions',
  'orgshift_migration_counts',
  'orgshift_audit_runs',
  'orgshift_outbox',
];

/** Foreign-key columns of the demo layout; each must lead some index. */
const FK_COLUMNS: readonly [string, string][] = [
  ['users', 'current_org_id'],
  ['org_members', 'org_id'],
  ['org_members', 'user_id'],
  ['org_members', 'role_id'],
  ['conversations', 'org_id'],
  ['api_keys', 'org_id'],
];

const KEYS = { ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY, ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY };

/**
 * Whether `migrate` finishes while another session holds `tables` in EXCLUSIVE
 * mode (reads allowed, any write or index build blocked): a process that
 * starts beside live migrations must not lock the team's tables when there is
 * nothing to change, or it deadlocks with them.
 */
async function finishesBesideWriters(url: string, tables: readonly string[], migrate: () => Promise<unknown>) {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  try {
    await holder.query('begin');
    await holder.query(`lock table ${tables.join(', ')} in exclusive mode`);
    const blocked = new Promise<string>((resolve) => setTimeout(resolve, 5_000, 'blocked on a table lock'));
    return await Promise.race([migrate().then(() => 'finished'), blocked]);
  } finally {
    await holder.query('rollback');
    await holder.end();
  }
}

function migrateDemo(db: Database) {
  return migrateSchema(db, demoMap().model, { before: (trx) => createDemoTables(trx, db.sql, db.catalogOn(trx)) });
}

async function expectConstraintsBite(db: Database) {
  const org = '11111111-1111-4111-8111-111111111111';
  const user = '22222222-2222-4222-8222-222222222222';
  await sql`insert into orgs (id, kind, name) values (${org}, 'personal', 'o')`.execute(db.kysely);
  await sql`insert into users (id, email, current_org_id) values (${user}, 'a@b.c', ${org})`.execute(db.kysely);
  await sql`insert into org_members (org_id, user_id, role_id, status) values (${org}, ${user}, 1, 'active')`.execute(
    db.kysely,
  );
  // A second membership for the same (org, user).
  await expect(
    sql`insert into org_members (org_id, user_id, role_id, status) values (${org}, ${user}, 2, 'active')`.execute(
      db.kysely,
    ),
  ).rejects.toThrow();
  const other = '33333333-3333-4333-8333-333333333333';
  await sql`insert into users (id, email, current_org_id) values (${other}, 'x@b.c', ${org})`.execute(db.kysely);
  // A membership with a missing role.
  await expect(
    sql`insert into org_members (org_id, user_id, role_id, status) values (${org}, ${other}, 99, 'active')`.execute(
      db.kysely,
    ),
  ).rejects.toThrow();
  // A user whose current org does not exist.
  await expect(
    sql`insert into users (id, email, current_org_id) values ('44444444-4444-4444-8444-444444444444', 'y@b.c', '55555555-5555-4555-8555-555555555555')`.execute(
      db.kysely,
    ),
  ).rejects.toThrow();
  // A role name twice.
  await expect(sql`insert into roles (id, name, rank) values (7, 'owner', 5)`.execute(db.kysely)).rejects.toThrow();
  // A status outside the check.
  await expect(
    sql`insert into org_members (org_id, user_id, role_id, status) values (${org}, ${other}, 3, 'banned')`.execute(
      db.kysely,
    ),
  ).rejects.toThrow();
}

describe('schema migrations on SQLite', () => {
  let dir: string;
  let db: Database;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orgshift-migrate-'));
    db = openDatabase({ kind: 'sqlite', path: join(dir, 'test.db') });
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies once, then is a no-op', async () => {
    expect(await migrateDemo(db)).toEqual({
      applied: ['001_repair_queue', '002_progress', '003_outbox', '004_in_place_migrations'],
      changes: [],
    });
    expect(await migrateDemo(db)).toEqual({ applied: [], changes: [] });
  });

  it("creates orgshift's own tables and the demo's, with the three roles", async () => {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db.kysely);
    expect(tables.rows.map((r) => r.name)).toEqual(expect.arrayContaining([...DEMO_TABLES, ...OWN_TABLES]));
    const roles = await sql<{ name: string; rank: number }>`select name, rank from roles order by rank`.execute(
      db.kysely,
    );
    expect(roles.rows).toEqual([
      { name: 'owner', rank: 10 },
      { name: 'admin', rank: 20 },
      { name: 'member', rank: 30 },
    ]);
  });

  it('indexes every foreign-key column', async () => {
    for (const [table, column] of FK_COLUMNS) {
      const indexes = await sql<{ name: string }>`select name from pragma_index_list(${table})`.execute(db.kysely);
      const leading = [];
      for (const index of indexes.rows) {
        const cols = await sql<{
          name: string;
          seqno: number;
        }>`select name, seqno from pragma_index_info(${index.name})`.execute(db.kysely);
        leading.push(cols.rows.find((c) => c.seqno === 0)?.name);
      }
      expect(leading, `${table}.${column}`).toContain(column);
    }
  });

  it('makes the constraints bite', async () => {
    await expectConstraintsBite(db);
  });
});

describePostgres('schema migrations on PostgreSQL', () => {
  let testDb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase('migrate');
    db = openDatabase({ kind: 'postgres', url: testDb.url, poolSize: 2 });
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('applies once, then is a no-op', async () => {
    expect((await migrateDemo(db)).applied).toEqual([
      '001_repair_queue',
      '002_progress',
      '003_outbox',
      '004_in_place_migrations',
    ]);
    expect((await migrateDemo(db)).applied).toEqual([]);
  });

  it('takes no lock on the demo tables once they exist (a server restarting beside live migrations)', async () => {
    expect(await finishesBesideWriters(testDb.url, DEMO_TABLES, () => migrateDemo(db))).toBe('finished');
  });

  it('indexes every foreign-key column, read from the catalog', async () => {
    const unindexed = await sql<{ table_name: string; column_name: string }>`
      select c.conrelid::regclass::text as table_name, a.attname as column_name
      from pg_constraint c
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
      where c.contype = 'f'
        and not exists (select 1 from pg_index i where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1])`.execute(
      db.kysely,
    );
    expect(unindexed.rows).toEqual([]);
  });

  it('uses uuid ids and millisecond timestamps on the org side', async () => {
    const cols = await sql<{ column_name: string; data_type: string; datetime_precision: number | null }>`
      select column_name, data_type, datetime_precision from information_schema.columns
      where table_schema = 'public' and table_name in ('orgs', 'users') and column_name in ('id', 'created_at')`.execute(
      db.kysely,
    );
    for (const col of cols.rows) {
      if (col.column_name === 'id') expect(col.data_type).toBe('uuid');
      else expect(col.datetime_precision).toBe(3);
    }
  });

  it('makes the constraints bite', async () => {
    await expectConstraintsBite(db);
  });
});

/** The demo layout under other names, in a database that already has it (a team's own tables). */
function teamMap(overrides: { marker?: SchemaMap['legacy']['marker']; orgAdd?: boolean }): SchemaMap {
  return {
    ...DEMO_MAP,
    legacy: { ...DEMO_MAP.legacy, table: 'accounts', marker: overrides.marker ?? DEMO_MAP.legacy.marker },
    target: {
      ...DEMO_MAP.target,
      org: { ...DEMO_MAP.target.org, table: 'teams' },
      user: { ...DEMO_MAP.target.user, table: 'members_users' },
      membership: { ...DEMO_MAP.target.membership, table: 'team_members' },
    },
    dependents: [
      { table: 'notes', userKey: { column: 'user_id' }, org: { column: 'team_id', add: overrides.orgAdd ?? false } },
    ],
  };
}

const TEAM_TABLES = `
  create table accounts (id text primary key, email text not null, display_name text, settings jsonb not null default '{}',
    api_key_enc text, created_at timestamptz(3) not null default now());
  create table roles (id integer primary key, name text not null unique, rank integer not null);
  insert into roles values (1, 'owner', 10);
  create table teams (id uuid primary key, kind text not null, name text not null, contact_email text, settings jsonb not null default '{}');
  create table members_users (id uuid primary key, email text not null, display_name text, current_org_id uuid not null references teams(id),
    preferences jsonb not null default '{}', created_at timestamptz(3) not null default now(), migrated_at timestamptz(3));
  create index on members_users (current_org_id);
  create table team_members (org_id uuid not null references teams(id), user_id uuid not null references members_users(id),
    role_id integer not null references roles(id), status text not null, api_key_enc text, primary key (org_id, user_id));
  create index on team_members (user_id); create index on team_members (role_id);
  create table notes (id serial primary key, user_id text not null, body text);
  create index on notes (user_id);`;

describePostgres("db migrate on a team's own tables (PostgreSQL)", () => {
  let testDb: TestDatabase;
  let dir: string;
  let admin: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase('migrate_team');
    dir = mkdtempSync(join(tmpdir(), 'orgshift-migrate-'));
    admin = openDatabase({ kind: 'postgres', url: testDb.url, poolSize: 2 });
    await sql.raw(TEAM_TABLES).execute(admin.kysely);
  });
  afterAll(async () => {
    await admin?.close();
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const configFor = (map: SchemaMap) => {
    const path = join(dir, `m${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(map));
    return loadConfig({ ORGSHIFT_DATABASE_URL: testDb.url, ORGSHIFT_MAP: path, ...KEYS });
  };

  /** Every column and index of the team's tables, to prove nothing changed. */
  const teamSchema = async () =>
    (
      await sql<{ item: string }>`
        select table_name || '.' || column_name as item from information_schema.columns
          where table_schema = 'public' and table_name not like 'orgshift%'
        union all select tablename || ':' || indexname from pg_indexes where schemaname = 'public' and tablename not like 'orgshift%'
        order by 1`.execute(admin.kysely)
    ).rows.map((r) => r.item);

  it('creates only orgshift_* tables when the map opts into nothing', async () => {
    const before = await teamSchema();
    const report = await migrateDatabase(configFor(teamMap({ marker: { type: 'timestamp', column: 'migrated_at' } })));
    expect(report).toEqual({
      applied: ['001_repair_queue', '002_progress', '003_outbox', '004_in_place_migrations'],
      changes: [],
    });
    expect(await teamSchema()).toEqual(before);
  });

  it('adds the marker column, its index and a dependent org column only where the map says add, and says so', async () => {
    // One account the application already moved (its user row exists), one still to move, one whose key is no UUID.
    const moved = '6a1f0000-0000-4000-8000-000000000001';
    const waiting = '6a1f0000-0000-4000-8000-000000000002';
    await sql
      .raw(`insert into teams (id, kind, name) values ('${moved}', 'personal', 'moved');
      insert into members_users (id, email, current_org_id) values ('${moved}', 'moved@example.com', '${moved}');
      insert into accounts (id, email) values ('${moved}', 'moved@example.com'), ('${waiting}', 'waiting@example.com'),
        ('not-a-uuid', 'odd@example.com')`)
      .execute(admin.kysely);
    const map = teamMap({ marker: { type: 'timestamp', column: 'migrated_at', add: true }, orgAdd: true });
    const dry = await migrateDatabase(configFor(map), { dryRun: true });
    expect(dry.changes).toHaveLength(5);
    // The rows already migrated by the map's own definition (their user row exists) are marked with the column.
    expect(dry.changes[1]).toMatch(
      /^update "accounts" as l set "migrated_at" = now\(\) where exists \(select 1 from "members_users" mu/,
    );
    expect(await teamSchema()).not.toContain('accounts.migrated_at');
    const report = await migrateDatabase(configFor(map));
    expect(report.changes).toEqual(dry.changes);
    const schema = await teamSchema();
    expect(schema).toEqual(expect.arrayContaining(['accounts.migrated_at', 'notes.team_id']));
    const marked = await sql<{ id: string; marked: boolean }>`
      select id, migrated_at is not null as marked from accounts order by id`.execute(admin.kysely);
    expect(marked.rows).toEqual([
      { id: moved, marked: true },
      { id: waiting, marked: false },
      { id: 'not-a-uuid', marked: false },
    ]);
    expect((await migrateDatabase(configFor(map))).changes).toEqual([]);
    const teamTables = ['accounts', 'roles', 'teams', 'members_users', 'team_members', 'notes'];
    expect(await finishesBesideWriters(testDb.url, teamTables, () => migrateDatabase(configFor(map)))).toBe('finished');
  });

  it('leaves nothing behind when it fails half-way (one transaction)', async () => {
    const fresh = await createTestDatabase('migrate_fail');
    const db = openDatabase({ kind: 'postgres', url: fresh.url, poolSize: 2 });
    try {
      // An org table whose id has no unique key: the opt-in foreign key to it fails after
      // orgshift's own tables were created in the same transaction.
      await sql.raw(TEAM_TABLES).execute(db.kysely);
      await sql.raw('create table loose_teams (id uuid, kind text, name text)').execute(db.kysely);
      const map = teamMap({ orgAdd: true });
      const path = join(dir, 'fail.json');
      writeFileSync(
        path,
        JSON.stringify({ ...map, target: { ...map.target, org: { ...map.target.org, table: 'loose_teams' } } }),
      );
      const config = loadConfig({ ORGSHIFT_DATABASE_URL: fresh.url, ORGSHIFT_MAP: path, ...KEYS });
      await expect(migrateDatabase(config)).rejects.toThrow();
      const own = await sql<{
        n: string;
      }>`select count(*) as n from pg_tables where tablename like 'orgshift%'`.execute(db.kysely);
      expect(Number(own.rows[0]?.n)).toBe(0);
      const added = await sql<{
        n: string;
      }>`select count(*) as n from information_schema.columns where table_name = 'notes' and column_name = 'team_id'`.execute(
        db.kysely,
      );
      expect(Number(added.rows[0]?.n)).toBe(0);
    } finally {
      await db.close();
      await fresh.drop();
    }
  });
});
