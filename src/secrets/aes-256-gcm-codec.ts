import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { SecretUndecryptableError } from '../errors.js';
import type { DecodeContext, EncodeContext, SecretCodec } from './secret-codec.js';

const VERSION = 'v1';
const MARKER = `${VERSION}.`;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * orgshift's own format: AES-256-GCM with the owner's id as additional
 * authenticated data, so a ciphertext copied onto another user's row fails to
 * decrypt instead of silently handing over someone else's secret.
 * Stored as `v1.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
export class Aes256GcmCodec implements SecretCodec {
  readonly kind = 'aes-256-gcm';
  readonly #key: KeyObject;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new RangeError('AES-256 needs a 32-byte key');
    this.#key = createSecretKey(key);
  }

  encode(plaintext: string, context: EncodeContext): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context.ownerId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, ...[iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url'))].join('.');
  }

  decode(stored: string, context: DecodeContext): string {
    const plaintext = this.#open(stored, context.ownerId);
    if (plaintext === undefined) throw new SecretUndecryptableError(context.column);
    return plaintext;
  }

  /** The version marker: anything carrying it is judged (and, if damaged, refused) by `decode`. */
  recognizes(stored: string): boolean {
    return stored.startsWith(MARKER);
  }

  #open(stored: string, ownerId: string): string | undefined {
    const parts = stored.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
    const [, iv, tag, body] = parts.map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer, Buffer];
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv);
      decipher.setAAD(Buffer.from(ownerId));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
