import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { SecretUndecryptableError } from '../errors.js';
import type { DecodeContext, EncodeContext, SecretCodec } from './secret-codec.js';

/** Where encode gets its IV and time; replaced only by tests, to reproduce known tokens. */
export interface JweEntropy {
  iv(): Buffer;
  nowSeconds(): number;
}

const SYSTEM_ENTROPY: JweEntropy = {
  iv: () => randomBytes(12),
  nowSeconds: () => Math.floor(Date.now() / 1000),
};

export interface JweCodecOptions {
  /** The 32 raw key bytes (already derived, when the key is derived). */
  readonly key: Buffer;
  /** The `kid` header to write, or null for none. */
  readonly kid: string | null;
  readonly entropy?: JweEntropy;
}

const TAG_BYTES = 16;
/** 96-bit IVs are what GCM is designed for; 128-bit ones were written by some libraries (python-jose) and are read too. */
const IV_LENGTHS = new Set([12, 16]);

/**
 * JWE compact serialization with direct key agreement and AES-256-GCM
 * (`alg: dir`, `enc: A256GCM`): `header..iv.ciphertext.tag`, the encrypted
 * key empty, the header's base64url text as additional authenticated data.
 * The payload is a JSON object holding the secret as `v` (and the time of
 * encryption as `iat`), so a NULL secret can be stored encrypted too: that is
 * how OpenHands stores member API keys (a NOT NULL column). Only this codec
 * can encode NULL (`encodeNull`), and only when the map asks for it.
 */
export class JweCodec implements SecretCodec {
  readonly kind = 'jwe';
  readonly #key: KeyObject;
  readonly #header: string;
  readonly #entropy: JweEntropy;

  constructor(options: JweCodecOptions) {
    if (options.key.length !== 32) throw new RangeError('A256GCM needs a 32-byte key');
    this.#key = createSecretKey(options.key);
    const header =
      options.kid === null ? { alg: 'dir', enc: 'A256GCM' } : { alg: 'dir', enc: 'A256GCM', kid: options.kid };
    this.#header = Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');
    this.#entropy = options.entropy ?? SYSTEM_ENTROPY;
  }

  encode(plaintext: string, _context: EncodeContext): string {
    return this.#seal(plaintext);
  }

  /** An encrypted NULL, for NOT NULL columns whose owner writes one (payload `{"v": null}`). */
  encodeNull(_context: EncodeContext): string {
    return this.#seal(null);
  }

  decode(stored: string, context: DecodeContext): string | null {
    const payload = this.#open(stored);
    if (payload === undefined) throw new SecretUndecryptableError(context.column);
    return payload;
  }

  recognizes(stored: string): boolean {
    const parts = stored.split('.');
    return parts.length === 5 && parts[1] === '' && stored.startsWith('eyJ');
  }

  #seal(value: string | null): string {
    const iv = this.#entropy.iv();
    // Python's json.dumps spacing, so that tokens match byte for byte what OpenHands writes.
    const payload = `{"v": ${JSON.stringify(value)}, "iat": ${this.#entropy.nowSeconds()}}`;
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(this.#header, 'ascii'));
    const body = Buffer.concat([cipher.update(payload, 'utf8'), cipher.final()]);
    return [
      this.#header,
      '',
      iv.toString('base64url'),
      body.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  /** The secret, null for an encrypted NULL, undefined when the token does not open. */
  #open(stored: string): string | null | undefined {
    const parts = stored.split('.');
    if (parts.length !== 5 || parts[1] !== '') return undefined;
    const [header = '', , ivText = '', bodyText = '', tagText = ''] = parts;
    try {
      const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>;
      if (parsed.alg !== 'dir' || parsed.enc !== 'A256GCM') return undefined;
      const iv = Buffer.from(ivText, 'base64url');
      const tag = Buffer.from(tagText, 'base64url');
      if (!IV_LENGTHS.has(iv.length) || tag.length !== TAG_BYTES) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv);
      decipher.setAAD(Buffer.from(header, 'ascii'));
      decipher.setAuthTag(tag);
      const text = Buffer.concat([decipher.update(Buffer.from(bodyText, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
      const payload = JSON.parse(text) as { v?: unknown };
      if (payload.v === null) return null;
      return typeof payload.v === 'string' ? payload.v : undefined;
    } catch {
      return undefined;
    }
  }
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The key id OpenHands writes: base62 (0-9A-Za-z) of the SHA-256 digest of
 * its secret, as a big-endian integer; leading zero bytes become "0"
 * followed by their count.
 */
export function base62Sha256KeyId(secret: string): string {
  const digest = createHash('sha256').update(secret, 'utf8').digest();
  let zeros = 0;
  while (zeros < digest.length && digest[zeros] === 0) zeros++;
  let n = BigInt(`0x${digest.toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return zeros > 0 ? `0${BASE62[zeros]}${out}` : out;
}
