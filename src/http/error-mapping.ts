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
  /** Unexpected errors are logged with their stack; expected ones are not. */
  readonly unexpected: boolean;
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
    unexpected: extra.unexpected ?? false,
  };
}

function fromOrgshiftError(error: OrgshiftError): ErrorReply {
  const statusCode = STATUS_OF[error.code];
  const violations = 'violations' in error ? (error.violations as ErrorBody['error']['violations']) : undefined;
  const body: ErrorBody = {
    error: violations
      ? { code: error.code, message: error.message, violations }
      : { code: error.code, message: error.message },
  };
  // A 500 from orgshift is a broken invariant or a failed migration: worth a stack in the log.
  return reply(statusCode, error.code, error.message, { body, unexpected: statusCode >= 500 });
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
 * JSON. Only typed errors keep their message; anything else becomes a
 * generic 500 so that no internal detail (SQL, stack, hostnames) reaches a client.
 */
export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof HttpError) return reply(error.statusCode, error.code, error.message, { headers: error.headers });
  if (isOrgshiftError(error)) return fromOrgshiftError(error);
  if (error instanceof Error && typeof (error as FastifyError).code === 'string') {
    const mapped = fromFastifyError(error as FastifyError);
    if (mapped) return mapped;
  }
  return reply(500, 'internal_error', 'internal error; the server log has details', { unexpected: true });
}
