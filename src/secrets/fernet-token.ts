import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  timingSafeEqual,
} from 'node:crypto';
import { decodeStrictBase64 } from './strict-base64.js';

/**
 * The Fernet token format (as written by Python's `cryptography`):
 * `0x80 | timestamp (u64, big-endian seconds) | IV (16) | AES-128-CBC(PKCS7) ciphertext | HMAC-SHA256 (32)`,
 * the HMAC covering everything before it, the whole base64url-encoded with padding.
 */
const VERSION = 0x80;
const TIMESTAMP_BYTES = 8;
const IV_BYTES = 16;
const BLOCK_BYTES = 16;
const HMAC_BYTES = 32;
const HEADER_BYTES = 1 + TIMESTAMP_BYTES + IV_BYTES;
/** The shortest token: header, one cipher block (an empty plaintext pads to one), HMAC. */
const MIN_TOKEN_BYTES = HEADER_BYTES + BLOCK_BYTES + HMAC_BYTES;

export const FERNET_KEY_BYTES = 32;

/**
 * A Fernet key: the first half signs, the second half encrypts. Held as key
 * objects, which spares every token a key import (a third of its cost).
 */
export interface FernetKey {
  readonly signing: KeyObject;
  readonly encryption: KeyObject;
}

export function fernetKey(bytes: Buffer): FernetKey {
  if (bytes.length !== FERNET_KEY_BYTES) throw new RangeError('a Fernet key is 32 bytes');
  return { signing: createSecretKey(bytes.subarray(0, 16)), encryption: createSecretKey(bytes.subarray(16)) };
}

export function encryptFernetToken(key: FernetKey, plaintext: Buffer, iv: Buffer, timestampSeconds: number): string {
  if (iv.length !== IV_BYTES) throw new RangeError('a Fernet IV is 16 bytes');
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(VERSION, 0);
  header.writeBigUInt64BE(BigInt(timestampSeconds), 1);
  iv.copy(header, 1 + TIMESTAMP_BYTES);
  const cipher = createCipheriv('aes-128-cbc', key.encryption, iv);
  const signed = Buffer.concat([header, cipher.update(plaintext), cipher.final()]);
  // Padded base64url, as Python writes it (Node's `base64url` drops the padding).
  return Buffer.concat([signed, hmac(key, signed)])
    .toString('base64')
    .replaceAll('+', '-')
    .replaceAll('/', '_');
}

/**
 * The plaintext, or `undefined` when the token is malformed, forged or made
 * with another key. The timestamp is not checked: a migration must read
 * tokens of any age.
 */
export function decryptFernetToken(key: FernetKey, token: string): Buffer | undefined {
  const bytes = decodeStrictBase64(token, 'base64url');
  if (bytes === undefined || !hasTokenShape(bytes)) return undefined;
  const signed = bytes.subarray(0, bytes.length - HMAC_BYTES);
  if (!timingSafeEqual(hmac(key, signed), bytes.subarray(bytes.length - HMAC_BYTES))) return undefined;
  try {
    const decipher = createDecipheriv(
      'aes-128-cbc',
      key.encryption,
      signed.subarray(1 + TIMESTAMP_BYTES, HEADER_BYTES),
    );
    return Buffer.concat([decipher.update(signed.subarray(HEADER_BYTES)), decipher.final()]);
  } catch {
    // Bad PKCS7 padding: only reachable with a valid HMAC over a badly built token.
    return undefined;
  }
}

function hasTokenShape(bytes: Buffer): boolean {
  return (
    bytes.length >= MIN_TOKEN_BYTES &&
    bytes[0] === VERSION &&
    (bytes.length - HEADER_BYTES - HMAC_BYTES) % BLOCK_BYTES === 0
  );
}

function hmac(key: FernetKey, signed: Buffer): Buffer {
  return createHmac('sha256', key.signing).update(signed).digest();
}
