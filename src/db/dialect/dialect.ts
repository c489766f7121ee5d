import type { TypeFamily } from '../../schema-map/catalog.js';
import type { QualifiedName } from '../../schema-map/table-name.js';
import type { OutboxSql } from './outbox-sql.js';

export type DialectName = 'postgres' | 'sqlite';

/**
 * Every SQL spelling that differs between the databases orgshift runs on,
 * in one interface with one implementation per folder beside this file
 * (postgres/, sqlite/). Core code asks the dialect; it never tests which
 * database it is on. A new database is one more folder.
 *
 * Fragments are SQL text. Identifiers passed in have been validated by the
 * map (no control characters, no double quotes) and are always quoted here.
 */
export interface SqlDialect {
  readonly name: DialectName;
  /** Several write transactions can be open at once (SQLite serializes writers: one is all it takes). */
  readonly concurrentWriters: boolean;

  // ---- names and values
  quote(identifier: string): string;
  /** A table, quoted and qualified when the map gave a schema. */
  table(name: QualifiedName): string;
  /** Positional parameter n (1-based) in raw statement text. */
  param(n: number): string;
  /** `expression` converted to `sqlType` (a type as the catalog spells it). */
  cast(expression: string, sqlType: string): string;
  /**
   * A key of type family `from` as a value of a column of family `to` (SQL
   * type `type`), turning text that cannot be converted into NULL rather than
   * failing the statement.
   */
  convertKey(expression: string, from: TypeFamily, to: TypeFamily, type: string): string;
  /** A value as plain text (the repair queue stores keys as text). */
  toText(expression: string): string;
  /** A value as text, compared byte-wise: lets ids of different column types meet. */
  asText(expression: string): string;
  /** The current time as a value to write or compare. */
  readonly now: string;
  readonly trueLiteral: string;
  readonly falseLiteral: string;
  /** A JavaScript value as the driver can bind it (JSON objects as text; SQLite: booleans as 0/1, dates as ISO text). */
  bindValue(value: unknown): unknown;
  /** NULL-safe inequality; JSON values compare as JSON (key order ignored where the database can). */
  distinct(a: string, b: string, family?: TypeFamily): string;

  // ---- JSON, for loading a whole user graph in one row
  jsonObject(entries: readonly (readonly [string, string])[]): string;
  jsonArrayAgg(expression: string): string;
  readonly emptyJsonArray: string;
  /** Wraps a one-row query so the row comes back as a single JSON value (or as is, where that costs more). */
  rowAsJson(query: string): string;
  /** A one-column relation `key` from parameter `n`, which holds one key as text. */
  oneKey(n: number): string;
  /**
   * A statement with one row per key, for up to `slots` keys (bound with
   * eachKeyParams): the row `rowFor` makes for the one-row relation `key` it
   * is handed. Per-key lookups stay index probes whatever the number of keys,
   * and each slot count plans once (an unnested array parameter would be
   * planned again on every execution, or as a hash join over whole tables).
   */
  eachKey(slots: number, rowFor: (oneKey: string) => string): string;
  /** The parameters of an eachKey statement for `keys` (no more than its slots). */
  eachKeyParams(keys: readonly string[], slots: number): unknown[];

  /**
   * True when JSON `target` differs from JSON `source` restricted to `keys`
   * (pick) or without them (omit); NULL counts as no difference when both
   * are NULL. Keys are already SQL string literals.
   */
  jsonDiffers(target: string, source: string, keys: readonly string[], mode: 'pick' | 'omit'): string;

  // ---- time, for the progress history
  /** The database's clock in seconds since the epoch. */
  readonly epochNow: string;
  /** Epoch second at which the minute holding the timestamp `expression` starts. */
  minuteOf(expression: string): string;
  /** An epoch-seconds time as a value to compare a timestamp column with (so an index on it stays usable). */
  bindTimestamp(epochSeconds: number): unknown;

  // ---- row locks
  /** Appended to a select that must lock the rows it reads until commit ('' where writers are serialized anyway). */
  readonly forUpdate: string;
  /** Same, skipping rows other transactions hold, for rows of `alias`. */
  forUpdateSkipLocked(alias: string): string;
  /** A select-list item that yields this transaction's id as text, or null where a commit can never be in doubt. */
  readonly transactionIdColumn: string | null;
  /** A subquery fence the planner will not flatten. */
  readonly optimizationFence: string;

  // ---- set-based writes read a JSON payload (an array of objects, one per row)
  /**
   * FROM items exposing `group` of the current payload row (alias `i`) as a
   * record typed like `table`, aliased `alias` (PostgreSQL: a lateral
   * populate_record, so every value gets the column's own type), or '' where
   * payloadValue reads straight from the JSON.
   */
  payloadRecord(group: string, table: string, alias: string): string;
  /** The value of `column` in `group` of the current payload row. */
  payloadValue(group: string, alias: string, column: string): string;
  /** The payload row's `k` member (the user key) as text. */
  readonly payloadKey: string;

  // ---- DDL for orgshift's own tables and opt-in changes to the user's
  /** A statement that makes concurrent schema migrations queue inside their transaction, or null where the transaction already does. */
  readonly migrationLock: string | null;
  /** `alter table … add column` of `type` (quoted names given). */
  addColumn(table: string, column: string, type: string): string;
  /** The outbox's statements (src/outbox/). */
  readonly outbox: OutboxSql;
  readonly types: {
    /** A generated integer primary key. */
    readonly serialKey: string;
    readonly text: string;
    readonly json: string;
    readonly timestamp: string;
    readonly boolean: string;
    readonly integer: string;
    readonly bigint: string;
    readonly uuid: string;
  };
}
