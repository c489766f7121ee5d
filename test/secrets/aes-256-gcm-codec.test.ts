import { describe, expect, it } from 'vitest';
import { SecretCipher } from '../../src/crypto/secret-cipher.js';
import { SecretUndecryptableError } from '../../src/errors.js';
import { createSecretCodec } from '../../src/secrets/create-secret-codec.js';
import { PlaintextCodec } from '../../src/secrets/plaintext-codec.js';

const KEY = Buffer.alloc(32, 5);
const env = { AES_KEY: KEY.toString('base64') };
const codec = createSecretCodec({ codec: 'aes-256-gcm', key: { env: 'AES_KEY' } }, env, 'secrets.api_key');
const AT = { ownerId: 'owner-a', column: 'api_key_enc' };

describe('AES-256-GCM codec', () => {
  it('reads and writes the format SecretCipher has always used, both ways', () => {
    const cipher = new SecretCipher(KEY);
    expect(codec.decode(cipher.encrypt('sk-legacy', 'owner-a'), AT)).toBe('sk-legacy');
    expect(cipher.decrypt(codec.encode('sk-new', AT), 'owner-a')).toBe('sk-new');
    expect(codec.encode('sk-new', AT)).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]*$/);
  });

  it('binds the secret to its owner and refuses it elsewhere, naming the column only', () => {
    const sealed = codec.encode('sk-owned-by-a', AT);
    for (const attempt of [
      () => codec.decode(sealed, { ownerId: 'owner-b', column: 'api_key_enc' }),
      () => codec.decode(`${sealed.slice(0, -2)}AA`, AT),
      () => codec.decode('v1.short', AT),
    ]) {
      expect(attempt).toThrow(SecretUndecryptableError);
      expect(attempt).toThrow(/^api_key_enc could not be decrypted/);
      try {
        attempt();
      } catch (error) {
        expect((error as Error).message).not.toContain('sk-owned-by-a');
        expect((error as Error).message).not.toContain(env.AES_KEY);
      }
    }
  });

  it('recognizes its version marker, damaged or not, and nothing else', () => {
    expect(codec.recognizes(codec.encode('x', AT))).toBe(true);
    expect(codec.recognizes('v1.damaged')).toBe(true);
    expect(codec.recognizes('gAAAAAAdwJ6w')).toBe(false);
    expect(codec.recognizes('sk-plain')).toBe(false);
  });
});

describe('plaintext codec', () => {
  it('is the identity and recognizes everything', () => {
    const plain = new PlaintextCodec();
    for (const value of ['', 'sk-1', 'v1.a.b.c', 'gAAAAAxyz']) {
      expect(plain.recognizes(value)).toBe(true);
      expect(plain.decode(value, AT)).toBe(value);
      expect(plain.encode(value, AT)).toBe(value);
    }
  });
});
