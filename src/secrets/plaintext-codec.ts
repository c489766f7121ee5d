import type { DecodeContext, EncodeContext, SecretCodec } from './secret-codec.js';

/** Secrets stored as they are. Recognizes everything, so it belongs last in a list of codecs. */
export class PlaintextCodec implements SecretCodec {
  readonly kind = 'plaintext';

  decode(stored: string, _context: DecodeContext): string {
    return stored;
  }

  encode(plaintext: string, _context: EncodeContext): string {
    return plaintext;
  }

  recognizes(_stored: string): boolean {
    return true;
  }
}
