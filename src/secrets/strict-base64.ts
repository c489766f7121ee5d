export type Base64Alphabet = 'base64' | 'base64url' | 'either';

const PATTERNS: Readonly<Record<Base64Alphabet, RegExp>> = {
  base64: /^[A-Za-z0-9+/]*={0,2}$/,
  base64url: /^[A-Za-z0-9_-]*={0,2}$/,
  either: /^[A-Za-z0-9+/_-]*={0,2}$/,
};

/**
 * Padded base64 in one alphabet, or `undefined`. Node's own decoder skips
 * characters it does not know, which would let a damaged value decode to
 * something shorter instead of being refused.
 */
export function decodeStrictBase64(text: string, alphabet: Base64Alphabet): Buffer | undefined {
  if (text.length % 4 !== 0 || !PATTERNS[alphabet].test(text)) return undefined;
  // Node's decoder accepts both alphabets, so one call serves all three.
  return Buffer.from(text, 'base64');
}
