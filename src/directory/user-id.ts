import { InvalidUserIdError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Validates before anything touches the database or the lock backend, so
 * hostile input (SQL fragments, 10 kB strings) costs one regex test.
 * Returns the canonical lower-case form; legacy ids are stored lower-case.
 */
export function parseUserId(input: unknown): string {
  if (typeof input !== 'string' || input.length !== 36 || !UUID.test(input)) throw new InvalidUserIdError();
  return input.toLowerCase();
}

export function isUserId(input: unknown): input is string {
  return typeof input === 'string' && input.length === 36 && UUID.test(input);
}
