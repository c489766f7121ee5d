import type { SecretCodec } from '../../src/secrets/secret-codec.js';
import type { Row } from './bulk-insert.js';
import type { Random } from './random.js';
import type { DependentTable } from './tables.js';

/** The `user_settings` columns OpenHands treats as secrets (migrate_user decrypts all four). */
export const SECRET_COLUMNS = ['llm_api_key', 'llm_api_key_for_byor', 'search_api_key', 'sandbox_api_key'] as const;
export type SecretColumn = (typeof SECRET_COLUMNS)[number];

/** How a secret column of one row is stored: a (wrapped) Fernet token, as-is, or NULL. */
export type SecretStorage = 'encrypted' | 'plaintext' | null;

export interface Shares {
  /** Rows with an `llm_api_key` that hold it in plaintext (written before encryption). */
  readonly plaintextKey: number;
  readonly noKey: number;
  readonly nullEmail: number;
  readonly nullAcceptedTos: number;
  /** Rows whose `already_migrated` is NULL rather than false. */
  readonly nullMarker: number;
}

/** Traits a sample row is given on purpose, so the samples always cover every case. */
export interface ForcedTraits {
  readonly keyStorage?: 'encrypted' | 'plaintext' | 'none';
  readonly nullEmail?: boolean;
  readonly nullAcceptedTos?: boolean;
  readonly everySecret?: boolean;
}

export interface LegacyCustomSecret {
  readonly id: number;
  readonly name: string;
  readonly value: string;
  readonly description: string | null;
}

export interface LegacyUser {
  /** The `user_settings` row as inserted (secret columns as stored). */
  readonly row: Row;
  readonly secrets: Readonly<Record<SecretColumn, string | null>>;
  readonly storage: Readonly<Record<SecretColumn, SecretStorage>>;
}

export interface LegacyDependents {
  readonly rows: Readonly<Record<DependentTable, readonly Row[]>>;
  /** `custom_secrets` rows with their value and description decrypted. */
  readonly customSecrets: readonly LegacyCustomSecret[];
}

/** Hands out the primary keys of the dependents whose ids are integers. */
export class IdCounters {
  readonly #next = new Map<string, number>();

  next(table: string): number {
    const id = (this.#next.get(table) ?? 0) + 1;
    this.#next.set(table, id);
    return id;
  }
}

const LITELLM_PROXY = 'https://llm-proxy.app.all-hands.dev';
/** OpenHands' default model per `user_version` (1, 2, 3/4), as `litellm_proxy/<model>`. */
const DEFAULT_MODEL_BY_VERSION: Readonly<Record<number, string>> = {
  0: 'claude-3-5-sonnet-20241022',
  1: 'claude-3-5-sonnet-20241022',
  2: 'claude-3-7-sonnet-20250219',
  4: 'claude-sonnet-4-20250514',
};
const CUSTOM_MODELS = [
  'anthropic/claude-3-7-sonnet-20250219',
  'openai/gpt-4o',
  'openai/o3-mini',
  'gemini/gemini-2.5-pro',
  'deepseek/deepseek-chat',
  'openrouter/anthropic/claude-sonnet-4',
  'ollama/qwen2.5-coder:32b',
];
const CUSTOM_BASE_URLS = ['https://api.openai.com/v1', 'https://openrouter.ai/api/v1', 'http://localhost:11434'];
const LANGUAGES = ['en', 'en', 'en', 'en', 'es', 'fr', 'de', 'ja', 'zh-CN', 'pt-BR', 'ko'];
const FIRST = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'donald', 'margaret', 'ken', 'radia', 'linus', 'frances'];
const LAST = ['lovelace', 'hopper', 'turing', 'dijkstra', 'liskov', 'knuth', 'hamilton', 'thompson', 'perlman'];
const DOMAINS = ['gmail.com', 'outlook.com', 'example.com', 'proton.me', 'acme.dev', 'uni-example.edu'];
const SECRET_NAMES = [
  'GITHUB_TOKEN',
  'NPM_TOKEN',
  'OPENAI_API_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'DATABASE_URL',
  'SENTRY_DSN',
];
const REPOSITORIES = ['acme/web', 'acme/api', 'octo/hello-world', 'data/pipelines', 'ml/notebooks'];

