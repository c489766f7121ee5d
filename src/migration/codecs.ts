import { ConfigError } from '../errors.js';
import type { CodecSpec } from '../schema-map/schema-map.js';
import { createSecretCodec } from '../secrets/create-secret-codec.js';
import type { SecretCodec } from '../secrets/secret-codec.js';

export type { SecretCodec } from '../secrets/secret-codec.js';

export type CodecSet = ReadonlyMap<string, SecretCodec>;

/**
 * Every codec the map names, with its key material read from `env` now, so a
 * missing or malformed key stops the program at start. Errors name the
 * environment variable (and the map path), never its value.
 */
export function createCodecs(
  codecs: Readonly<Record<string, CodecSpec>>,
  env: Readonly<Record<string, string | undefined>>,
): CodecSet {
  const set = new Map<string, SecretCodec>();
  for (const [name, spec] of Object.entries(codecs)) {
    try {
      set.set(name, createSecretCodec(spec, env as NodeJS.ProcessEnv, `codecs.${name}`));
    } catch (error) {
      if (error instanceof ConfigError && 'key' in spec) throw new ConfigError(spec.key.env, `${error.message}`);
      throw error;
    }
  }
  return set;
}
