import type { ColumnSpec } from './bulk-insert.js';

/** The columns the fixture fills, per table, with the array type each travels in (see schema.sql). */
const columns = (spec: Readonly<Record<string, string>>): readonly ColumnSpec[] =>
  Object.entries(spec).map(([name, type]) => ({ name, type }));

export const USER_SETTINGS = columns({
  id: 'int4',
  keycloak_user_id: 'text',
  language: 'text',
  agent: 'text',
  max_iterations: 'int4',
  security_analyzer: 'text',
  confirmation_mode: 'bool',
  llm_model: 'text',
  llm_api_key: 'text',
  llm_base_url: 'text',
  remote_runtime_resource_factor: 'int4',
  enable_default_condenser: 'bool',
  user_consents_to_analytics: 'bool',
  billing_margin: 'float8',
  enable_sound_notifications: 'bool',
  sandbox_base_container_image: 'text',
  sandbox_runtime_container_image: 'text',
  user_version: 'int4',
  accepted_tos: 'timestamp',
  enable_proactive_conversation_starters: 'bool',
  mcp_config: 'json',
  search_api_key: 'text',
  max_budget_per_task: 'float8',
  sandbox_api_key: 'text',
  enable_solvability_analysis: 'bool',
  email: 'text',
  email_verified: 'bool',
  llm_api_key_for_byor: 'text',
  git_user_name: 'text',
  git_user_email: 'text',
  condenser_max_size: 'int4',
  v1_enabled: 'bool',
  already_migrated: 'bool',
});

export const STRIPE_CUSTOMERS = columns({
  id: 'int4',
  keycloak_user_id: 'text',
  stripe_customer_id: 'text',
  created_at: 'timestamp',
  updated_at: 'timestamp',
});

export const SLACK_USERS = columns({
  id: 'int4',
  keycloak_user_id: 'text',
  slack_user_id: 'text',
  slack_display_name: 'text',
  created_at: 'timestamp',
});

export const SLACK_CONVERSATION = columns({
  id: 'int4',
  conversation_id: 'text',
  channel_id: 'text',
  keycloak_user_id: 'text',
  parent_id: 'text',
  v1_enabled: 'bool',
});

export const API_KEYS = columns({
  id: 'int4',
  key: 'text',
  user_id: 'text',
  name: 'text',
  created_at: 'timestamp',
  last_used_at: 'timestamp',
  expires_at: 'timestamp',
});

export const CUSTOM_SECRETS = columns({
  id: 'int4',
  keycloak_user_id: 'text',
  secret_name: 'text',
  secret_value: 'text',
  description: 'text',
});

export const BILLING_SESSIONS = columns({
  id: 'text',
  user_id: 'text',
  status: 'billing_session_status_enum',
  price: 'numeric',
  price_code: 'text',
  created_at: 'timestamp',
  updated_at: 'timestamp',
  billing_session_type: 'billing_session_type_enum',
});

export const CONVERSATION_METADATA = columns({
  conversation_id: 'text',
  github_user_id: 'text',
  selected_repository: 'text',
  title: 'text',
  last_updated_at: 'timestamp',
  created_at: 'timestamp',
  selected_branch: 'text',
  user_id: 'text',
  accumulated_cost: 'float8',
  prompt_tokens: 'int4',
  completion_tokens: 'int4',
  total_tokens: 'int4',
  trigger: 'text',
  git_provider: 'text',
  llm_model: 'text',
  conversation_version: 'text',
});

/** The tables the fixture fills, in an order that respects every foreign key. */
export const DEPENDENT_TABLES = [
  'stripe_customers',
  'slack_users',
  'slack_conversation',
  'api_keys',
  'custom_secrets',
  'billing_sessions',
  'conversation_metadata',
] as const;

export type DependentTable = (typeof DEPENDENT_TABLES)[number];

export const DEPENDENT_COLUMNS: Readonly<Record<DependentTable, readonly ColumnSpec[]>> = {
  stripe_customers: STRIPE_CUSTOMERS,
  slack_users: SLACK_USERS,
  slack_conversation: SLACK_CONVERSATION,
  api_keys: API_KEYS,
  custom_secrets: CUSTOM_SECRETS,
  billing_sessions: BILLING_SESSIONS,
  conversation_metadata: CONVERSATION_METADATA,
};

/** Each dependent's user key column: the Keycloak id as varchar, under two names. */
export const DEPENDENT_USER_KEY: Readonly<Record<DependentTable, string>> = {
  stripe_customers: 'keycloak_user_id',
  slack_users: 'keycloak_user_id',
  slack_conversation: 'keycloak_user_id',
  api_keys: 'user_id',
  custom_secrets: 'keycloak_user_id',
  billing_sessions: 'user_id',
  conversation_metadata: 'user_id',
};

/** Dependents whose primary key is an identity/serial the fixture sets explicitly. */
export const DEPENDENTS_WITH_SEQUENCES: readonly DependentTable[] = [
  'stripe_customers',
  'slack_users',
  'slack_conversation',
  'api_keys',
  'custom_secrets',
];