/**
 * One legacy `user_settings` row, shaped like OpenHands' production data:
 * most optional columns NULL, defaults where the migrations set them,
 * secrets base64(Fernet) except for a share of old plaintext keys.
 */
export function makeLegacyUser(
  random: Random,
  codec: SecretCodec,
  rowId: number,
  keycloakUserId: string | null,
  shares: Shares,
  forced: ForcedTraits = {},
): LegacyUser {
  const ownerId = { ownerId: keycloakUserId ?? '' };
  const version = random.pick([0, 1, 2, 2, 4, 4, 4, 4]);
  const model = chooseModel(random, version);
  const custom = model !== null && !model.startsWith('litellm_proxy/');
  const first = random.pick(FIRST);
  const last = random.pick(LAST);
  const nullEmail = forced.nullEmail ?? random.chance(shares.nullEmail);
  const email = nullEmail ? null : `${first}.${last}.${random.hex(6)}@${random.pick(DOMAINS)}`;

  const keyStorage = forced.keyStorage ?? chooseKeyStorage(random, shares);
  const every = forced.everySecret === true;
  const secrets: Record<SecretColumn, string | null> = {
    llm_api_key: keyStorage === 'none' ? null : llmKey(random, custom ? model : null),
    llm_api_key_for_byor: every || random.chance(0.1) ? `sk-${random.text(22)}` : null,
    search_api_key: every || random.chance(0.08) ? `tvly-${random.text(32)}` : null,
    sandbox_api_key: every || random.chance(0.03) ? random.text(43) : null,
  };
  const storage: Record<SecretColumn, SecretStorage> = {
    llm_api_key: keyStorage === 'none' ? null : keyStorage,
    llm_api_key_for_byor:
      secrets.llm_api_key_for_byor === null ? null : random.chance(0.75) ? 'encrypted' : 'plaintext',
    search_api_key: secrets.search_api_key === null ? null : random.chance(0.9) ? 'encrypted' : 'plaintext',
    // OpenHands never encrypted this column.
    sandbox_api_key: secrets.sandbox_api_key === null ? null : 'plaintext',
  };
  const stored = (column: SecretColumn): string | null => {
    const plaintext = secrets[column];
    if (plaintext === null) return null;
    return storage[column] === 'encrypted' ? codec.encode(plaintext, ownerId) : plaintext;
  };

  const row: Row = {
    id: rowId,
    keycloak_user_id: keycloakUserId,
    language: random.maybe(0.7, () => random.pick(LANGUAGES)),
    agent: random.maybe(0.9, () => 'CodeActAgent'),
    max_iterations: random.maybe(0.3, () => random.pick([100, 250, 500])),
    security_analyzer: random.maybe(0.1, () => random.pick(['', 'llm', 'invariant'])),
    confirmation_mode: random.maybe(0.6, () => random.chance(0.15)),
    llm_model: model,
    llm_api_key: stored('llm_api_key'),
    llm_base_url: custom
      ? random.maybe(0.4, () => random.pick(CUSTOM_BASE_URLS))
      : random.maybe(0.3, () => LITELLM_PROXY),
    remote_runtime_resource_factor: random.maybe(0.2, () => random.pick([1, 2, 4])),
    enable_default_condenser: random.chance(0.95),
    user_consents_to_analytics: random.maybe(0.8, () => random.chance(0.7)),
    billing_margin: random.maybe(0.5, () => random.pick([1, 1, 1, 2])),
    enable_sound_notifications: random.maybe(0.4, () => random.chance(0.3)),
    sandbox_base_container_image: random.maybe(0.05, () => 'nikolaik/python-nodejs:python3.12-nodejs22'),
    sandbox_runtime_container_image: random.maybe(0.03, () => 'ghcr.io/all-hands-ai/runtime:0.39-nikolaik'),
    user_version: version,
    accepted_tos:
      (forced.nullAcceptedTos ?? random.chance(shares.nullAcceptedTos))
        ? null
        : random.timestamp('2024-11-01T00:00:00Z', '2026-01-10T00:00:00Z'),
    enable_proactive_conversation_starters: random.chance(0.9),
    mcp_config: random.maybe(0.12, () => mcpConfig(random)),
    search_api_key: stored('search_api_key'),
    max_budget_per_task: random.maybe(0.1, () => random.pick([2, 5, 10, 25.5])),
    sandbox_api_key: stored('sandbox_api_key'),
    enable_solvability_analysis: random.maybe(0.95, () => random.chance(0.9)),
    email,
    email_verified: email === null ? null : random.chance(0.85),
    llm_api_key_for_byor: stored('llm_api_key_for_byor'),
    git_user_name: random.maybe(0.1, () => `${first}-${last}`),
    git_user_email: random.maybe(0.1, () => `${first}@users.noreply.github.com`),
    condenser_max_size: random.maybe(0.8, () => 240),
    v1_enabled: random.maybe(0.3, () => true),
    already_migrated: random.chance(shares.nullMarker) ? null : false,
  };
  return { row, secrets, storage };
}

