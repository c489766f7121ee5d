import { randomBytes } from 'node:crypto';
import { SecretUndecryptableError } from '../errors.js';
import { decryptFernetToken, encryptFernetToken, type FernetKey, fernetKey } from './fernet-token.js';
import type { DecodeContext, EncodeContext, FernetWrapping, SecretCodec } from './secret-codec.js';
import { decodeStrictBase64 } from './strict-base64.js';

/**
 * What "looks like a Fernet token" means, precisely: the stored value starts
 * with the base64url of the version byte 0x80 followed by the zero high bits
 * of the timestamp (`gAAAAA`, true of every token dated before the year
 * 4000), or with that prefix base64-encoded once more (`Z0FBQUFB`, a wrapped
 * token). Both prefixes count whatever the configured wrapping: a token in
 * the other wrapping is refused rather than mistaken for a plaintext secret.
 */
export const FERNET_TOKEN_PREFIX = 'gAAAAA';
export const WRAPPED_FERNET_TOKEN_PREFIX = Buffer.from(FERNET_TOKEN_PREFIX, 'ascii').toString('base64');

export function looksLikeFernetToken(stored: string): boolean {
  return stored.startsWith(FERNET_TOKEN_PREFIX) || stored.startsWith(WRAPPED_FERNET_TOKEN_PREFIX);
}

/** Where encode gets its IV and time; replaced only by tests, to reproduce published vectors. */
export interface FernetEntropy {
  iv(): Buffer;
  nowSeconds(): number;
}

const SYSTEM_ENTROPY: FernetEntropy = {
  iv: () => randomBytes(16),
  nowSeconds: () => Math.floor(Date.now() / 1000),
};

export interface FernetCodecOptions {
  /** The 32 raw key bytes (already derived, when the key is derived). */
  readonly key: Buffer;
  readonly wrap: FernetWrapping;
  readonly plaintextFallback: boolean;
  readonly entropy?: FernetEntropy;
}

/**
 * Fernet tokens, optionally base64-wrapped, optionally mixed with plaintext
 * rows written before encryption. A value that looks like a token but fails
 * its HMAC or decryption is refused, never passed through as plaintext.
 */
export class FernetCodec implements SecretCodec {
  readonly kind = 'fernet';
  readonly #key: FernetKey;
  readonly #wrap: FernetWrapping;
  readonly #plaintextFallback: boolean;
  readonly #entropy: FernetEntropy;

  constructor(options: FernetCodecOptions) {
    this.#key = fernetKey(options.key);
    this.#wrap = options.wrap;
    this.#plaintextFallback = options.plaintextFallback;
    this.#entropy = options.entropy ?? SYSTEM_ENTROPY;
  }

  decode(stored: string, context: DecodeContext): string {
    if (!looksLikeFernetToken(stored)) {
      if (this.#plaintextFallback) return stored;
      throw new SecretUndecryptableError(context.column);
    }
    const token = this.#unwrap(stored);
    const plaintext = token === undefined ? undefined : decryptFernetToken(this.#key, token);
    const text = plaintext === undefined ? undefined : utf8(plaintext);
    if (text === undefined) throw new SecretUndecryptableError(context.column);
    return text;
  }

  /** The owner is not part of a Fernet token: OpenHands' tokens carry no binding to their row. */
  encode(plaintext: string, _context: EncodeContext): string {
    const token = encryptFernetToken(
      this.#key,
      Buffer.from(plaintext, 'utf8'),
      this.#entropy.iv(),
      this.#entropy.nowSeconds(),
    );
    return this.#wrap === 'base64' ? Buffer.from(token, 'ascii').toString('base64') : token;
  }

  /** With the plaintext fallback every value is this codec's to judge (a non-token is plaintext). */
  recognizes(stored: string): boolean {
    return this.#plaintextFallback || looksLikeFernetToken(stored);
  }

  #unwrap(stored: string): string | undefined {
    if (this.#wrap === 'none') return stored.startsWith(FERNET_TOKEN_PREFIX) ? stored : undefined;
    if (!stored.startsWith(WRAPPED_FERNET_TOKEN_PREFIX)) return undefined;
    return decodeStrictBase64(stored, 'base64')?.toString('latin1');
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Python decodes the plaintext as UTF-8 (keeping a BOM) and fails on invalid bytes; so do we, as a refusal. */
function utf8(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
