import { createHash } from 'node:crypto';

/**
 * PostgreSQL advisory-lock key for a lock name: the first 8 bytes of its
 * SHA-256 as a signed bigint. 64 bits make an accidental collision between two
 * users' keys negligible (a 32-bit hash collides after ~77k keys at 50 %).
 */
export function advisoryKey(key: string): bigint {
  return createHash('sha256').update(key, 'utf8').digest().readBigInt64BE(0);
}
