import type { DatabaseErrorKind } from '../../database.js';

const BY_CODE: Readonly<Record<string, DatabaseErrorKind>> = Object.freeze({
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign-key',
  SQLITE_CONSTRAINT_NOTNULL: 'not-null',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_CANTOPEN: 'connection',
  SQLITE_BUSY: 'connection',
  SQLITE_NOTADB: 'connection',
  SQLITE_READONLY: 'connection',
  SQLITE_IOERR: 'connection',
});

export function classifySqliteError(error: unknown): DatabaseErrorKind {
  if (!(error instanceof Error)) return 'other';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    const kind = BY_CODE[code] ?? (code.startsWith('SQLITE_IOERR') ? 'connection' : undefined);
    if (kind !== undefined) return kind;
  }
  if (/no such (table|column|function)/.test(error.message)) return 'undefined-object';
  if (/directory does not exist|unable to open database/i.test(error.message)) return 'connection';
  if (/The database connection is not open/i.test(error.message)) return 'connection';
  return 'other';
}
