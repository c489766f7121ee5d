import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { Aes256GcmCodec } from './aes-256-gcm-codec.js';
import { FernetCodec } from './fernet-codec.js';
import { PlaintextCodec } from './plaintext-codec.js';
import type { FernetKeyDerivation, FernetWrapping, KeySource, SecretCodec, SecretCodecSpec } from './secret-codec.js';
import { decodeStrictBase64 } from './strict-base64.js';

/** Both AES-256 and Fernet keys are 32 bytes. */
const KEY_BYTES = 32;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DERIVATIONS: readonly FernetKeyDerivation[] = ['none', 'sha256'];
const WRAPPINGS: readonly FernetWrapping[] = ['none', 'base64'];

/**
 * Builds the codec a map entry describes, reading its key from `env` once.
 * Throws `ConfigError` naming `path` and the variable, never its value.
 */
export function createSecretCodec(spec: SecretCodecSpec, env: NodeJS.ProcessEnv, path: string): SecretCodec {
  switch (spec.codec) {
    case 'plaintext':
      return new PlaintextCodec();
    case 'aes-256-gcm':
      return new Aes256GcmCodec(readKeyBytes(spec.key, env, `${path}.key`));
    case 'fernet':
      return new FernetCodec({
        key: fernetKeyBytes(spec.key, oneOf(spec.derive ?? 'none', DERIVATIONS, `${path}.derive`), env, path),
        wrap: oneOf(spec.wrap ?? 'none', WRAPPINGS, `${path}.wrap`),
        plaintextFallback: spec.plaintextFallback ?? false,
      });
    default:
      throw new ConfigError(`${path}.codec`, 'must be one of aes-256-gcm, fernet, plaintext');
  }
}

function fernetKeyBytes(key: KeySource, derive: FernetKeyDerivation, env: NodeJS.ProcessEnv, path: string): Buffer {
  if (derive === 'none') return readKeyBytes(key, env, `${path}.key`);
  return deriveFernetKey(readVariable(key, env, `${path}.key`));
}

/** `derive: 'sha256'`: the variable holds any secret (OpenHands uses its JWT secret) and the key is its digest. */
export function deriveFernetKey(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function readKeyBytes(key: KeySource, env: NodeJS.ProcessEnv, path: string): Buffer {
  const bytes = decodeStrictBase64(readVariable(key, env, path), 'either');
  if (bytes?.length !== KEY_BYTES) {
    throw new ConfigError(path, `environment variable ${key.env} must hold 32 bytes, base64 or base64url-encoded`);
  }
  return bytes;
}

function readVariable(key: KeySource, env: NodeJS.ProcessEnv, path: string): string {
  const name: unknown = key?.env;
  if (typeof name !== 'string' || !ENV_NAME.test(name)) {
    throw new ConfigError(`${path}.env`, 'must name an environment variable');
  }
  const value = env[name];
  if (value === undefined || value.length === 0) throw new ConfigError(path, `environment variable ${name} is not set`);
  return value;
}

function oneOf<T extends string>(value: T, allowed: readonly T[], path: string): T {
  if (!allowed.includes(value)) throw new ConfigError(path, `must be one of ${allowed.join(', ')}`);
  return value;
}
