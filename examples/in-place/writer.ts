import { PostgresWriter } from './postgres-writer.js';
import { SqliteWriter } from './sqlite-writer.js';
import type { Row, TableSpec } from './tables.js';
import type { FixtureTarget, SqliteTimestamps } from './target.js';

/** The generator's only way into a database: bulk inserts and one bulk update, in one transaction. */
export interface RowSink {
  insert(table: TableSpec, rows: readonly Row[]): Promise<void>;
  /** Sets `column` to each pair's value on the row whose `key` is the pair's key. */
  update(table: TableSpec, key: string, column: string, pairs: readonly (readonly [string, string])[]): Promise<void>;
}

export interface FixtureWriter {
  /** Runs a script of plain statements, all or nothing. */
  executeScript(sql: string): Promise<void>;
  /** Runs `work` in one transaction: a failure leaves the database as it was. */
  transaction<T>(work: (sink: RowSink) => Promise<T>): Promise<T>;
}

export interface WriterOptions {
  readonly batchSize: number;
  readonly sqliteTimestamps: SqliteTimestamps;
}

const DEFAULTS: WriterOptions = { batchSize: 5_000, sqliteTimestamps: 'unixepoch-ms' };

export function openWriter(target: FixtureTarget, options: WriterOptions = DEFAULTS): FixtureWriter {
  return target.kind === 'postgres'
    ? new PostgresWriter(target.pool, options.batchSize)
    : new SqliteWriter(target.db, options.sqliteTimestamps);
}
