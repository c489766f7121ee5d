import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretUndecryptableError } from '../../src/errors.js';
import { createSecretCodec } from '../../src/secrets/create-secret-codec.js';
import { FernetCodec, looksLikeFernetToken } from '../../src/secrets/fernet-codec.js';
import { encryptFernetToken, fernetKey } from '../../src/secrets/fernet-token.js';
import type { SecretCodec } from '../../src/secrets/secret-codec.js';

interface PythonVectors {
  readonly cryptography: string;
  readonly raw: {
    readonly key: string;
    readonly vectors: readonly { readonly plaintext: string; readonly timestamp: number; readonly token: string }[];
  };
  readonly openhands: {
    readonly jwtSecret: string;
    readonly vectors: readonly { readonly plaintext: string; readonly stored: string }[];
  };
}

/** Made once by Python's `cryptography` with make-python-vectors.py (see its header); no Python at test time. */
const python = JSON.parse(
  readFileSync(new URL('./fixtures/python-fernet-vectors.json', import.meta.url), 'utf8'),
) as PythonVectors;

const COLUMN = 'llm_api_key';
const OWNER = { ownerId: 'user-1' };
const AT = { ...OWNER, column: COLUMN };

const rawCodec = (plaintextFallback = false) =>
  createSecretCodec(
    { codec: 'fernet', key: { env: 'FERNET_KEY' }, plaintextFallback },
    { FERNET_KEY: python.raw.key },
    'm',
  );
const openHandsCodec = (plaintextFallback = true, secret = python.openhands.jwtSecret) =>
  createSecretCodec(
    { codec: 'fernet', key: { env: 'JWT_SECRET' }, derive: 'sha256', wrap: 'base64', plaintextFallback },
    { JWT_SECRET: secret },
    'm',
  );

/** Asserts a refusal that names the column and shows none of the given secrets. */
function expectRefusal(decode: () => unknown, ...hidden: string[]): void {
  let caught: unknown;
  try {
    decode();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SecretUndecryptableError);
  const error = caught as SecretUndecryptableError;
  expect(error.code).toBe('secret_undecryptable');
  expect(error.message).toContain(COLUMN);
  for (const secret of hidden.filter((s) => s.length >= 4)) expect(error.message).not.toContain(secret);
}

describe('Fernet codec against tokens made by Python cryptography', () => {
  it('came from the real library', () => {
    expect(python.cryptography).toMatch(/^\d+\.\d+/);
    expect(python.raw.vectors.length).toBeGreaterThanOrEqual(10);
  });

  it('decodes every raw token, whatever its age', () => {
    const codec = rawCodec();
    for (const vector of python.raw.vectors) {
      expect(codec.recognizes(vector.token)).toBe(true);
      expect(codec.decode(vector.token, AT)).toBe(vector.plaintext);
    }
  });

  it('decodes values stored the OpenHands way: key = SHA-256(JWT secret), token base64-wrapped', () => {
    const codec = openHandsCodec(false);
    for (const vector of python.openhands.vectors) {
      expect(vector.stored.startsWith('Z0FBQUFB')).toBe(true);
      expect(codec.decode(vector.stored, AT)).toBe(vector.plaintext);
    }
  });

  it('derives the same key whether given the secret (sha256) or the derived key itself', () => {
    const derived = createHash('sha256').update(python.openhands.jwtSecret).digest('base64');
    const codec = createSecretCodec({ codec: 'fernet', key: { env: 'K' }, wrap: 'base64' }, { K: derived }, 'm');
    for (const vector of python.openhands.vectors) expect(codec.decode(vector.stored, AT)).toBe(vector.plaintext);
  });
});

describe('Fernet codec round trips', () => {
  const codecs: readonly [string, SecretCodec][] = [
    ['raw', rawCodec()],
    ['raw with fallback', rawCodec(true)],
    ['OpenHands (derived, wrapped, fallback)', openHandsCodec()],
  ];

  it.each(codecs)('%s: any string survives encode then decode', (_name, codec) => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (plaintext) => {
        const stored = codec.encode(plaintext, OWNER);
        expect(looksLikeFernetToken(stored)).toBe(true);
        expect(codec.decode(stored, AT)).toBe(plaintext);
      }),
      { numRuns: 200 },
    );
  });

  it('wraps exactly as OpenHands does: base64 of the token text', () => {
    const stored = openHandsCodec().encode('sk-1', OWNER);
    const token = Buffer.from(stored, 'base64').toString('ascii');
    expect(token).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/);
    expect(Buffer.from(token, 'ascii').toString('base64')).toBe(stored);
  });

  it('encodes with the injected IV and time (the seam the spec vectors need) and never repeats otherwise', () => {
    const key = Buffer.alloc(32, 7);
    const fixed = new FernetCodec({
      key,
      wrap: 'none',
      plaintextFallback: false,
      entropy: { iv: () => Buffer.alloc(16, 1), nowSeconds: () => 1_000 },
    });
    expect(fixed.encode('same', OWNER)).toBe(fixed.encode('same', OWNER));
    const real = new FernetCodec({ key, wrap: 'none', plaintextFallback: false });
    expect(real.encode('same', OWNER)).not.toBe(real.encode('same', OWNER));
    const timestamp = Buffer.from(real.encode('same', OWNER), 'base64url').readBigUInt64BE(1);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
  });
});

