import type { SecretCipher } from '../crypto/secret-cipher.js';
import type { Dialect } from '../db/database.js';
import type { LegacySchema } from '../db/legacy-schema.js';

/** What the migration transaction needs besides a connection. */
export interface MigrationContext {
  readonly dialect: Dialect;
  readonly legacy: LegacySchema;
  /** Decrypts what the legacy system wrote. */
  readonly legacyCipher: SecretCipher;
  /** Encrypts what orgshift writes. */
  readonly currentCipher: SecretCipher;
}
