import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/database.js';
import { DEFAULT_LEGACY_SCHEMA } from '../../src/db/legacy-schema.js';
import { migrateSchema } from '../../src/db/migrate.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';

const TABLES = [
  'roles',
  'orgs',
  'users',
  'org_members',
  'migration_failures',
  'legacy_users',
  'conversations',
  'api_keys',
  'orgshift_outbox',
];

/** Foreign-key columns of DESIGN §1; each must lead some index. */
const FK_COLUMNS: readonly [string, string][] = [
  ['users', 'current_org_id'],
  ['org_members', 'org_id'],
  ['org_members', 'user_id'],
  ['org_members', 'role_id'],
  ['conversations', 'org_id'],
  ['api_keys', 'org_id'],
];

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
    db = openDatabase({ kind: 'sqlite', path: join(dir, 'test.db') }, DEFAULT_LEGACY_SCHEMA);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies once, then is a no-op', async () => {
    expect((await migrateSchema(db)).applied).toEqual(['001_organizations', '002_outbox']);
    expect((await migrateSchema(db)).applied).toEqual([]);
  });

  it('creates every table, with the three roles', async () => {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db.kysely);
    expect(tables.rows.map((r) => r.name)).toEqual(expect.arrayContaining(TABLES));
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

  it('declares the foreign keys', async () => {
    const fks = await sql<{
      from: string;
      table: string;
    }>`select "from", "table" from pragma_foreign_key_list('org_members')`.execute(db.kysely);
    expect(fks.rows.map((r) => `${r.from}->${r.table}`).sort()).toEqual([
      'org_id->orgs',
      'role_id->roles',
      'user_id->users',
    ]);
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
    db = openDatabase({ kind: 'postgres', url: testDb.url, poolSize: 2 }, DEFAULT_LEGACY_SCHEMA);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('applies once, then is a no-op', async () => {
    expect((await migrateSchema(db)).applied).toEqual(['001_organizations', '002_outbox']);
    expect((await migrateSchema(db)).applied).toEqual([]);
  });

  it('creates every table with its primary key', async () => {
    const result = await sql<{ table_name: string }>`
      select tc.table_name from information_schema.table_constraints tc
      where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = 'public'`.execute(db.kysely);
    expect(result.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(TABLES));
  });

  it('indexes every foreign-key column, read from the catalog', async () => {
    // Every column that is the first column of a foreign key must lead some index.
    const unindexed = await sql<{ table_name: string; column_name: string }>`
      select c.conrelid::regclass::text as table_name, a.attname as column_name
      from pg_constraint c
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
      where c.contype = 'f'
        and not exists (
          select 1 from pg_index i where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1])`.execute(db.kysely);
    expect(unindexed.rows).toEqual([]);
    const fks = await sql<{ n: string }>`select count(*) as n from pg_constraint where contype = 'f'`.execute(
      db.kysely,
    );
    expect(Number(fks.rows[0]?.n)).toBe(FK_COLUMNS.length);
  });

  it('uses uuid ids and millisecond timestamps on the org side', async () => {
    const cols = await sql<{
      table_name: string;
      column_name: string;
      data_type: string;
      datetime_precision: number | null;
    }>`
      select table_name, column_name, data_type, datetime_precision from information_schema.columns
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
