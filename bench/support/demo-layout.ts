/**
 * The demo map's names, for benchmarks that build or migrate its tables
 * with hand-written set-based SQL (the baselines). The engine itself only
 * ever reads names from the map.
 */
export interface DemoLayout {
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
  readonly dependents: readonly { readonly table: string; readonly payloadColumn: string }[];
  readonly orgSettingsKeys: readonly string[];
}

export const DEMO_LAYOUT: DemoLayout = Object.freeze({
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

export function ident(name: string): string {
  return `"${name}"`;
}
