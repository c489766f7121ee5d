import type { Row } from './bulk-insert.js';
import {
  type LegacyCustomSecret,
  type LegacyDependents,
  type LegacyUser,
  SECRET_COLUMNS,
  type SecretColumn,
  type SecretStorage,
} from './legacy-user.js';
import { DEPENDENT_TABLES, type DependentTable } from './tables.js';

export interface OpenHandsSample {
  readonly keycloakUserId: string;
  readonly rowId: number;
  /**
   * The `user_settings` row as inserted: secret columns as stored, timestamps
   * as PostgreSQL prints them (`accepted_tos::text`), `mcp_config` parsed.
   */
  readonly settings: Row;
  /** The plaintext of each secret column (NULL where the column is NULL). */
  readonly secrets: Readonly<Record<SecretColumn, string | null>>;
  readonly storage: Readonly<Record<SecretColumn, SecretStorage>>;
  /** Primary keys of the user's rows in each dependent table. */
  readonly dependents: Readonly<Record<DependentTable, readonly (string | number)[]>>;
  /** The user's custom secrets, decrypted. */
  readonly customSecrets: readonly LegacyCustomSecret[];
}

export interface DuplicatedId {
  readonly keycloakUserId: string;
  readonly rowIds: readonly number[];
}

/** What the generator wrote, for tests to compare a migration against. */
export interface OpenHandsManifest {
  readonly seed: number;
  readonly jwtSecret: string;
  /** Rows per table. */
  readonly counts: Readonly<Record<'user_settings' | DependentTable, number>>;
  /** Dependent rows keyed by a valid id: what migrating every valid user touches (conversations get copied). */
  readonly dependentRowsOfValidUsers: Readonly<Record<DependentTable, number>>;
  readonly ids: {
    /** Keycloak ids on exactly one row: the users a migration can move. */
    readonly valid: readonly string[];
    /** `user_settings.id` of the rows whose Keycloak id is NULL. */
    readonly nullRowIds: readonly number[];
    /** Keycloak ids on two rows (never more), with both row ids. */
    readonly duplicated: readonly DuplicatedId[];
  };
  /** Valid users whose `email` is NULL. */
  readonly nullEmail: readonly string[];
  /** Valid users whose `accepted_tos` is NULL. */
  readonly nullAcceptedTos: readonly string[];
  /** Valid users whose `already_migrated` is NULL (OpenHands itself only picks rows where it IS false). */
  readonly nullMarker: readonly string[];
  /** Valid users per secret column and storage; a valid user in neither list has NULL there. */
  readonly secrets: Readonly<
    Record<SecretColumn, { readonly encrypted: readonly string[]; readonly plaintext: readonly string[] }>
  >;
  readonly samples: readonly OpenHandsSample[];
}

/** Collects the manifest row by row while the generator inserts. */
export class ManifestBuilder {
  readonly #counts: Record<'user_settings' | DependentTable, number> = { user_settings: 0, ...zeroCounts() };
  readonly #ofValid = zeroCounts();
  readonly #valid: string[] = [];
  readonly #nullRowIds: number[] = [];
  readonly #duplicated: DuplicatedId[] = [];
  readonly #nullEmail: string[] = [];
  readonly #nullAcceptedTos: string[] = [];
  readonly #nullMarker: string[] = [];
  readonly #secrets = Object.fromEntries(
    SECRET_COLUMNS.map((column) => [column, { encrypted: [] as string[], plaintext: [] as string[] }]),
  ) as Record<SecretColumn, { encrypted: string[]; plaintext: string[] }>;
  readonly #samples: OpenHandsSample[] = [];

  constructor(
    readonly seed: number,
    readonly jwtSecret: string,
  ) {}

  nullIdRow(rowId: number): void {
    this.#counts.user_settings += 1;
    this.#nullRowIds.push(rowId);
  }

  duplicatedRow(
    keycloakUserId: string,
    rowIds: readonly number[],
    first: boolean,
    dependents?: LegacyDependents,
  ): void {
    this.#counts.user_settings += 1;
    this.#countDependents(dependents, this.#counts);
    if (first) this.#duplicated.push({ keycloakUserId, rowIds });
  }

  validRow(keycloakUserId: string, legacy: LegacyUser, dependents: LegacyDependents, sample: boolean): void {
    this.#counts.user_settings += 1;
    this.#countDependents(dependents, this.#counts);
    this.#countDependents(dependents, this.#ofValid);
    this.#valid.push(keycloakUserId);
    if (legacy.row.email === null) this.#nullEmail.push(keycloakUserId);
    if (legacy.row.accepted_tos === null) this.#nullAcceptedTos.push(keycloakUserId);
    if (legacy.row.already_migrated === null) this.#nullMarker.push(keycloakUserId);
    for (const column of SECRET_COLUMNS) {
      const storage = legacy.storage[column];
      if (storage !== null) this.#secrets[column][storage].push(keycloakUserId);
    }
    if (sample) this.#samples.push(describeSample(keycloakUserId, legacy, dependents));
  }

  build(): OpenHandsManifest {
    return {
      seed: this.seed,
      jwtSecret: this.jwtSecret,
      counts: this.#counts,
      dependentRowsOfValidUsers: this.#ofValid,
      ids: { valid: this.#valid, nullRowIds: this.#nullRowIds, duplicated: this.#duplicated },
      nullEmail: this.#nullEmail,
      nullAcceptedTos: this.#nullAcceptedTos,
      nullMarker: this.#nullMarker,
      secrets: this.#secrets,
      samples: this.#samples,
    };
  }

  #countDependents(dependents: LegacyDependents | undefined, into: Record<DependentTable, number>): void {
    for (const table of DEPENDENT_TABLES) into[table] += dependents?.rows[table].length ?? 0;
  }
}

function describeSample(keycloakUserId: string, legacy: LegacyUser, dependents: LegacyDependents): OpenHandsSample {
  const mcp = legacy.row.mcp_config;
  return {
    keycloakUserId,
    rowId: legacy.row.id as number,
    settings: { ...legacy.row, mcp_config: typeof mcp === 'string' ? JSON.parse(mcp) : null },
    secrets: legacy.secrets,
    storage: legacy.storage,
    dependents: Object.fromEntries(
      DEPENDENT_TABLES.map((table) => [
        table,
        dependents.rows[table].map((row) => (row.id ?? row.conversation_id) as string | number),
      ]),
    ) as Record<DependentTable, (string | number)[]>,
    customSecrets: dependents.customSecrets,
  };
}

function zeroCounts(): Record<DependentTable, number> {
  return Object.fromEntries(DEPENDENT_TABLES.map((table) => [table, 0])) as Record<DependentTable, number>;
}
