import type { DatabaseErrorKind } from '../../database.js';

/** SQLSTATEs and driver errors that mean "the database is not there (for us)", not "your statement is wrong". */
const UNAVAILABLE = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02',
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
  '3D000', // invalid_catalog_name: the database does not exist
  '28P01', // invalid_password
  '28000', // invalid_authorization_specification
]);
const ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
/**
 * 55000 (object_not_in_prerequisite_state) is also raised by statements; only
 * a connection refused by `ALTER DATABASE … ALLOW_CONNECTIONS false` (or a
 * template database) means the database is closed to us.
 */
const NOT_ACCEPTING = /is not currently accepting connections/;
const DRIVER_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|Client was closed/i;

const BY_STATE: Readonly<Record<string, DatabaseErrorKind>> = Object.freeze({
  '23505': 'unique',
  '23503': 'foreign-key',
  '23502': 'not-null',
  '23514': 'check',
  '42P01': 'undefined-object',
  '42703': 'undefined-object',
  '3F000': 'undefined-object',
  '42704': 'undefined-object',
  '40001': 'transient', // serialization_failure
  '40P01': 'transient', // deadlock_detected (a DDL statement beside live migrations, a team's own lock order)
});

export function classifyPostgresError(error: unknown): DatabaseErrorKind {
  if (!(error instanceof Error)) return 'other';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (ERRNOS.has(code) || UNAVAILABLE.has(code) || code.startsWith('08')) return 'connection';
    if (code === '55000' && NOT_ACCEPTING.test(error.message)) return 'connection';
    const kind = BY_STATE[code];
    if (kind !== undefined) return kind;
    if (code.startsWith('22')) return 'invalid-value';
  }
  return DRIVER_MESSAGES.test(error.message) ? 'connection' : 'other';
}
