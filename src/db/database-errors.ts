import { DatabaseUnavailableError, isOrgshiftError, SchemaInvalidError } from '../errors.js';
import type { Database } from './database.js';

/**
 * The one place where driver errors become orgshift's: every entry point of
 * the facade passes its errors through here (orgshift.ts), so the database
 * being down is `database_unavailable` whatever was running, and a table or
 * column that the map names but the database lacks is `schema_invalid`.
 * Messages name the database (host, port, name) and never carry a password
 * or a row's values. Anything else is left as it is: the caller decides.
 */
export function translateDatabaseError(db: Database, error: unknown): unknown {
  if (isOrgshiftError(error)) return error;
  switch (db.classifyError(error)) {
    case 'connection':
      return new DatabaseUnavailableError(`database ${db.target} is unavailable: ${reasonOf(error)}`, { cause: error });
    case 'transient':
      return new DatabaseUnavailableError(
        `database ${db.target} rolled the transaction back (${reasonOf(error)}); nothing was written, retry`,
        { cause: error },
      );
    case 'undefined-object':
      return new SchemaInvalidError(
        `${db.target} lacks a table, column or type orgshift needs (${objectOf(error)}); run \`orgshift schema check\` and \`orgshift db migrate\``,
        { cause: error },
      );
    default:
      return error;
  }
}

/** A short, value-free reason: these messages reach logs and clients. */
function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case '3D000':
      return 'the database does not exist';
    case '28P01':
    case '28000':
      return 'authentication failed';
    case '53300':
      return 'too many connections';
    case '55000':
      return 'the database does not accept connections';
    case '57P01':
    case '57P02':
    case '57P03':
      return 'the server ended the connection';
    case 'SQLITE_CANTOPEN':
      return 'the file cannot be opened';
    case 'SQLITE_BUSY':
      return 'the file is locked by another process';
    case '40P01':
      return 'a deadlock';
    case '40001':
      return 'a serialization conflict';
    default:
      return /timeout/i.test(String((error as Error | null)?.message)) ? 'connection timed out' : 'connection lost';
  }
}

/** The object's name as the server quoted it ("relation \"x\" does not exist"), never a value. */
function objectOf(error: unknown): string {
  const message = String((error as Error | null)?.message ?? '');
  const quoted = /"([^"]{1,130})"/.exec(message);
  if (quoted) return quoted[1] as string;
  const sqlite = /no such (?:table|column|function): ([^\s]{1,130})/.exec(message);
  return sqlite ? (sqlite[1] as string) : 'unknown object';
}

/** For code that decides by kind (unique violations are conflicts, connection losses are retried). */
export function isConnectionLoss(db: Database, error: unknown): boolean {
  return db.classifyError(error) === 'connection';
}
