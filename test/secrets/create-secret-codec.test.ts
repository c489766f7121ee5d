import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createSecretCodec } from '../../src/secrets/create-secret-codec.js';
import type { SecretCodecSpec } from '../../src/secrets/secret-codec.js';

const PATH = 'secrets.llm_api_key.legacy';

function configError(spec: SecretCodecSpec, env: NodeJS.ProcessEnv): ConfigError {
  try {
    createSecretCodec(spec, env, PATH);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('createSecretCodec', () => {
  it('builds each kind', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    expect(createSecretCodec({ codec: 'plaintext' }, {}, PATH).kind).toBe('plaintext');
    expect(createSecretCodec({ codec: 'aes-256-gcm', key: { env: 'K' } }, { K: key }, PATH).kind).toBe('aes-256-gcm');
    expect(createSecretCodec({ codec: 'fernet', key: { env: 'K' } }, { K: key }, PATH).kind).toBe('fernet');
    expect(
      createSecretCodec({ codec: 'fernet', key: { env: 'K' }, derive: 'sha256' }, { K: 'any secret' }, PATH).kind,
    ).toBe('fernet');
  });

  it('accepts a key in either base64 alphabet, padded', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => 250 - i));
    for (const text of [bytes.toString('base64'), bytes.toString('base64').replaceAll('+', '-').replaceAll('/', '_')]) {
      const codec = createSecretCodec({ codec: 'fernet', key: { env: 'K' } }, { K: text }, PATH);
      expect(codec.decode(codec.encode('x', { ownerId: 'u' }), { ownerId: 'u', column: 'c' })).toBe('x');
    }
  });

  it('names the variable and the map path when the key is missing or malformed, never the value', () => {
    const secretish = 'Zm9vYmFyLXRoaXMtaXMtbm90LTMyLWJ5dGVz';
    const cases: readonly [SecretCodecSpec, NodeJS.ProcessEnv, RegExp][] = [
      [{ codec: 'aes-256-gcm', key: { env: 'ORGSHIFT_LEGACY_KEY' } }, {}, /ORGSHIFT_LEGACY_KEY is not set/],
      [{ codec: 'aes-256-gcm', key: { env: 'ORGSHIFT_LEGACY_KEY' } }, { ORGSHIFT_LEGACY_KEY: '' }, /is not set/],
      [{ codec: 'aes-256-gcm', key: { env: 'K' } }, { K: secretish }, /K must hold 32 bytes/],
      [{ codec: 'fernet', key: { env: 'K' } }, { K: `${secretish}%%` }, /K must hold 32 bytes/],
      [{ codec: 'fernet', key: { env: 'K' } }, { K: Buffer.alloc(32).toString('base64').slice(0, -1) }, /32 bytes/],
      [{ codec: 'fernet', key: { env: 'K' } }, { K: Buffer.alloc(16).toString('base64') }, /32 bytes/],
      [{ codec: 'fernet', key: { env: 'JWT_SECRET' }, derive: 'sha256' }, {}, /JWT_SECRET is not set/],
    ];
    for (const [spec, env, message] of cases) {
      const error = configError(spec, env);
      expect(error.code).toBe('config_invalid');
      expect(error.message).toMatch(message);
      expect(error.message.startsWith(`${PATH}.key: `)).toBe(true);
      for (const value of Object.values(env)) if (value) expect(error.message).not.toContain(value);
    }
  });

  it('refuses an unknown codec, derivation, wrapping or variable name, naming the map path', () => {
    const key = { K: Buffer.alloc(32).toString('base64') };
    const cases: readonly [unknown, string][] = [
      [{ codec: 'rot13' }, `${PATH}.codec`],
      [{ codec: 'fernet', key: { env: 'K' }, derive: 'md5' }, `${PATH}.derive`],
      [{ codec: 'fernet', key: { env: 'K' }, wrap: 'hex' }, `${PATH}.wrap`],
      [{ codec: 'fernet', key: { env: 'not a name' } }, `${PATH}.key.env`],
      [{ codec: 'aes-256-gcm', key: {} }, `${PATH}.key.env`],
    ];
    for (const [spec, path] of cases) {
      expect(configError(spec as SecretCodecSpec, key).message.startsWith(`${path}: `)).toBe(true);
    }
  });
});
