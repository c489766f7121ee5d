import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../database.js';
import { ROLES } from '../schema.js';
import { sqlTypes } from '../sql-types.js';

/** The organization side of docs/design.md#data-model, with an index on every foreign-key column. */
export function organizationsMigration(dialect: Dialect): Migration {
  const t = sqlTypes(dialect);
  const statements = [
    `create table roles (
       id integer primary key,
       name text not null unique,
       rank integer not null
     )`,
    `create table orgs (
       id ${t.uuid} primary key,
       kind text not null check (kind in ('personal', 'team')),
       name text not null,
       contact_email text,
       settings ${t.json} not null default ${t.emptyObject},
       created_at ${t.timestamp} not null default ${t.now}
     )`,
    `create table users (
       id ${t.uuid} primary key,
       email text not null,
       display_name text,
       current_org_id ${t.uuid} not null references orgs(id),
       preferences ${t.json} not null default ${t.emptyObject},
       created_at ${t.timestamp} not null default ${t.now},
       migrated_at ${t.timestamp}
     )`,
    'create index users_current_org_id_idx on users (current_org_id)',
    `create table org_members (
       org_id ${t.uuid} not null references orgs(id),
       user_id ${t.uuid} not null references users(id),
       role_id integer not null references roles(id),
       status text not null check (status in ('active', 'invited', 'disabled')),
       api_key_enc text,
       created_at ${t.timestamp} not null default ${t.now},
       primary key (org_id, user_id)
     )`,
    // org_id is covered by the primary key's leading column.
    'create index org_members_user_id_idx on org_members (user_id)',
    'create index org_members_role_id_idx on org_members (role_id)',
    `create table migration_failures (
       user_id text primary key,
       code text not null,
       message text not null,
       attempts integer not null default 1,
       first_at ${t.timestamp} not null default ${t.now},
       last_at ${t.timestamp} not null default ${t.now}
     )`,
    ...Object.values(ROLES).map(
      (role) => `insert into roles (id, name, rank) values (${role.id}, '${role.name}', ${role.rank})`,
    ),
  ];
  return {
    async up(db: Kysely<unknown>) {
      for (const statement of statements) await sql.raw(statement).execute(db);
    },
  };
}
