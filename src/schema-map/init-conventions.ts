import { type ColumnInfo, columnOf, type TableInfo, type TypeFamily } from './catalog.js';
import { OWN_TABLE_PREFIX } from './map-model.js';
import type { KeyType } from './schema-map.js';
import type { QualifiedName } from './table-name.js';

/**
 * The naming conventions `schema init` guesses with (snake_case and
 * camelCase alike, compared as lower-case words) and the catalog lookups
 * built on them. Everything here is a convention, none of it a rule: the
 * draft says which one each choice came from.
 */

/** `organizationId`, `OrgMember`, `_llm_api_key` → `organization_id`, `org_member`, `llm_api_key`. */
export function words(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

export const BOOKKEEPING: readonly RegExp[] = [
  /^_prisma_migrations$/i,
  /^alembic_version$/i,
  new RegExp(`^${OWN_TABLE_PREFIX}`, 'i'),
  /^knex_/i,
  /^schema_migrations$/i,
  /^__drizzle_migrations$/i,
  /^flyway_schema_history$/i,
  /^ar_internal_metadata$/i,
  /^django_migrations$/i,
];

/** Each name followed by its plural: the order is the order of preference. */
function withPlurals(names: readonly string[]): readonly string[] {
  return names.flatMap((name) => [name, `${name}s`]);
}

export const ORG_TABLES = withPlurals(['org', 'organization', 'organisation', 'team', 'workspace']);
export const MEMBERSHIP_TABLES = withPlurals([
  'org_member',
  'organization_member',
  'membership',
  'org_membership',
  'organization_membership',
  'org_user',
  'organization_user',
  'team_member',
  'workspace_member',
  'member',
]);
export const ROLE_TABLES = withPlurals(['role', 'org_role']);
export const USER_TABLES = withPlurals(['user', 'account']);
/** Names a legacy users table tends to have, most likely first. */
export const LEGACY_TABLES = [
  'user_settings',
  'users',
  'accounts',
  'legacy_users',
  'user',
  'account',
  'user_profiles',
  'profiles',
];

export const EMAIL = /(^|_)e_?mail(_address)?$/;
/** A membership's or dependent's org column. */
export const ORG_COLUMN_NAME = /^(org|organization|organisation|team|workspace)_id$/;
/** A user's current org column, or any org column. */
export const ORG_COLUMN =
  /^(current_|active_|default_|selected_|personal_)?(org|organization|organisation|team|workspace)_id$/;
export const MEMBER_USER_COLUMN = /^(user|member|account)_id$/;
export const USER_KEY_LIKE = /(^|_)user_(id|uuid|key)$/;
export const SECRET = /(^|_)(api_?key|secret|token|password|private_key)(_|$)/;
export const MIGRATED = /migrated/;
export const TIME_NAME = /(_at|_on|_time|_date)$/;

export function sameName(a: QualifiedName, b: QualifiedName): boolean {
  return a.name === b.name && (a.schema === null || b.schema === null || a.schema === b.schema);
}

export function primaryKeyColumn(table: TableInfo): ColumnInfo | undefined {
  const pk = table.indexes.find((i) => i.primary && i.columns.length === 1);
  return pk ? columnOf(table, pk.columns[0] as string) : undefined;
}

export function primaryKeyColumns(table: TableInfo): readonly string[] {
  return table.indexes.find((i) => i.primary)?.columns ?? [];
}

export function foreignKeyColumn(table: TableInfo, target: TableInfo): ColumnInfo | undefined {
  const fk = table.foreignKeys.find((f) => f.columns.length === 1 && sameName(f.references, target.name));
  return fk ? columnOf(table, fk.columns[0] as string) : undefined;
}

export function columnNamed(table: TableInfo, pattern: RegExp | readonly string[]): ColumnInfo | undefined {
  if (Array.isArray(pattern)) {
    for (const name of pattern) {
      const found = table.columns.find((c) => words(c.name) === name);
      if (found) return found;
    }
    return undefined;
  }
  return table.columns.find((c) => (pattern as RegExp).test(words(c.name)));
}

/** A user's or a dependent's org column: a foreign key to the org table, else the name. */
export function orgColumnOf(table: TableInfo, org: TableInfo | null): ColumnInfo | undefined {
  return (org ? foreignKeyColumn(table, org) : undefined) ?? columnNamed(table, ORG_COLUMN);
}

export function emailColumn(table: TableInfo): ColumnInfo | undefined {
  return columnNamed(table, ['email', 'email_address', 'primary_email', 'user_email']) ?? columnNamed(table, EMAIL);
}

export function required(column: ColumnInfo): boolean {
  return !column.nullable && !column.hasDefault && !column.generated;
}

export function keyTypeOf(family: TypeFamily): KeyType | null {
  switch (family) {
    case 'text':
    case 'other':
      return 'text';
    case 'uuid':
    case 'integer':
    case 'bigint':
      return family;
    default:
      return null;
  }
}

export const GROUPS: readonly (readonly TypeFamily[])[] = [
  ['text', 'uuid', 'other'],
  ['integer', 'bigint', 'numeric'],
];

/** Two columns can hold the same ids. */
export function sameGroup(a: TypeFamily, b: TypeFamily): boolean {
  return a === b || GROUPS.some((g) => g.includes(a) && g.includes(b));
}

export const COPYABLE: readonly (readonly TypeFamily[])[] = [
  ['integer', 'bigint', 'numeric'],
  ['boolean', 'integer'],
  ['timestamp', 'timestamptz', 'date'],
  ['json', 'jsonb'],
  ['text', 'uuid'],
];

/** A value of `from` can be written to `to` as it is (text and unknown types take anything, as SQLite does). */
export function copyable(from: TypeFamily, to: TypeFamily): boolean {
  if (from === to || ['text', 'other'].includes(to) || from === 'other') return true;
  return COPYABLE.some((g) => g.includes(from) && g.includes(to));
}

export const isJson = (c: ColumnInfo) => c.family === 'json' || c.family === 'jsonb';
export const isText = (c: ColumnInfo) => c.family === 'text' || c.family === 'other';

export function ownerColumnOf(org: TableInfo): ColumnInfo | undefined {
  return columnNamed(org, ['owner_id', 'owner_user_id', 'owner', 'created_by', 'created_by_id', 'creator_id']);
}

/** `_llm_api_key`, `api_key_enc`, `apiKeyEncrypted` → `llm_api_key`, `api_key`, `api_key`. */
export function stripSecret(name: string): string {
  return words(name).replace(/_(enc|encrypted|cipher|ciphertext)$/, '');
}
