import { type OrgshiftError, SecretUndecryptableError } from '../errors.js';
import type { LegacyRow, ReadableLegacyRow } from './legacy-row.js';
import type { MigrationContext } from './migration-context.js';
import { splitSettings } from './settings.js';

/** What a migration writes for one legacy user, computed before any write. */
export interface PlannedUser {
  readonly id: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly orgName: string;
  readonly orgSettings: Readonly<Record<string, unknown>>;
  readonly preferences: Readonly<Record<string, unknown>>;
  /** The legacy secret, re-encrypted under the current key; null when there was none. */
  readonly apiKeyEnc: string | null;
  readonly createdAt: Date;
}

/** A user the data alone says cannot be migrated: a legacy secret that does not decrypt, a column that does not decode. */
export interface RefusedUser {
  readonly id: string;
  readonly error: OrgshiftError;
}

export interface MigrationPlan {
  readonly users: readonly PlannedUser[];
  readonly alreadyMigrated: readonly string[];
  readonly refused: readonly RefusedUser[];
}

/**
 * Everything per-user a migration needs that SQL cannot do: splitting the
 * legacy settings between org and user, and moving the secret from the
 * legacy key to the current one (the database never sees either key). Pure,
 * so one write can then migrate any number of users at once.
 */
export function planMigration(ctx: MigrationContext, rows: readonly LegacyRow[]): MigrationPlan {
  const users: PlannedUser[] = [];
  const alreadyMigrated: string[] = [];
  const refused: RefusedUser[] = [];
  for (const row of rows) {
    if (row.migrated) {
      alreadyMigrated.push(row.id);
      continue;
    }
    if (!row.readable) {
      refused.push({ id: row.id, error: row.error });
      continue;
    }
    try {
      users.push(planUser(ctx, row));
    } catch (error) {
      if (!(error instanceof SecretUndecryptableError)) throw error;
      refused.push({ id: row.id, error });
    }
  }
  return { users, alreadyMigrated, refused };
}

function planUser(ctx: MigrationContext, row: ReadableLegacyRow): PlannedUser {
  const { orgSettings, preferences } = splitSettings(row.settings, ctx.legacy.orgSettingsKeys);
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    orgName: personalOrgName(row.displayName, row.email),
    orgSettings,
    preferences,
    apiKeyEnc: row.apiKeyEnc === null ? null : reencrypt(ctx, row.id, row.apiKeyEnc),
    createdAt: row.createdAt,
  };
}

function reencrypt(ctx: MigrationContext, userId: string, legacySecret: string): string {
  return ctx.currentCipher.encrypt(ctx.legacyCipher.decrypt(legacySecret, userId), userId);
}

/** The personal org's name, for migrated and native users alike. */
export function personalOrgName(displayName: string | null, email: string): string {
  return `${displayName ?? email} (personal)`;
}
