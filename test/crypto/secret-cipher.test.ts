import { describe, expect, it } from 'vitest';
import { SecretCipher } from '../../src/crypto/secret-cipher.js';
import { SecretUndecryptableError } from '../../src/errors.js';

const a = new SecretCipher(Buffer.alloc(32, 1));
const b = new SecretCipher(Buffer.alloc(32, 2));

describe('SecretCipher', () => {
  it('round-trips and never repeats a ciphertext', () => {
    const sealed = a.encrypt('sk-123', 'owner');
    expect(a.decrypt(sealed, 'owner')).toBe('sk-123');
    expect(a.encrypt('sk-123', 'owner')).not.toBe(sealed);
    expect(sealed).not.toContain('sk-123');
  });

  it('refuses the wrong key, the wrong owner and tampering, without echoing anything', () => {
    const sealed = a.encrypt('sk-123', 'owner');
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`;
    for (const attempt of [
      () => b.decrypt(sealed, 'owner'),
      () => a.decrypt(sealed, 'someone-else'),
      () => a.decrypt(tampered, 'owner'),
      () => a.decrypt('v1.garbage', 'owner'),
      () => a.decrypt('', 'owner'),
    ]) {
      expect(attempt).toThrow(SecretUndecryptableError);
      try {
        attempt();
      } catch (error) {
        expect((error as Error).message).not.toContain('sk-123');
      }
    }
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretCipher(Buffer.alloc(16))).toThrow(RangeError);
  });
});
