import { Aes256GcmCodec } from '../secrets/aes-256-gcm-codec.js';

/**
 * The AES-256-GCM secret format under its original name, for the code that
 * predates secret codecs. The format itself lives in `Aes256GcmCodec`.
 * Format: `v1.<iv>.<tag>.<ciphertext>`, each part base64url; AAD = owner id.
 */
export class SecretCipher {
  readonly #codec: Aes256GcmCodec;

  constructor(key: Buffer) {
    this.#codec = new Aes256GcmCodec(key);
  }

  encrypt(plaintext: string, ownerId: string): string {
    return this.#codec.encode(plaintext, { ownerId });
  }

  /** Throws `SecretUndecryptableError` (never the plaintext or key) on any failure. */
  decrypt(sealed: string, ownerId: string): string {
    return this.#codec.decode(sealed, { ownerId, column: 'secret' });
  }
}
