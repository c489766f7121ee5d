import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect, type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import type { CommitOutcome, Database, Executor, PreparedQuery, Row, SetWrite } from '../../database.js';
import type { OwnTables } from '../../own-tables.js';
import { retryOnConnectionLoss } from '../../reconnect.js';
import { postgresCatalog } from './postgres-catalog.js';
import { classifyPostgresError } from './postgres-errors.js';
import { POSTGRES_SQL } from './postgres-sql.js';
import { preparedStatementKysely } from './prepared-kysely.js';

export interface PostgresOptions {
  readonly url: string;
  readonly poolSize: number;
  /** Pool-level errors (an idle connection killed by the server), which must not crash the process. */
  readonly onPoolError?: (error: Error) => void;
}

/**
 * Values pass through orgshift unchanged: `timestamp without time zone` and
 * `date` stay the text PostgreSQL sent (node-pg would read them as local
 * time and shift them by the process's time zone on the way back).
 */
const PASS_THROUGH_TYPES = new Set([1082, 1114]);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    PASS_THROUGH_TYPES.has(oid)
      ? (value: string) => value
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const ANALYZE_LOCK_TIMEOUT = '500ms';

export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A peer that vanished without closing the connection (a dropped network path) would
    // otherwise leave a query waiting for ever: TCP keep-alive probes end it.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'orgshift',
    types,
  });
  pool.on('error', (error) => options.onPoolError?.(error));
  // pg-pool listens for errors only on idle clients. A checked-out client whose
  // backend is terminated between two queries (say, inside a transaction)
  // would emit an unhandled 'error' and crash the process; with this listener
  // its next query fails instead and is reported as database_unavailable.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.onPoolError?.(error));
  });
  const kysely = new Kysely<OwnTables>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  let batches: Kysely<OwnTables> | undefined;
  return {
    sql: POSTGRES_SQL,
    kysely,
    catalog: postgresCatalog(kysely as unknown as Kysely<unknown>),
    catalogOn: (executor) => postgresCatalog(executor as unknown as Kysely<unknown>),
    target: describeUrl(options.url),
    poolSize: options.poolSize,
    prepare: (text) => preparedQuery(pool, text),
    writeTransaction: (fn) => kysely.transaction().execute(fn),
    autocommit(statement) {
      batches ??= preparedStatementKysely(pool);
      return statement.execute(batches);
    },
    batchTransactions() {
      batches ??= preparedStatementKysely(pool);
      const prepared = batches;
      return (fn) => prepared.transaction().execute(fn);
    },
    snapshot: (fn) =>
      kysely.transaction().execute(async (trx) => {
        // Hash anti-joins over whole tables stay in memory (the 4 MB default spills a
        // million-row hash to disk); JIT compilation costs more than it saves on these scans.
        await sql`set transaction read only`.execute(trx);
        await sql`select set_config('work_mem', '256MB', true), set_config('jit', 'off', true)`.execute(trx);
        return fn(trx);
      }),
    runSetWrites: (trx, payload, build) => runAsOneStatement(trx, payload, build),
    transactionOutcome: (id, signal) => transactionOutcome(kysely, id, signal),
    async analyze(tables) {
      if (tables.length === 0) return;
      await kysely
        .transaction()
        .execute(async (trx) => {
          // ANALYZE waits behind a VACUUM of the same table, and DDL queued behind a
          // waiting ANALYZE would block live traffic: give up instead, it only costs speed.
          await sql`set local lock_timeout = ${sql.lit(ANALYZE_LOCK_TIMEOUT)}`.execute(trx);
          await sql`analyze ${sql.raw(tables.join(', '))}`.execute(trx);
        })
        .catch(() => undefined);
    },
    classifyError: classifyPostgresError,
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    async close() {
      if (closed) return;
      closed = true;
      // Kysely's destroy ends the pool it was given.
      await kysely.destroy();
    },
  };
}

function preparedQuery(pool: pg.Pool, text: string): PreparedQuery {
  // The name is derived from the text: pg refuses one name for two texts.
  const name = `orgshift_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
  return {
    async all(params) {
      const result = await pool.query({ name, text, values: params as unknown[] });
      return result.rows as Row[];
    },
  };
}

/**
 * One statement: every write is a data-modifying CTE over one `input`
 * relation. PostgreSQL checks foreign keys at the end of the statement, so
 * rows that reference each other may be inserted side by side, and a whole
 * migration is one round trip.
 */
async function runAsOneStatement(
  trx: Executor,
  payload: string,
  build: (source: RawBuilder<unknown>) => readonly SetWrite[],
): Promise<number> {
  const writes = build(sql.raw('input as i'));
  const counted = writes.findIndex((w) => w.counted);
  const ctes = writes.map(
    (write, n) => sql`w${sql.raw(String(n))} as (${write.sql}${sql.raw(n === counted ? ' returning 1' : '')})`,
  );
  const count = counted < 0 ? sql`0` : sql`(select count(*) from w${sql.raw(String(counted))})`;
  const result = await sql<{ counted: number }>`
    with input as (select value as j from jsonb_array_elements(${payload}::jsonb)),
    ${sql.join(ctes)}
    select ${count}::int as counted`.execute(trx);
  return Number(result.rows[0]?.counted ?? 0);
}

/** The server has not finished the transaction yet: ask again. */
class StillInProgress extends Error {}

/**
 * How a transaction whose COMMIT went unanswered ended (`txid_status`,
 * PostgreSQL 10 and later). The connection that carried the COMMIT is gone,
 * so a fresh one asks, for as long as a backfill rides out an outage.
 * 'unknown' only if the server no longer knows the transaction, which takes
 * billions of transactions in between.
 */
async function transactionOutcome(db: Executor, transactionId: string, signal: AbortSignal): Promise<CommitOutcome> {
  return retryOnConnectionLoss(
    async () => {
      const result = await sql<{ status: string | null }>`
        select txid_status(${transactionId}::bigint) as status`.execute(db);
      const status = result.rows[0]?.status ?? null;
      if (status === 'in progress') throw new StillInProgress();
      return status === 'committed' ? 'committed' : status === 'aborted' ? 'aborted' : 'unknown';
    },
    signal,
    undefined,
    (error) => error instanceof StillInProgress || classifyPostgresError(error) === 'connection',
  );
}

/** `postgres://user@host:port/database`, the password never included. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
    const port = parsed.port || '5432';
    return `postgres://${user}${parsed.hostname}:${port}${parsed.pathname}`;
  } catch {
    return 'postgres (unparsable URL)';
  }
}
