import { type RawBuilder, sql } from 'kysely';
import { ident } from '../db/database.js';
import type { LegacySchema } from '../db/legacy-schema.js';
import { LegacyRowInvalidError } from '../errors.js';
import { toDate, toJsonObject } from './decode-user.js';

/** One legacy user as the migration reads it, under a row lock its transaction holds. */
export type LegacyRow = ReadableLegacyRow | UnreadableLegacyRow;

export interface ReadableLegacyRow {
  readonly readable: true;
  readonly id: string;
  readonly email: string;
  readonly displayName: string | null;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly apiKeyEnc: string | null;
  readonly createdAt: Date;
  readonly migrated: boolean;
}

/** A row with a column that does not decode: migrating it would lose or invent data, so it is refused. */
export interface UnreadableLegacyRow {
  readonly readable: false;
  readonly id: string;
  readonly migrated: boolean;
  readonly error: LegacyRowInvalidError;
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

/**
 * Never throws: a batch must not die of one bad row, and the parser's own
 * message would quote the row's content.
 */
export function decodeLegacyRow(row: Readonly<Record<string, unknown>>, legacy: LegacySchema): LegacyRow {
  const id = String(row.id);
  const migrated = row.migrated_at !== null && row.migrated_at !== undefined;
  let settings: Readonly<Record<string, unknown>>;
  let createdAt: Date;
  try {
    settings = toJsonObject(row.settings);
  } catch {
    return { readable: false, id, migrated, error: new LegacyRowInvalidError(id, legacy.columns.settings, 'JSON') };
  }
  try {
    createdAt = toDate(row.created_at);
  } catch {
    return {
      readable: false,
      id,
      migrated,
      error: new LegacyRowInvalidError(id, legacy.columns.createdAt, 'a finite timestamp'),
    };
  }
  return {
    readable: true,
    id,
    email: String(row.email),
    displayName: row.display_name === null || row.display_name === undefined ? null : String(row.display_name),
    settings,
    apiKeyEnc: row.api_key_enc === null || row.api_key_enc === undefined ? null : String(row.api_key_enc),
    createdAt,
    migrated,
  };
}
