/**
 * How a secret column is stored at rest. The migration reads a legacy value
 * with one codec and writes it with another, so each stored format is one
 * small object behind this interface instead of branches in the engine.
 */
export interface SecretCodec {
  readonly kind: SecretCodecKind;
  /** Throws `SecretUndecryptableError` naming `context.column`, never the value or key. */
  decode(stored: string, context: DecodeContext): string;
  encode(plaintext: string, context: EncodeContext): string;
  /**
   * True when `stored` carries this codec's marker, so that `decode` is the
   * right place to judge it (and refuse it if it is damaged). Used to choose
   * among several codecs: a value no codec recognizes is refused.
   */
  recognizes(stored: string): boolean;
}

export type SecretCodecKind = 'aes-256-gcm' | 'fernet' | 'plaintext';

export interface EncodeContext {
  /** The user the secret belongs to; the AES-256-GCM codec binds it to the ciphertext. */
  readonly ownerId: string;
}

export interface DecodeContext extends EncodeContext {
  /** Named in errors, so a refusal says which column without showing its value. */
  readonly column: string;
}

/** Key material only ever comes from the environment, never from the map file. */
export interface KeySource {
  readonly env: string;
}

export type SecretCodecSpec = Aes256GcmCodecSpec | FernetCodecSpec | PlaintextCodecSpec;

/** orgshift's own format; see `Aes256GcmCodec`. */
export interface Aes256GcmCodecSpec {
  readonly codec: 'aes-256-gcm';
  readonly key: KeySource;
}

/** Fernet tokens as Python's `cryptography` writes them; see `FernetCodec`. */
export interface FernetCodecSpec {
  readonly codec: 'fernet';
  readonly key: KeySource;
  /** `sha256`: the variable holds any secret and the Fernet key is its SHA-256 digest. */
  readonly derive?: FernetKeyDerivation;
  /** `base64`: the stored value is the token's text, base64-encoded once more. */
  readonly wrap?: FernetWrapping;
  /** A stored value that does not look like a token is taken as plaintext (rows written before encryption). */
  readonly plaintextFallback?: boolean;
}

export interface PlaintextCodecSpec {
  readonly codec: 'plaintext';
}

export type FernetKeyDerivation = 'none' | 'sha256';
export type FernetWrapping = 'none' | 'base64';
