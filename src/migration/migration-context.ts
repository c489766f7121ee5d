import type { Database } from '../db/database.js';
import type { MapSql } from '../db/map-sql.js';
import type { CodecSet } from './codecs.js';

/** What a migration needs besides a transaction: the map in SQL, the secret codecs, the owner role. */
export interface MigrationContext {
  readonly db: Database;
  readonly sql: MapSql;
  readonly codecs: CodecSet;
  /** The value a membership's role column gets for the owner: the role row's id, or the role string. */
  readonly ownerRole: unknown;
}
