import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decryptFernetToken, encryptFernetToken, fernetKey } from '../../src/secrets/fernet-token.js';

interface SpecVector {
  readonly token: string;
  readonly now: string;
  readonly secret: string;
  readonly src?: string;
  readonly iv?: readonly number[];
  readonly desc?: string;
}

const spec = JSON.parse(readFileSync(new URL('./fixtures/fernet-spec-vectors.json', import.meta.url), 'utf8')) as {
  readonly generate: readonly SpecVector[];
  readonly verify: readonly SpecVector[];
  readonly invalid: readonly SpecVector[];
};

const keyOf = (vector: SpecVector) => fernetKey(Buffer.from(vector.secret, 'base64url'));
const seconds = (iso: string) => Date.parse(iso) / 1000;

/** The only spec failures that are about time; a migration reads tokens of any age, as `decrypt(token)` without a ttl does. */
const TIME_ONLY = new Set(['far-future TS (unacceptable clock skew)', 'expired TTL']);

describe('Fernet tokens against the specification vectors', () => {
  it('generates the published token from the published key, IV, time and plaintext', () => {
    expect(spec.generate.length).toBeGreaterThan(0);
    for (const vector of spec.generate) {
      const token = encryptFernetToken(
        keyOf(vector),
        Buffer.from(vector.src!),
        Buffer.from(vector.iv!),
        seconds(vector.now),
      );
      expect(token).toBe(vector.token);
    }
  });

  it('verifies the published token', () => {
    for (const vector of spec.verify) {
      expect(decryptFernetToken(keyOf(vector), vector.token)?.toString('utf8')).toBe(vector.src);
    }
  });

  it('refuses every invalid token whose fault is not its age', () => {
    const refused = spec.invalid.filter((vector) => !TIME_ONLY.has(vector.desc!));
    expect(refused.map((vector) => vector.desc)).toEqual([
      'incorrect mac',
      'too short',
      'invalid base64',
      'payload size not multiple of block size',
      'payload padding error',
      'incorrect IV (causes padding error)',
    ]);
    for (const vector of refused) expect(decryptFernetToken(keyOf(vector), vector.token), vector.desc).toBeUndefined();
  });

  it('reads tokens that are expired or dated in the future (no TTL check)', () => {
    const timed = spec.invalid.filter((vector) => TIME_ONLY.has(vector.desc!));
    expect(timed).toHaveLength(2);
    for (const vector of timed) expect(decryptFernetToken(keyOf(vector), vector.token)?.toString('utf8')).toBe('');
  });

  it('refuses the unpadded form of a valid token, as Python does', () => {
    const [vector] = spec.verify;
    expect(vector!.token.endsWith('==')).toBe(true);
    expect(decryptFernetToken(keyOf(vector!), vector!.token.replace(/=+$/, ''))).toBeUndefined();
  });

  it('needs a 32-byte key and a 16-byte IV', () => {
    expect(() => fernetKey(Buffer.alloc(16))).toThrow(RangeError);
    expect(() => encryptFernetToken(fernetKey(Buffer.alloc(32)), Buffer.from('x'), Buffer.alloc(12), 0)).toThrow(
      RangeError,
    );
  });
});
