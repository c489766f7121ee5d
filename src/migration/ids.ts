import { randomBytes, randomUUID } from 'node:crypto';
import type { IdSpec } from '../schema-map/schema-map.js';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 24;

/** A new id per the map's strategy; `user-key` ids are the key itself. */
export function newId(spec: IdSpec, key: string): string {
  switch (spec.generate) {
    case 'user-key':
      return key;
    case 'uuid':
      return randomUUID();
    case 'random-text':
      return `${spec.prefix ?? ''}${randomText(RANDOM_LENGTH)}`;
  }
}

/** 24 base-36 characters: about 124 bits, as unguessable and collision-free as a UUID. */
function randomText(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 252 = 7 × 36: rejecting bytes above it keeps every character equally likely.
  for (let i = 0; out.length < length; i++) {
    const byte = i < bytes.length ? (bytes[i] as number) : (randomBytes(1)[0] as number);
    if (byte < 252) out += ALPHABET[byte % 36];
  }
  return out;
}
