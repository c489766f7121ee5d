import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type RawBuilder, SqliteDialect, sql } from 'kysely';
import { DatabaseUnavailableError } from '../../../errors.js';
import type { Database, Executor, PreparedQuery, Row, SetWrite } from '../../database.js';
import type { OwnTables } from '../../own-tables.js';
import { sqliteCatalog } from './sqlite-catalog.js';
import { classifySqliteError } from './sqlite-errors.js';
import { SQLITE_SQL } from './sqlite-sql.js';
import { inWriteQueue } from './write-queue.js';

export interface SqliteOptions {
  /** A file path, or `:memory:`. */
  readonly path: string;
}

/**
 * One better-sqlite3 connection per open orgshift. SQLite serializes
 * writers per file; this process's writers queue in-process first
 * (write-queue.ts) so that SQLite's own locking only arbitrates between
 * processes. Reads join Kysely's queue for the single connection, so a read
 * never runs inside another caller's open transaction.
 */
export function openSqlite(options: SqliteOptions): Database {
  const memory = options.path === ':memory:';
  const file = memory ? `:memory:${Math.random()}` : resolve(options.path);
  if (!memory && !existsSync(dirname(file))) {
    throw new DatabaseUnavailableError(`SQLite database ${file}: directory ${dirname(file)} does not exist`);
  }
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(options.path);
  } catch (error) {
    throw new DatabaseUnavailableError(`SQLite database ${file} cannot be opened`, { cause: error });
  }
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  // Other processes on the same file (a backfill beside a server, the CLI) wait instead of failing.
  sqlite.pragma('busy_timeout = 5000');
  const kysely = new Kysely<OwnTables>({ dialect: new SqliteDialect({ database: sqlite }) });
  let closed = false;
  const writeTransaction = <T>(fn: (trx: Executor) => Promise<T>) => inWriteTransaction(kysely, file, fn);
  return {
    sql: SQLITE_SQL,
    kysely,
    catalog: sqliteCatalog(kysely as unknown as Kysely<unknown>),
    catalogOn: (executor) => sqliteCatalog(executor as unknown as Kysely<unknown>),
    target: memory ? 'sqlite::memory:' : `sqlite:${file}`,
    poolSize: 1,
    prepare: (text) => preparedQuery(kysely, sqlite, text),
    writeTransaction,
    autocommit: (statement) => writeTransaction((trx) => statement.execute(trx)),
    batchTransactions: () => writeTransaction,
    // One connection: every statement already sees a consistent database between writers.
    snapshot: (fn) => fn(kysely),
    runSetWrites: (trx, payload, build) => runInOrder(trx, payload, build),
    // A SQLite commit is local: it never goes unanswered.
    transactionOutcome: async () => 'committed',
    // SQLite's planner needs no help here, and ANALYZE would take the write lock.
    analyze: async () => undefined,
    classifyError: classifySqliteError,
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    async close() {
      if (closed) return;
      closed = true;
      await kysely.destroy();
    },
  };
}

function preparedQuery(kysely: Kysely<OwnTables>, sqlite: BetterSqlite3.Database, text: string): PreparedQuery {
  let statement: BetterSqlite3.Statement | undefined;
  return {
    async all(params) {
      statement ??= sqlite.prepare(text);
      const prepared = statement;
      return kysely.connection().execute(async () => prepared.all(...params) as Row[]);
    },
  };
}

/**
 * `BEGIN IMMEDIATE`: two processes on one file serialize at the start
 * instead of failing to upgrade a read lock half-way through (Kysely's own
 * `begin` is deferred).
 */
async function inWriteTransaction<T>(
  kysely: Kysely<OwnTables>,
  file: string,
  fn: (trx: Executor) => Promise<T>,
): Promise<T> {
  return inWriteQueue(file, () =>
    kysely.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await fn(conn);
        await sql`commit`.execute(conn);
        return result;
      } catch (error) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw error;
      }
    }),
  );
}

/** No data-modifying CTEs here; in-process statements cost no round trip, and foreign keys are checked per statement, hence the order. */
async function runInOrder(
  trx: Executor,
  payload: string,
  build: (source: RawBuilder<unknown>) => readonly SetWrite[],
): Promise<number> {
  let counted = 0;
  for (const write of build(sql`json_each(${payload}) as i`)) {
    const result = await write.sql.execute(trx);
    if (write.counted) counted = Number(result.numAffectedRows ?? 0n);
  }
  return counted;
}