describe('Fernet codec refusals', () => {
  const [vector] = python.raw.vectors;
  const token = vector!.token;
  const plaintext = vector!.plaintext;
  const key = python.raw.key;

  it('refuses a token made with another key', () => {
    const other = createSecretCodec(
      { codec: 'fernet', key: { env: 'K' } },
      { K: Buffer.alloc(32, 9).toString('base64') },
      'm',
    );
    expectRefusal(() => other.decode(token, AT), token, plaintext, key);
    expectRefusal(() => openHandsCodec(true, 'another-jwt-secret').decode(python.openhands.vectors[0]!.stored, AT));
  });

  it('refuses a token with any byte changed (past the marker, even with the plaintext fallback on)', () => {
    const bytes = Buffer.from(token, 'base64url');
    // Bytes 0-4 hold the `gAAAAA` marker: changing them makes a value that no longer looks like a token.
    for (let index = 0; index < bytes.length; index += 1) {
      const tampered = Buffer.from(bytes);
      tampered[index] = tampered[index]! ^ 0x01;
      const text = tampered.toString('base64').replaceAll('+', '-').replaceAll('/', '_');
      expectRefusal(() => rawCodec(false).decode(text, AT), text, plaintext, key);
      if (index >= 5) expectRefusal(() => rawCodec(true).decode(text, AT), text, plaintext, key);
    }
  });

  it('refuses a truncated token', () => {
    const codec = rawCodec(true);
    for (const length of [6, 20, 60, token.length - 4, token.length - 1]) {
      expectRefusal(() => codec.decode(token.slice(0, length), AT), token.slice(0, length), plaintext, key);
    }
    const wrapped = python.openhands.vectors[0]!.stored;
    for (const length of [8, 40, wrapped.length - 4, wrapped.length - 1]) {
      expectRefusal(() => openHandsCodec().decode(wrapped.slice(0, length), AT), wrapped.slice(0, length));
    }
  });

  it('refuses non-base64 that carries the token marker', () => {
    for (const bad of [`${token.slice(0, 30)}%%%%${token.slice(34)}`, `${token.slice(0, -4)} ==`, `${token}\n`]) {
      expectRefusal(() => rawCodec(true).decode(bad, AT), bad, plaintext, key);
    }
    const wrapped = python.openhands.vectors[0]!.stored;
    expectRefusal(() => openHandsCodec().decode(`${wrapped.slice(0, 20)}*${wrapped.slice(21)}`, AT));
  });

  it('refuses a token whose plaintext is not UTF-8', () => {
    const codec = new FernetCodec({ key: Buffer.alloc(32, 3), wrap: 'none', plaintextFallback: true });
    const valid = encryptFernetToken(fernetKey(Buffer.alloc(32, 3)), Buffer.from('x'), Buffer.alloc(16), 0);
    const invalid = encryptFernetToken(fernetKey(Buffer.alloc(32, 3)), Buffer.from([0xff, 0xfe]), Buffer.alloc(16), 0);
    expect(codec.decode(valid, AT)).toBe('x');
    expectRefusal(() => codec.decode(invalid, AT));
  });
});

describe('Fernet plaintext fallback', () => {
  const rawToken = python.raw.vectors[0]!.token;
  const wrapped = python.openhands.vectors[0]!.stored;

  it('takes a value without the token marker as plaintext', () => {
    const codec = openHandsCodec(true);
    for (const plain of ['sk-ant-api03-abc', 'gAAAA-almost', 'Z0FBQUF', '', 'eyJhbGciOi.jwt.like', 'ZZZZ']) {
      expect(codec.recognizes(plain)).toBe(true);
      expect(codec.decode(plain, AT)).toBe(plain);
    }
  });

  it('refuses a token in the other wrapping instead of passing it through as plaintext', () => {
    expectRefusal(() => openHandsCodec(true).decode(rawToken, AT), rawToken);
    expectRefusal(() => rawCodec(true).decode(wrapped, AT), wrapped);
  });

  it('without the fallback, recognizes only the token markers and refuses anything else', () => {
    const codec = rawCodec(false);
    expect(codec.recognizes(rawToken)).toBe(true);
    expect(codec.recognizes(wrapped)).toBe(true);
    expect(codec.recognizes('sk-plain-key')).toBe(false);
    expectRefusal(() => codec.decode('sk-plain-key', AT), 'sk-plain-key');
  });

  it('defines "looks like a token" by the two markers only', () => {
    expect(looksLikeFernetToken('gAAAAA')).toBe(true);
    expect(looksLikeFernetToken('Z0FBQUFBxyz')).toBe(true);
    expect(looksLikeFernetToken('gAAAA')).toBe(false);
    expect(looksLikeFernetToken(' gAAAAAxyz')).toBe(false);
    expect(looksLikeFernetToken('z0FBQUFB')).toBe(false);
  });
});
