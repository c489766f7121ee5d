import { SecretCipher } from '../crypto/secret-cipher.js';
import { ConfigError, SecretUndecryptableError } from '../errors.js';
import type { CodecSpec } from '../schema-map/schema-map.js';

/** How a secret is stored: decoded from the legacy format, encoded into the target's. */
export interface SecretCodec {
  readonly kind: CodecSpec['codec'];
  /** Throws SecretUndecryptableError naming `context.column`, never the value or the key. */
  decode(stored: string, context: { readonly ownerId: string; readonly column: string }): string;
  encode(plaintext: string, context: { readonly ownerId: string }): string;
  recognizes(stored: string): boolean;
}

export type CodecSet = ReadonlyMap<string, SecretCodec>;

/** Every codec the map names, with its key material read from `env` now, so a bad key stops the program at start. */
export function createCodecs(
  codecs: Readonly<Record<string, CodecSpec>>,
  env: Readonly<Record<string, string | undefined>>,
): CodecSet {
  const set = new Map<string, SecretCodec>();
  for (const [name, spec] of Object.entries(codecs)) set.set(name, createCodec(spec, env, `codecs.${name}`));
  return set;
}

function createCodec(spec: CodecSpec, env: Readonly<Record<string, string | undefined>>, path: string): SecretCodec {
  switch (spec.codec) {
    case 'plaintext':
      return {
        kind: 'plaintext',
        decode: (stored) => stored,
        encode: (plaintext) => plaintext,
        recognizes: () => true,
      };
    case 'aes-256-gcm': {
      const raw = env[spec.key.env];
      const key = raw === undefined ? undefined : Buffer.from(raw, 'base64');
      if (key === undefined || key.length !== 32) {
        throw new ConfigError(spec.key.env, `must be 32 bytes, base64-encoded (${path})`);
      }
      const cipher = new SecretCipher(key);
      return {
        kind: 'aes-256-gcm',
        decode(stored, context) {
          try {
            return cipher.decrypt(stored, context.ownerId);
          } catch {
            throw new SecretUndecryptableError(context.column);
          }
        },
        encode: (plaintext, context) => cipher.encrypt(plaintext, context.ownerId),
        recognizes: (stored) => stored.startsWith('v1.'),
      };
    }
    case 'fernet':
      throw new ConfigError(path, 'fernet is not available in this build');
  }
}
