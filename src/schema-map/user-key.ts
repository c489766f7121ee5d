import { InvalidUserIdError } from '../errors.js';
import type { LegacyModel } from './map-model.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGER = /^-?[0-9]{1,19}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const VISIBLE_TEXT = /^[^\s\u0000-\u001f\u007f]{1,255}$/u;
const INT32 = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

/**
 * Validates a user key before anything touches the database or the lock
 * backend, so hostile input (SQL fragments, 10 kB strings) costs one regular
 * expression. Returns the canonical text form: UUIDs lower-case (legacy rows
 * must store them lower-case), integers without leading zeros.
 */
export function parseUserKey(input: unknown, key: LegacyModel['key']): string {
  if (typeof input !== 'string' || input.length > 255) throw invalid(key);
  switch (key.type) {
    case 'uuid':
      if (input.length !== 36 || !UUID.test(input)) throw invalid(key);
      return input.toLowerCase();
    case 'integer':
    case 'bigint':
      return canonicalInteger(input, key.type === 'integer' ? INT32 : INT64, key);
    case 'text':
      if (!(key.pattern ?? VISIBLE_TEXT).test(input)) throw invalid(key);
      return input;
  }
}

function canonicalInteger(input: string, range: { min: bigint; max: bigint }, key: LegacyModel['key']): string {
  if (!INTEGER.test(input)) throw invalid(key);
  const value = BigInt(input);
  if (value < range.min || value > range.max) throw invalid(key);
  return value.toString();
}

function invalid(key: LegacyModel['key']): InvalidUserIdError {
  return new InvalidUserIdError(describeKey(key));
}

/** What a valid key looks like, for messages and the OpenAPI description. */
export function describeKey(key: LegacyModel['key']): string {
  switch (key.type) {
    case 'uuid':
      return 'a UUID';
    case 'integer':
      return 'a 32-bit integer';
    case 'bigint':
      return 'a 64-bit integer';
    case 'text':
      return key.pattern ? `text matching ${key.pattern.source}` : '1 to 255 visible characters';
  }
}

/** The same rule as a JSON Schema pattern, for the HTTP route's parameter (checked again by parseUserKey). */
export function keyPattern(key: LegacyModel['key']): string {
  switch (key.type) {
    case 'uuid':
      return '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
    case 'integer':
    case 'bigint':
      return '^-?[0-9]{1,19}$';
    case 'text':
      return key.pattern ? key.pattern.source : '^[^\\s]{1,255}$';
  }
}
