import type { Kysely, RawBuilder } from 'kysely';

/**
 * What differs between dialects when the legacy marker is a timestamp: how
 * to read the database's clock, how to bucket the marker into minutes and
 * how to spell a lower bound the marker column can be compared with.
 */
export interface MarkerTimeSql {
  /** The database's clock in seconds since the epoch, so buckets and "now" come from one clock. */
  now(db: Kysely<unknown>): Promise<number>;
  /** Epoch second at which the minute holding `column`'s value starts. */
  minuteOf(column: RawBuilder<unknown>): RawBuilder<number | string>;
  /** A value of the marker's own type, for `column >= since`, so an index on the column stays usable. */
  since(epochSeconds: number): RawBuilder<unknown>;
}