/**
 * The rows in every dependent table that belong to one Keycloak id, keyed the
 * way OpenHands keys them. `everyTable` gives the user at least one row in
 * each table (for the manifest's samples).
 */
export function makeDependents(
  random: Random,
  codec: SecretCodec,
  keycloakUserId: string,
  scale: number,
  ids: IdCounters,
  everyTable = false,
): LegacyDependents {
  const since = '2024-06-01T00:00:00Z';
  const until = '2026-01-14T00:00:00Z';
  const rows: Record<DependentTable, Row[]> = {
    stripe_customers: [],
    slack_users: [],
    slack_conversation: [],
    api_keys: [],
    custom_secrets: [],
    billing_sessions: [],
    conversation_metadata: [],
  };
  const customSecrets: LegacyCustomSecret[] = [];
  const chance = (probability: number) => everyTable || random.chance(probability);
  const count = (min: number, max: number) => {
    const high = Math.max(max, everyTable ? 1 : 0);
    return random.int(Math.min(everyTable ? Math.max(min, 1) : min, high), high);
  };
  const times = () => {
    const created = random.timestamp(since, until);
    return {
      created,
      updated: random.chance(0.5) ? created : random.timestamp(created, until),
    };
  };

  if (chance(0.6)) {
    const { created, updated } = times();
    rows.stripe_customers.push({
      id: ids.next('stripe_customers'),
      keycloak_user_id: keycloakUserId,
      stripe_customer_id: `cus_${random.text(14)}`,
      created_at: created,
      updated_at: updated,
    });
  }
  if (chance(0.15)) {
    rows.slack_users.push({
      id: ids.next('slack_users'),
      keycloak_user_id: keycloakUserId,
      slack_user_id: `U${random.text(10, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
      slack_display_name: random.pick(FIRST),
      created_at: random.timestamp(since, until),
    });
    for (let n = count(0, 2 * scale); n > 0; n -= 1) {
      rows.slack_conversation.push({
        id: ids.next('slack_conversation'),
        conversation_id: random.hex(32),
        channel_id: `C${random.text(10, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
        keycloak_user_id: keycloakUserId,
        parent_id: random.maybe(0.5, () => `17${random.int(10_000_000, 99_999_999)}.${random.int(100_000, 999_999)}`),
        v1_enabled: random.maybe(0.3, () => true),
      });
    }
  }
  for (let n = count(0, scale); n > 0; n -= 1) {
    const created = random.timestamp(since, until);
    rows.api_keys.push({
      id: ids.next('api_keys'),
      key: `sk-oh-${random.text(32)}`,
      user_id: keycloakUserId,
      name: random.maybe(0.8, () => random.pick(['default', 'ci', 'laptop', 'github-action'])),
      created_at: created,
      last_used_at: random.maybe(0.6, () => random.timestamp(created, until)),
      expires_at: random.maybe(0.1, () => random.timestamp(until, '2027-01-01T00:00:00Z')),
    });
  }
  if (chance(0.3)) {
    for (let n = count(1, scale); n > 0; n -= 1) {
      const secret: LegacyCustomSecret = {
        id: ids.next('custom_secrets'),
        name: `${random.pick(SECRET_NAMES)}_${n}`,
        value: `${random.pick(['ghp_', 'npm_', 'sk-', ''])}${random.text(36)}`,
        description: random.maybe(0.4, () => `token for ${random.pick(REPOSITORIES)}`),
      };
      customSecrets.push(secret);
      // OpenHands encrypts every non-null string of a custom secret, the description included.
      const owner = { ownerId: keycloakUserId };
      rows.custom_secrets.push({
        id: secret.id,
        keycloak_user_id: keycloakUserId,
        secret_name: secret.name,
        secret_value: codec.encode(secret.value, owner),
        description: secret.description === null ? null : codec.encode(secret.description, owner),
      });
    }
  }
  if (chance(0.4)) {
    for (let n = count(1, scale); n > 0; n -= 1) {
      const { created, updated } = times();
      rows.billing_sessions.push({
        id: `cs_live_${random.text(58)}`,
        user_id: keycloakUserId,
        status: random.pick(['completed', 'completed', 'completed', 'in_progress', 'cancelled', 'error']),
        price: random.pick(['10.0000', '25.0000', '50.0000', '100.0000']),
        price_code: 'NA',
        created_at: created,
        updated_at: updated,
        billing_session_type: random.chance(0.9) ? 'DIRECT_PAYMENT' : 'MONTHLY_SUBSCRIPTION',
      });
    }
  }
  for (let n = count(0, 2 * scale); n > 0; n -= 1) {
    const { created, updated } = times();
    const prompt = random.int(0, 2_000_000);
    const completion = random.int(0, 200_000);
    rows.conversation_metadata.push({
      conversation_id: random.hex(32),
      github_user_id: random.maybe(0.5, () => String(random.int(1_000, 200_000_000))),
      selected_repository: random.maybe(0.7, () => random.pick(REPOSITORIES)),
      title: `Conversation ${random.hex(5)}`,
      last_updated_at: updated,
      created_at: created,
      selected_branch: random.maybe(0.4, () => random.pick(['main', 'develop', 'feature/login'])),
      user_id: keycloakUserId,
      accumulated_cost: random.int(0, 5_000) / 100,
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      trigger: random.maybe(0.8, () => random.pick(['gui', 'gui', 'resolver', 'slack', 'openhands_api'])),
      git_provider: random.maybe(0.7, () => random.pick(['github', 'github', 'gitlab', 'bitbucket'])),
      llm_model: random.maybe(0.8, () => `litellm_proxy/${DEFAULT_MODEL_BY_VERSION[4]}`),
      conversation_version: random.chance(0.8) ? 'V0' : 'V1',
    });
  }
  return { rows, customSecrets };
}

function chooseModel(random: Random, version: number): string | null {
  const roll = random.int(1, 100);
  if (roll <= 10) return null;
  if (roll <= 75) return `litellm_proxy/${DEFAULT_MODEL_BY_VERSION[version]}`;
  return random.pick(CUSTOM_MODELS);
}

function chooseKeyStorage(random: Random, shares: Shares): 'encrypted' | 'plaintext' | 'none' {
  if (random.chance(shares.noKey)) return 'none';
  return random.chance(shares.plaintextKey) ? 'plaintext' : 'encrypted';
}

/** A LiteLLM virtual key for proxy users, the provider's key shape for the others. */
function llmKey(random: Random, customModel: string | null): string {
  if (customModel === null) return `sk-${random.text(22)}`;
  if (customModel.startsWith('anthropic/')) return `sk-ant-api03-${random.text(86)}-${random.text(8)}AA`;
  if (customModel.startsWith('openai/')) return `sk-proj-${random.text(48)}`;
  if (customModel.startsWith('gemini/')) return `AIza${random.text(35)}`;
  if (customModel.startsWith('openrouter/')) return `sk-or-v1-${random.hex(64)}`;
  return `sk-${random.hex(32)}`;
}

function mcpConfig(random: Random): string {
  return JSON.stringify({
    sse_servers: random.chance(0.6) ? [{ url: `https://mcp-${random.hex(6)}.example.com/sse`, api_key: null }] : [],
    stdio_servers: random.chance(0.4) ? [{ name: 'fetch', command: 'uvx', args: ['mcp-server-fetch'], env: {} }] : [],
    shttp_servers: [],
  });
}
