import type { FastifyError } from 'fastify';
import { type ErrorCode, isOrgshiftError, type OrgshiftError } from '../errors.js';
import { HttpError, type HttpErrorCode } from './http-error.js';

/**
 * A `Record` over every `ErrorCode`: adding a code to src/errors.ts does not
 * compile until someone decides its HTTP status here.
 */
const STATUS_OF: Readonly<Record<ErrorCode, number>> = Object.freeze({
  invalid_user_id: 400,
  invalid_input: 400,
  user_not_found: 404,
  user_exists: 409,
  rollback_refused: 409,
  lock_timeout: 503,
  lock_unavailable: 503,
  lock_lost: 503,
  database_unavailable: 503,
  verification_failed: 500,
  migration_failed: 500,
  secret_undecryptable: 500,
  legacy_row_invalid: 500,
  legacy_key_duplicate: 409,
  schema_invalid: 500,
  config_invalid: 500,
});

/**
 * Which messages a client may read, again one entry per `ErrorCode`. `OWN`:
 * orgshift writes the whole message from the request and its own state (an
 * id, a column name, a violation code). A generic message: the error may
 * quote a backend (a driver error, host:port, a Redis reply such as
 * WRONGPASS), so the client gets this text and the original goes to the log.
 */
const OWN = 'own';
const CLIENT_MESSAGE: Readonly<Record<ErrorCode, typeof OWN | { readonly generic: string }>> = Object.freeze({
  invalid_user_id: OWN,
  invalid_input: OWN,
  user_not_found: OWN,
  user_exists: OWN,
  rollback_refused: OWN,
  lock_timeout: OWN,
  lock_unavailable: { generic: 'the lock backend is unavailable; retry later' },
  lock_lost: { generic: 'the lock on this user was lost; retry' },
  database_unavailable: { generic: 'the database is unavailable; retry later' },
  verification_failed: OWN,
  migration_failed: OWN,
  secret_undecryptable: OWN,
  legacy_row_invalid: OWN,
  legacy_key_duplicate: OWN,
  // Names what the database lacks, in the database's own words.
  schema_invalid: { generic: 'the database does not match the schema map; the server log has details' },
  config_invalid: { generic: 'server configuration error; the server log has details' },
});

/**
 * Seconds a client should wait before retrying a 503. A busy lock clears in
 * about one migration; a backend that is down takes longer to come back.
 */
const RETRY_AFTER_SECONDS: Readonly<Partial<Record<HttpErrorCode, number>>> = Object.freeze({
  lock_timeout: 1,
  lock_lost: 1,
  lock_unavailable: 5,
  database_unavailable: 5,
  not_ready: 5,
  shutting_down: 5,
});

/** What every 503 carries when nothing more specific applies (see the onSend guard in create-server.ts). */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

export interface ErrorReply {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorBody;
  /**
   * What the log needs: `error` for unexpected errors (with their stack),
   * `warn` when the client got a generic message and the detail is only in
   * the log, nothing for expected errors whose message the client has.
   */
  readonly log: 'error' | 'warn' | undefined;
}

export interface ErrorBody {
  readonly error: {
    readonly code: HttpErrorCode;
    readonly message: string;
    readonly violations?: readonly { readonly code: string; readonly message: string }[];
  };
}

/** Fastify's own request errors, with messages written for clients rather than its internals. */
const FASTIFY_ERRORS: Readonly<Record<string, readonly [number, HttpErrorCode, string]>> = Object.freeze({
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body_too_large', 'request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'unsupported content-type; send application/json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json', 'body is empty but content-type is application/json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json', 'body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request', 'body size does not match content-length'],
  FST_ERR_BAD_URL: [400, 'invalid_request', 'malformed URL'],
  // The router refuses parameters over 100 characters before any schema runs; the only parameter is a user id.
  FST_ERR_MAX_PARAM_LENGTH: [400, 'invalid_user_id', 'user id is too long'],
});

export function retryAfterHeader(code: HttpErrorCode, statusCode: number): Record<string, string> {
  if (statusCode !== 503) return {};
  return { 'retry-after': String(RETRY_AFTER_SECONDS[code] ?? DEFAULT_RETRY_AFTER_SECONDS) };
}

function reply(statusCode: number, code: HttpErrorCode, message: string, extra: Partial<ErrorReply> = {}): ErrorReply {
  return {
    statusCode,
    headers: { ...retryAfterHeader(code, statusCode), ...extra.headers },
    body: extra.body ?? { error: { code, message } },
    log: extra.log,
  };
}

function fromOrgshiftError(error: OrgshiftError): ErrorReply {
  const statusCode = STATUS_OF[error.code];
  const rule = CLIENT_MESSAGE[error.code];
  const message = rule === OWN ? error.message : rule.generic;
  const violations = 'violations' in error ? (error.violations as ErrorBody['error']['violations']) : undefined;
  const body: ErrorBody = {
    error: violations ? { code: error.code, message, violations } : { code: error.code, message },
  };
  // A 500 from orgshift is a broken invariant or a failed migration: worth a stack in the log.
  const log = statusCode >= 500 && statusCode !== 503 ? 'error' : rule === OWN ? undefined : 'warn';
  return reply(statusCode, error.code, message, { body, log });
}

function fromValidation(error: FastifyError): ErrorReply {
  const idRejected =
    error.validationContext === 'params' && error.validation?.some((v) => v.instancePath === '/id') === true;
  if (idRejected) return reply(400, 'invalid_user_id', 'user id must be a UUID');
  // Ajv messages name the schema path ("querystring/limit must be <= 100"), never server state.
  return reply(400, 'invalid_request', error.message);
}

function fromFastifyError(error: FastifyError): ErrorReply | undefined {
  if (error.validation) return fromValidation(error);
  const known = FASTIFY_ERRORS[error.code];
  if (known) return reply(known[0], known[1], known[2]);
  const status = error.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return reply(status, 'invalid_request', 'bad request');
  return undefined;
}

/**
 * Turns anything thrown while handling a request into the documented error
 * JSON. Only typed errors keep their message, and only for the codes
 * CLIENT_MESSAGE marks as OWN; anything else becomes a generic message (a
 * generic 500 for untyped errors) so that no internal detail (SQL, stack,
 * hostnames, backend replies) reaches a client.
 */
export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof HttpError) return reply(error.statusCode, error.code, error.message, { headers: error.headers });
  if (isOrgshiftError(error)) return fromOrgshiftError(error);
  if (error instanceof Error && typeof (error as FastifyError).code === 'string') {
    const mapped = fromFastifyError(error as FastifyError);
    if (mapped) return mapped;
  }
  return reply(500, 'internal_error', 'internal error; the server log has details', { log: 'error' });
}
