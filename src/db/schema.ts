import type { ColumnType, Generated } from 'kysely';

/**
 * Kysely's view of the organization side. Timestamps are `Date` on
 * PostgreSQL and ISO-8601 text on SQLite; both decode to `Date` in the loader.
 * JSON columns are `jsonb` on PostgreSQL and text on SQLite.
 */
type Timestamp = ColumnType<Date | string, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

export interface RolesTable {
  id: number;
  name: string;
  rank: number;
}

export interface OrgsTable {
  id: string;
  kind: 'personal' | 'team';
  name: string;
  contact_email: string | null;
  settings: Json;
  created_at: Timestamp;
}

export interface UsersTable {
  id: string;
  email: string;
  display_name: string | null;
  current_org_id: string;
  preferences: Json;
  created_at: Timestamp;
  migrated_at: Timestamp | null;
}

export type MemberStatus = 'active' | 'invited' | 'disabled';

export interface OrgMembersTable {
  org_id: string;
  user_id: string;
  role_id: number;
  status: MemberStatus;
  api_key_enc: string | null;
  created_at: Timestamp;
}

export interface MigrationFailuresTable {
  user_id: string;
  code: string;
  message: string;
  attempts: number;
  first_at: Timestamp;
  last_at: Timestamp;
}

export interface LegacyUsersTable {
  id: string;
  email: string;
  display_name: string | null;
  settings: Json;
  api_key_enc: string | null;
  created_at: Timestamp;
  migrated_at: Timestamp | null;
}

export interface DependentRowTable {
  id: Generated<number>;
  user_id: string;
  org_id: string | null;
  created_at: Timestamp;
}

/**
 * Legacy and dependent tables are addressed through the legacy descriptor and
 * typed loosely on purpose: their names are configuration.
 */
export interface OrgshiftTables {
  roles: RolesTable;
  orgs: OrgsTable;
  users: UsersTable;
  org_members: OrgMembersTable;
  migration_failures: MigrationFailuresTable;
}

export const ROLES = Object.freeze({
  owner: Object.freeze({ id: 1, name: 'owner', rank: 10 }),
  admin: Object.freeze({ id: 2, name: 'admin', rank: 20 }),
  member: Object.freeze({ id: 3, name: 'member', rank: 30 }),
});
