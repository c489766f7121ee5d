import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretUndecryptableError } from '../../src/errors.js';
import { createSecretCodec } from '../../src/secrets/create-secret-codec.js';
import { base62Sha256KeyId, JweCodec } from '../../src/secrets/jwe-codec.js';

// Tokens computed by following OpenHands' code paths with JWT_SECRET "test-jwt-secret"
// (python-jose with a 16-byte IV, jwcrypto/joserfc with a 12-byte one); both decrypt with those libraries.
const SECRET = 'test-jwt-secret';
const HEADER =
  'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiUTV5cUNHRXdCcXZZU01SbmFTTG1ueG9helBHVnI1bGpZQTVNc1FUdlNHcyJ9';
const WITH_12_BYTE_IV = `${HEADER}..AAECAwQFBgcICQoL.dkRIsS_1ys1CkXIrbgpRYBoLaDs16fo6EAv8k0VOrmvEkabwEJzMILiQZg.bHPdl3sNo5hB7QL9G4IURQ`;
const WITH_16_BYTE_IV = `${HEADER}..AAECAwQFBgcICQoLDA0ODw.QI5hk_Yg4tBYk3YMRiH1aWRboOSQSLTTH-1f_lyS99fwwPKYWxpUDcBrQQ.t9hMM_I3NK6wdlSkNLvQrg`;
const NULL_KEY = `${HEADER}..AAECAwQFBgcICQoL.dkRIsS_1hstF0CpuPxcdeFRcZWFnoOgmABmlwgER.V9nJiNXESCz7SDbCKUSZag`;

const key = createHash('sha256').update(SECRET).digest();
const context = { ownerId: 'u1', column: '_llm_api_key' };
const fixed = { iv: () => Buffer.from([...Array(12).keys()]), nowSeconds: () => 1_700_000_000 };

describe('JWE codec (alg dir, enc A256GCM)', () => {
  it("computes OpenHands' key id", () => {
    expect(base62Sha256KeyId(SECRET)).toBe('Q5yqCGEwBqvYSMRnaSLmnxoazPGVr5ljYA5MsQTvSGs');
  });

  it('writes byte for byte what OpenHands writes, and reads both IV lengths', () => {
    const codec = new JweCodec({ key, kid: base62Sha256KeyId(SECRET), entropy: fixed });
    expect(codec.encode('sk-test-llm-key', context)).toBe(WITH_12_BYTE_IV);
    expect(codec.decode(WITH_12_BYTE_IV, context)).toBe('sk-test-llm-key');
    expect(codec.decode(WITH_16_BYTE_IV, context)).toBe('sk-test-llm-key');
  });

  it('stores NULL encrypted on request and reads it back as NULL', () => {
    const codec = new JweCodec({ key, kid: base62Sha256KeyId(SECRET), entropy: fixed });
    expect(codec.encodeNull({ ownerId: 'u1' })).toBe(NULL_KEY);
    expect(codec.decode(NULL_KEY, context)).toBeNull();
  });

  it('refuses a tampered token, a wrong key and garbage, naming the column and never the value', () => {
    const codec = new JweCodec({ key, kid: null });
    const wrong = new JweCodec({ key: Buffer.alloc(32, 1), kid: null });
    const tampered = WITH_12_BYTE_IV.replace('dkRIsS', 'dkRIsT');
    for (const [c, token] of [
      [codec, tampered],
      [wrong, WITH_12_BYTE_IV],
      [codec, 'sk-plain'],
      [codec, `${HEADER}..AAEC.x.y`],
    ] as const) {
      try {
        c.decode(token, context);
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(SecretUndecryptableError);
        expect((error as Error).message).toContain('_llm_api_key');
        expect((error as Error).message).not.toContain(token.slice(0, 20));
      }
    }
  });

  it('is built from a map entry, the key derived from the secret as OpenHands derives it', () => {
    const codec = createSecretCodec(
      { codec: 'jwe', key: { env: 'JWT' }, derive: 'sha256', kid: 'base62-sha256' },
      { JWT: SECRET },
      'codecs.target',
    );
    expect(codec.decode(WITH_16_BYTE_IV, context)).toBe('sk-test-llm-key');
    expect(codec.decode(codec.encode('round trip', { ownerId: 'u1' }), context)).toBe('round trip');
  });
});
