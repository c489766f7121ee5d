import type { Kysely, QueryResult, RawBuilder } from 'kysely';
import type { Catalog } from '../schema-map/catalog.js';
import type { SqlDialect } from './dialect/dialect.js';
import type { OwnTables } from './own-tables.js';

/** A connection or a transaction: what statements run on. */
export type Executor = Kysely<OwnTables>;

export type Row = Record<string, unknown>;

/** A statement planned once and run many times (PostgreSQL: a named prepared statement). */
export interface PreparedQuery {
  all(params: readonly unknown[]): Promise<Row[]>;
}

/** Runs `fn` in a write transaction on a connection that prepares its statements (the backfill's batches). */
export type Transact = <T>(fn: (trx: Executor) => Promise<T>) => Promise<T>;

/** One statement of a set-based write; `counted` marks the one whose changed rows the caller checks (the fence). */
export interface SetWrite {
  readonly sql: RawBuilder<unknown>;
  readonly counted?: boolean;
}

export type CommitOutcome = 'committed' | 'aborted' | 'unknown';

/** What a driver error means, as far as orgshift's decisions go. */
export type DatabaseErrorKind =
  | 'connection'
  | 'unique'
  | 'foreign-key'
  | 'not-null'
  | 'check'
  | 'undefined-object'
  | 'invalid-value'
  /** A deadlock or serialization conflict: the server rolled the transaction back, and redoing it is safe. */
  | 'transient'
  | 'other';

/**
 * One open database: the dialect's spelling, the catalog, and the few
 * operations whose mechanics differ by database (transactions, prepared
 * statements, set-based writes, statistics). One implementation per
 * dialect folder (src/db/dialect/*); core code sees only this.
 */
export interface Database {
  readonly sql: SqlDialect;
  readonly kysely: Executor;
  readonly catalog: Catalog;
  /** The catalog read through `executor` (inside a transaction: SQLite has one connection, held by it). */
  catalogOn(executor: Executor): Catalog;
  /** Where it is, for messages: host, port and database, or the file; never a password. */
  readonly target: string;
  /** Connections this process may hold at once (1 where writers are serialized anyway). */
  readonly poolSize: number;
  prepare(text: string): PreparedQuery;
  /** PostgreSQL: a transaction; SQLite: BEGIN IMMEDIATE, queued behind this process's other writers. */
  writeTransaction<T>(fn: (trx: Executor) => Promise<T>): Promise<T>;
  /**
   * Runs one write statement as its own transaction, as cheaply as the
   * database allows (PostgreSQL: one prepared round trip; SQLite: in the
   * process's write queue). For small statements run many times (the outbox).
   */
  autocommit<R>(statement: RawBuilder<R>): Promise<QueryResult<R>>;
  /** Transactions whose data statements are prepared once per connection (for the same statements run many times). */
  batchTransactions(): Transact;
  /** A read-only transaction tuned for whole-table scans: one snapshot per statement group (the audit). */
  snapshot<T>(fn: (trx: Executor) => Promise<T>): Promise<T>;
  /**
   * Runs the statements `build` makes, each reading the payload (a JSON array)
   * through the FROM item it is handed, as one unit inside `trx`; returns the
   * rows the `counted` statement changed.
   */
  runSetWrites(
    trx: Executor,
    payload: string,
    build: (source: RawBuilder<unknown>) => readonly SetWrite[],
  ): Promise<number>;
  /** How a transaction whose COMMIT went unanswered ended ('committed' where that can never be in doubt). */
  transactionOutcome(transactionId: string, signal: AbortSignal): Promise<CommitOutcome>;
  /** Refreshes the planner's statistics of these tables (quoted names), giving up quickly on a lock. */
  analyze(tables: readonly string[]): Promise<void>;
  classifyError(error: unknown): DatabaseErrorKind;
  ping(): Promise<void>;
  close(): Promise<void>;
}
