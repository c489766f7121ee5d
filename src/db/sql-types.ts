import type { Dialect } from './database.js';

/** Column types and defaults that differ between the two dialects. */
export interface SqlTypes {
  readonly uuid: string;
  readonly json: string;
  readonly timestamp: string;
  readonly now: string;
  readonly emptyObject: string;
  readonly serial: string;
}

export function sqlTypes(dialect: Dialect): SqlTypes {
  return dialect === 'postgres'
    ? {
        uuid: 'uuid',
        json: 'jsonb',
        // Millisecond precision, so a JavaScript Date round-trips without loss.
        timestamp: 'timestamptz(3)',
        now: 'now()',
        emptyObject: `'{}'::jsonb`,
        serial: 'bigint generated always as identity primary key',
      }
    : {
        uuid: 'text',
        json: 'text',
        timestamp: 'text',
        now: `(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`,
        emptyObject: `'{}'`,
        serial: 'integer primary key autoincrement',
      };
}

/** The SQL expression for "now" as a value to write (SQLite stores ISO text). */
export function nowExpression(dialect: Dialect): string {
  return dialect === 'postgres' ? 'now()' : `strftime('%Y-%m-%dT%H:%M:%fZ','now')`;
}
