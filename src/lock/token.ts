import { randomBytes } from 'node:crypto';

const TOKEN_BYTES = 16;
/** Tokens drawn per call to the system's generator, which costs tens of microseconds whatever the size. */
const POOL_TOKENS = 256;

let pool = Buffer.alloc(0);
let next = 0;

/**
 * 128 random bits: unguessable, so only the holder can release or extend.
 * Taken from a pool of random bytes refilled every 256 tokens, since a token
 * is drawn on every acquire.
 */
export function newLockToken(): string {
  if (next >= pool.length) {
    pool = randomBytes(TOKEN_BYTES * POOL_TOKENS);
    next = 0;
  }
  const token = pool.toString('hex', next, next + TOKEN_BYTES);
  next += TOKEN_BYTES;
  return token;
}
