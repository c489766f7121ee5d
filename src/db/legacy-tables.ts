import { type Kysely, sql } from 'kysely';
import { type Dialect, ident } from './database.js';
import type { LegacySchema } from './legacy-schema.js';
import { sqlTypes } from './sql-types.js';

/**
 * Creates the legacy side when it is missing (demo, tests) and adds what
 * orgshift needs to an existing one: `migrated_at` on the users table,
 * `org_id` on each dependent table, and indexes on both foreign-key columns.
 * Idempotent; runs on every `db migrate` because the dependent tables are
 * configuration and may change between runs.
 */
export async function ensureLegacyTables(db: Kysely<unknown>, dialect: Dialect, legacy: LegacySchema) {
  const t = sqlTypes(dialect);
  const c = legacy.columns;
  const users = ident(legacy.usersTable);
  await exec(
    db,
    `create table if not exists ${users} (
       ${ident(c.id)} text primary key,
       ${ident(c.email)} text not null,
       ${ident(c.displayName)} text,
       ${ident(c.settings)} ${t.json} not null default ${t.emptyObject},
       ${ident(c.apiKeyEnc)} text,
       ${ident(c.createdAt)} ${t.timestamp} not null default ${t.now},
       ${ident(c.migratedAt)} ${t.timestamp}
     )`,
  );
  await addColumnIfMissing(db, dialect, legacy.usersTable, c.migratedAt, t.timestamp);
  // Lets the backfill page through the unmigrated tail without scanning the migrated head.
  await exec(
    db,
    `create index if not exists ${ident(`${legacy.usersTable}_pending_idx`)} on ${users} (${ident(c.id)}) where ${ident(c.migratedAt)} is null`,
  );
  for (const dependent of legacy.dependents) {
    const table = ident(dependent.table);
    await exec(
      db,
      `create table if not exists ${table} (
         id ${t.serial},
         user_id text not null,
         org_id ${t.uuid} references orgs(id),
         ${ident(dependent.payloadColumn)} text,
         created_at ${t.timestamp} not null default ${t.now}
       )`,
    );
    await addColumnIfMissing(db, dialect, dependent.table, 'org_id', `${t.uuid} references orgs(id)`);
    await exec(db, `create index if not exists ${ident(`${dependent.table}_user_id_idx`)} on ${table} (user_id)`);
    await exec(db, `create index if not exists ${ident(`${dependent.table}_org_id_idx`)} on ${table} (org_id)`);
  }
}

async function exec(db: Kysely<unknown>, statement: string) {
  await sql.raw(statement).execute(db);
}

async function addColumnIfMissing(db: Kysely<unknown>, dialect: Dialect, table: string, column: string, type: string) {
  if (dialect === 'postgres') {
    await exec(db, `alter table ${ident(table)} add column if not exists ${ident(column)} ${type}`);
    return;
  }
  const columns = await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db);
  if (!columns.rows.some((row) => row.name === column)) {
    await exec(db, `alter table ${ident(table)} add column ${ident(column)} ${type}`);
  }
}
