import { randomBytes } from 'node:crypto';

/** 128 random bits: unguessable, so only the holder can release or extend. */
export function newLockToken(): string {
  return randomBytes(16).toString('hex');
}
