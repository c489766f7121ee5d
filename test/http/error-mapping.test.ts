import { describe, expect, it } from 'vitest';
import { VerificationFailedError } from '../../src/directory/errors.js';
import { type ErrorCode, OrgshiftError } from '../../src/errors.js';
import { toErrorReply } from '../../src/http/error-mapping.js';
import { HttpError } from '../../src/http/http-error.js';

const STATUS: Readonly<Record<ErrorCode, number>> = {
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
};

/** Codes whose message may quote a backend; every other code's message is written by orgshift alone. */
const GENERIC: readonly ErrorCode[] = [
  'lock_unavailable',
  'lock_lost',
  'database_unavailable',
  'schema_invalid',
  'config_invalid',
];

function fastifyError(code: string, statusCode: number): Error {
  return Object.assign(new Error(`internal text for ${code}`), { code, statusCode });
}

describe('error mapping', () => {
  it.each(Object.entries(STATUS))('%s answers %i, with Retry-After exactly when 503', (code, status) => {
    const reply = toErrorReply(new OrgshiftError(code as ErrorCode, `message for ${code}`));
    expect(reply.statusCode).toBe(status);
    expect(reply.body.error.code).toBe(code);
    expect('retry-after' in reply.headers).toBe(status === 503);
  });

  it.each(Object.keys(STATUS))('%s keeps its own message or replaces it, and logs what it withheld', (code) => {
    const detail = 'connect ECONNREFUSED 10.1.2.3:6390 WRONGPASS invalid username-password pair';
    const reply = toErrorReply(new OrgshiftError(code as ErrorCode, detail));
    if (GENERIC.includes(code as ErrorCode)) {
      expect(reply.body.error.message).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|6390|WRONGPASS/);
      expect(reply.body.error.message.length).toBeGreaterThan(10);
      expect(reply.log).toBe(reply.statusCode === 503 ? 'warn' : 'error');
    } else {
      expect(reply.body.error.message).toBe(detail);
      expect(reply.log).toBe(reply.statusCode >= 500 && reply.statusCode !== 503 ? 'error' : undefined);
    }
  });

  it('carries the violations of verification_failed', () => {
    const violations = [{ code: 'user_missing' as const, message: 'no users row' }];
    const reply = toErrorReply(new VerificationFailedError('u1', violations));
    expect(reply.body.error.violations).toEqual(violations);
    expect(reply.log).toBe('error');
  });

  it('gives shutting_down and not_ready a Retry-After', () => {
    const reply = toErrorReply(new HttpError(503, 'shutting_down', 'bye'));
    expect(reply.headers['retry-after']).toBe('5');
  });

  it('hides anything that is not a typed error behind a generic 500', () => {
    for (const thrown of [new Error('SELECT secret FROM x'), new TypeError('x is undefined'), 'a string', null]) {
      const reply = toErrorReply(thrown);
      expect(reply.statusCode).toBe(500);
      expect(reply.body.error.code).toBe('internal_error');
      expect(reply.body.error.message).not.toMatch(/secret|undefined|string/);
      expect(reply.log).toBe('error');
    }
  });

  it.each([
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 413, 'body_too_large'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 415, 'unsupported_media_type'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 400, 'invalid_json'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 400, 'invalid_json'],
    ['FST_ERR_BAD_URL', 400, 400, 'invalid_request'],
    ['FST_ERR_MAX_PARAM_LENGTH', 414, 400, 'invalid_user_id'],
    ['FST_ERR_SOMETHING_NEW', 431, 431, 'invalid_request'],
    ['FST_ERR_SOMETHING_BROKEN', 500, 500, 'internal_error'],
  ])('maps %s (%i) to %i %s without Fastify internals', (code, from, status, mapped) => {
    const reply = toErrorReply(fastifyError(code, from));
    expect([reply.statusCode, reply.body.error.code]).toEqual([status, mapped]);
    expect(reply.body.error.message).not.toContain('internal text');
  });
});
