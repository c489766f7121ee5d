import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { SqlDialect } from '../db/dialect/dialect.js';
import type { Catalog } from '../schema-map/catalog.js';

/**
 * The demo's tables, which a real team already has: the demo has no
 * application of its own to create them. Created when missing by `db
 * migrate`, `serve --demo` and `seed` on the built-in demo map only; the
 * engine knows nothing of them beyond what the demo map says. The layout:
 * legacy_users (single-user accounts) and two dependent tables keyed by the
 * user's id; the organization side orgs / users / org_members / roles, with
 * an index on every foreign-key column (PostgreSQL does not create them).
 */
export function demoTableStatements(d: SqlDialect): string[] {
  const t = d.types;
  const now = `(${d.now})`;
  const emptyObject = `(${d.cast("'{}'", t.json)})`;
  const dependent = (table: string, payload: string) => [
    `create table if not exists ${table} (
       id ${t.serialKey},
       user_id text not null,
       org_id ${t.uuid} references orgs(id),
       ${payload} text,
       created_at ${t.timestamp} not null default ${now}
     )`,
    `create index if not exists ${table}_user_id_idx on ${table} (user_id)`,
    `create index if not exists ${table}_org_id_idx on ${table} (org_id)`,
  ];
  return [
    `create table if not exists legacy_users (
       id text primary key,
       email text not null,
       display_name text,
       settings ${t.json} not null default ${emptyObject},
       api_key_enc text,
       created_at ${t.timestamp} not null default ${now},
       migrated_at ${t.timestamp}
     )`,
    // Lets the backfill page through the pending tail without scanning the migrated head.
    'create index if not exists legacy_users_pending_idx on legacy_users (id) where migrated_at is null',
    `create table if not exists roles (
       id integer primary key,
       name text not null unique,
       rank integer not null
     )`,
    `insert into roles (id, name, rank) values (1, 'owner', 10), (2, 'admin', 20), (3, 'member', 30)
       on conflict do nothing`,
    `create table if not exists orgs (
       id ${t.uuid} primary key,
       kind text not null check (kind in ('personal', 'team')),
       name text not null,
       contact_email text,
       settings ${t.json} not null default ${emptyObject},
       created_at ${t.timestamp} not null default ${now}
     )`,
    `create table if not exists users (
       id ${t.uuid} primary key,
       email text not null,
       display_name text,
       current_org_id ${t.uuid} not null references orgs(id),
       preferences ${t.json} not null default ${emptyObject},
       created_at ${t.timestamp} not null default ${now},
       migrated_at ${t.timestamp}
     )`,
    'create index if not exists users_current_org_id_idx on users (current_org_id)',
    `create table if not exists org_members (
       org_id ${t.uuid} not null references orgs(id),
       user_id ${t.uuid} not null references users(id),
       role_id integer not null references roles(id),
       status text not null check (status in ('active', 'invited', 'disabled')),
       api_key_enc text,
       created_at ${t.timestamp} not null default ${now},
       primary key (org_id, user_id)
     )`,
    // org_id is covered by the primary key's leading column.
    'create index if not exists org_members_user_id_idx on org_members (user_id)',
    'create index if not exists org_members_role_id_idx on org_members (role_id)',
    ...dependent('conversations', 'title'),
    ...dependent('api_keys', 'name'),
  ];
}

const DEMO_TABLES = ['legacy_users', 'roles', 'orgs', 'users', 'org_members', 'conversations', 'api_keys'];

/**
 * Only when one is missing: even `create index if not exists` takes a share
 * lock on its table, and a server that starts beside running migrations would
 * deadlock with them. The statements run in one transaction, so the tables
 * exist together or not at all.
 */
export async function createDemoTables(trx: Executor, d: SqlDialect, catalog: Catalog): Promise<void> {
  const names = DEMO_TABLES.map((name) => ({ schema: null, name }));
  const snapshot = await catalog.describe(names);
  if (names.every((name) => snapshot.get(name) !== undefined)) return;
  for (const statement of demoTableStatements(d)) await sql.raw(statement).execute(trx);
}
