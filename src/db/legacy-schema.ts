/**
 * Every legacy table and column name orgshift touches, in one place, so that a
 * team can point orgshift at the schema it already has. SQL is always built
 * from this descriptor, never from literal legacy names.
 */
export interface DependentTable {
  /** Table holding rows that belong to one legacy user. */
  readonly table: string;
  /** The payload column (kept as-is; only used by seed and shown in docs). */
  readonly payloadColumn: string;
}

export interface LegacySchema {
  readonly usersTable: string;
  readonly columns: {
    readonly id: string;
    readonly email: string;
    readonly displayName: string;
    readonly settings: string;
    readonly apiKeyEnc: string;
    readonly createdAt: string;
    readonly migratedAt: string;
  };
  /** Tables with `id`, `user_id`, `org_id`, payload, `created_at`. */
  readonly dependents: readonly DependentTable[];
  /** Legacy `settings` keys that belong to the org rather than the user. */
  readonly orgSettingsKeys: readonly string[];
}

export const DEFAULT_LEGACY_SCHEMA: LegacySchema = Object.freeze({
  usersTable: 'legacy_users',
  columns: Object.freeze({
    id: 'id',
    email: 'email',
    displayName: 'display_name',
    settings: 'settings',
    apiKeyEnc: 'api_key_enc',
    createdAt: 'created_at',
    migratedAt: 'migrated_at',
  }),
  dependents: Object.freeze([
    Object.freeze({ table: 'conversations', payloadColumn: 'title' }),
    Object.freeze({ table: 'api_keys', payloadColumn: 'name' }),
  ]),
  orgSettingsKeys: Object.freeze(['llm_model', 'llm_base_url']),
});

/** Identifiers are interpolated into SQL, so only plain lower-case names pass. */
export const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
