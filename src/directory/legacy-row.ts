import { type RawBuilder, sql } from 'kysely';
import { ident } from '../db/database.js';
import type { LegacySchema } from '../db/legacy-schema.js';
import { toDate, toJsonObject } from './decode-user.js';

/** One legacy user as the migration reads it, under a row lock its transaction holds. */
export interface LegacyRow {
  readonly id: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly apiKeyEnc: string | null;
  readonly createdAt: Date;
  readonly migrated: boolean;
}

/**
 * The select list of a legacy row, for a table aliased `l`: shared by the
 * just-in-time read and the backfill's claim, so both hand the migration the
 * same shape.
 */
export function legacyRowColumns(legacy: LegacySchema): RawBuilder<unknown> {
  const c = legacy.columns;
  const column = (name: string, as: string) => `l.${ident(name)} as ${as}`;
  return sql.raw(
    [
      column(c.id, 'id'),
      column(c.email, 'email'),
      column(c.displayName, 'display_name'),
      column(c.settings, 'settings'),
      column(c.apiKeyEnc, 'api_key_enc'),
      column(c.createdAt, 'created_at'),
      column(c.migratedAt, 'migrated_at'),
    ].join(', '),
  );
}

export function decodeLegacyRow(row: Readonly<Record<string, unknown>>): LegacyRow {
  return {
    id: String(row.id),
    email: String(row.email),
    displayName: row.display_name === null || row.display_name === undefined ? null : String(row.display_name),
    settings: toJsonObject(row.settings),
    apiKeyEnc: row.api_key_enc === null || row.api_key_enc === undefined ? null : String(row.api_key_enc),
    createdAt: toDate(row.created_at),
    migrated: row.migrated_at !== null && row.migrated_at !== undefined,
  };
}
