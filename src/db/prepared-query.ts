import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from './database.js';
import { translateDatabaseError } from './database-errors.js';

export type Row = Record<string, unknown>;

/**
 * A query planned once and executed many times: a named prepared statement on
 * PostgreSQL (planning costs more than execution for the graph load), a
 * cached better-sqlite3 statement on SQLite.
 */
export interface PreparedQuery {
  all(params: readonly unknown[]): Promise<Row[]>;
}

export function prepareQuery(db: Database, text: string): PreparedQuery {
  if (db.dialect === 'postgres') {
    // The name is derived from the text: pg refuses one name for two texts.
    const name = `orgshift_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    const pool = db.pool;
    return {
      async all(params) {
        try {
          const result = await pool.query({ name, text, values: params as unknown[] });
          return result.rows as Row[];
        } catch (error) {
          throw translateDatabaseError(error);
        }
      },
    };
  }
  let statement: BetterSqlite3.Statement | undefined;
  const sqlite = db.sqlite;
  return {
    async all(params) {
      statement ??= sqlite.prepare(text);
      const prepared = statement;
      // Join Kysely's queue for the single connection: a read must never run
      // in the middle of a transaction another caller has open on it.
      return db.kysely.connection().execute(async () => prepared.all(...params) as Row[]);
    },
  };
}
