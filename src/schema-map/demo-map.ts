import { checkMap, type LoadedMap } from './load-map.js';
import type { SchemaMap } from './schema-map.js';

/**
 * The demo layout (`legacy_users` → `orgs`/`users`/`org_members`/`roles`)
 * as a map like any other: the engine has no code path of its own for it.
 * examples/demo/orgshift.map.json is this map as a file (a test keeps the
 * two equal). Its tables are created by src/demo/demo-tables.ts, because the
 * demo has no application of its own to create them.
 */
export const DEMO_MAP: SchemaMap = Object.freeze({
  version: 1,
  legacy: {
    table: 'legacy_users',
    key: { column: 'id', type: 'uuid' },
    marker: { type: 'timestamp', column: 'migrated_at' },
  },
  codecs: {
    legacy: { codec: 'aes-256-gcm', key: { env: 'ORGSHIFT_LEGACY_KEY' } },
    current: { codec: 'aes-256-gcm', key: { env: 'ORGSHIFT_SECRET_KEY' } },
  },
  target: {
    shape: 'moved',
    org: {
      table: 'orgs',
      id: { column: 'id', generate: 'user-key' },
      name: 'name',
      kind: { column: 'kind', personal: 'personal' },
      fields: {
        name: { template: '{display_name|email} (personal)' },
        contact_email: { column: 'email' },
        settings: { json: 'settings', pick: ['llm_model', 'llm_base_url'] },
      },
    },
    user: {
      table: 'users',
      id: 'id',
      currentOrg: 'current_org_id',
      email: 'email',
      displayName: 'display_name',
      migratedAt: 'migrated_at',
      fields: {
        email: { column: 'email' },
        display_name: { column: 'display_name' },
        preferences: { json: 'settings', omit: ['llm_model', 'llm_base_url'] },
        created_at: { column: 'created_at' },
      },
    },
    membership: {
      table: 'org_members',
      org: 'org_id',
      user: 'user_id',
      role: { table: 'roles', column: 'role_id', id: 'id', name: 'name', rank: 'rank', owner: 'owner' },
      status: { column: 'status', active: 'active' },
      fields: { api_key_enc: { secret: 'api_key_enc', from: 'legacy', to: 'current' } },
    },
  },
  dependents: [
    { table: 'conversations', userKey: { column: 'user_id' }, org: { column: 'org_id' } },
    { table: 'api_keys', userKey: { column: 'user_id' }, org: { column: 'org_id' } },
  ],
} satisfies SchemaMap);

export const DEMO_ORIGIN = 'built-in demo map';

export function demoMap(): LoadedMap {
  return checkMap(DEMO_MAP, DEMO_ORIGIN);
}
