import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import type { OwnTables } from '../../own-tables.js';

/** Statements PostgreSQL can prepare; transaction control and SET go through unnamed as usual. */
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;

/**
 * A Kysely over the same pool whose data statements run as named prepared
 * statements. The backfill runs the same dozen statements (claim plus the
 * migration transaction) tens of thousands of times on a handful of
 * connections: preparing them once per connection saves PostgreSQL the parse
 * and plan of every execution, which is most of what a single-row insert
 * costs. Names derive from the text, as in postgres-database.ts, so they never
 * clash on a connection the pool hands to someone else later.
 *
 * The pool stays owned by the database: destroying this Kysely does not end it.
 */
export function preparedStatementKysely(pool: pg.Pool): Kysely<OwnTables> {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const borrowing: PostgresPool = {
    async connect() {
      const client = await pool.connect();
      let proxy = wrapped.get(client);
      if (proxy === undefined) {
        proxy = preparingClient(client);
        wrapped.set(client, proxy);
      }
      return proxy;
    },
    async end() {},
  };
  return new Kysely<OwnTables>({ dialect: new PostgresDialect({ pool: borrowing }) });
}

function preparingClient(client: pg.PoolClient): PostgresPoolClient {
  return {
    query(text: unknown, values?: unknown) {
      if (typeof text === 'string' && PREPARABLE.test(text)) {
        return client.query({ name: statementName(text), text, values: values as unknown[] });
      }
      return client.query(text as string, values as unknown[]);
    },
    // Kysely passes true for a connection it wants discarded (a failed rollback).
    release: (destroy?: boolean) => client.release(destroy),
  } as unknown as PostgresPoolClient;
}

const names = new Map<string, string>();

function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `orgshift_b_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return name;
}
