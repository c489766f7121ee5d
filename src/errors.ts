/**
 * Every error orgshift raises on purpose carries a stable `code` that callers,
 * the CLI and the HTTP layer can switch on. Messages are for humans and never
 * contain secrets.
 */
export type ErrorCode =
  | 'invalid_user_id'
  | 'user_not_found'
  | 'user_exists'
  | 'lock_timeout'
  | 'lock_unavailable'
  | 'lock_lost'
  | 'verification_failed'
  | 'migration_failed'
  | 'rollback_refused'
  | 'invalid_input'
  | 'config_invalid'
  | 'database_unavailable'
  | 'secret_undecryptable'
  | 'legacy_row_invalid'
  | 'legacy_key_duplicate'
  | 'schema_invalid';

export class OrgshiftError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidUserIdError extends OrgshiftError {
  /** `expected` says what a valid id looks like here ("a UUID", "a 64-bit integer"…). */
  constructor(expected = 'a UUID') {
    super('invalid_user_id', `user id must be ${expected}`);
  }
}

export class UserNotFoundError extends OrgshiftError {
  constructor(readonly userId: string) {
    super('user_not_found', `no user or legacy user with id ${userId}`);
  }
}

export class UserExistsError extends OrgshiftError {
  constructor(readonly userId: string) {
    super('user_exists', `a user or legacy user with id ${userId} already exists`);
  }
}

export class ConfigError extends OrgshiftError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super('config_invalid', `${key}: ${message}`);
  }
}

export class DatabaseUnavailableError extends OrgshiftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('database_unavailable', message, options);
  }
}

export class SecretUndecryptableError extends OrgshiftError {
  constructor(what: string) {
    super('secret_undecryptable', `${what} could not be decrypted (wrong key or tampered ciphertext)`);
  }
}

/** A legacy column holds something the migration cannot read (malformed JSON, an impossible timestamp). */
export class LegacyRowInvalidError extends OrgshiftError {
  constructor(userId: string, column: string, what: string) {
    // Names the column, never its value: legacy data may hold secrets.
    super('legacy_row_invalid', `legacy row ${userId}: ${column} is not ${what}`);
  }
}

/** Two legacy rows share one user key: migrating either would lose the other, so the key is refused until repaired. */
export class LegacyKeyDuplicateError extends OrgshiftError {
  constructor(
    readonly userId: string,
    readonly rows: number,
  ) {
    super(
      'legacy_key_duplicate',
      `${rows} legacy rows share the user key ${userId}; repair them before this user can migrate`,
    );
  }
}

/** The database does not have what the schema map names (a table, a column, a type), or orgshift's own tables are missing. */
export class SchemaInvalidError extends OrgshiftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('schema_invalid', message, options);
  }
}

export class RollbackRefusedError extends OrgshiftError {
  constructor(userId: string, reason: string) {
    super('rollback_refused', `cannot roll back ${userId}: ${reason}`);
  }
}

export function isOrgshiftError(error: unknown): error is OrgshiftError {
  return error instanceof OrgshiftError;
}
