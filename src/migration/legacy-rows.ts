import { isTrue } from '../db/driver-values.js';
import type { MapSql } from '../db/map-sql.js';
import { isOrgshiftError, LegacyRowInvalidError, type OrgshiftError } from '../errors.js';
import { parseUserKey } from '../schema-map/user-key.js';

/** One legacy row as a migration reads it, under a row lock its transaction holds. */
export type LegacyRow = ReadableLegacyRow | UnreadableLegacyRow;

export interface ReadableLegacyRow {
  readonly readable: true;
  /** The user key, canonical text. */
  readonly key: string;
  readonly migrated: boolean;
  /** Every column the map reads, by name, as the driver returned it. */
  readonly values: Readonly<Record<string, unknown>>;
}

/** A row the migration must refuse before planning: its key is not a valid key. */
export interface UnreadableLegacyRow {
  readonly readable: false;
  readonly key: string;
  readonly migrated: boolean;
  readonly error: OrgshiftError;
}

const MARKED = 'orgshift_marked';

/**
 * The select list of a legacy row for a table aliased `l`: every column the
 * map reads, under its own name, and whether the row is already migrated.
 * Shared by the just-in-time read and the backfill's claim, so both hand the
 * migration the same shape.
 */
export function legacySelectList(m: MapSql): string {
  const columns = m.model.legacyColumns.map((c) => `${m.col('l', c)} as ${m.q(c)}`);
  return [...columns, `${m.marked('l')} as ${MARKED}`].join(', ');
}

/** Never throws: a batch must not die of one bad row. */
export function decodeLegacyRow(m: MapSql, row: Readonly<Record<string, unknown>>): LegacyRow {
  const keySpec = m.model.legacy.key;
  const raw = row[keySpec.column];
  const text = raw === null || raw === undefined ? '' : String(raw);
  const migrated = isTrue(row[MARKED]);
  try {
    const key = parseUserKey(text, keySpec);
    if (key !== text && keySpec.type === 'uuid') {
      // Lookups compare the canonical lower-case form, which this row would never match.
      throw new LegacyRowInvalidError(text, keySpec.column, 'a lower-case UUID');
    }
    return { readable: true, key, migrated, values: row };
  } catch (error) {
    const refusal =
      isOrgshiftError(error) && error.code === 'legacy_row_invalid'
        ? error
        : new LegacyRowInvalidError(text, keySpec.column, `a valid user key (${keySpec.type})`);
    return { readable: false, key: text, migrated, error: refusal };
  }
}
