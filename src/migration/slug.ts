import { createHash } from 'node:crypto';

const MAX_SLUG = 48;

/** Lower-case ASCII words joined by dashes; accents dropped, everything else a separator. */
export function slugify(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_SLUG)
    .replace(/-+$/, '');
  return slug.length > 0 ? slug : 'user';
}

/**
 * A suffix that keeps slugs of different users apart: derived from the user
 * key, so planning a user twice gives the same slug. Ten base-36 characters:
 * the chance that two of a million users share one is about 1 in 7,000, and
 * a clash is refused by the unique index and recorded, never silently merged.
 */
export function uniqueSuffix(key: string): string {
  const digest = createHash('sha256').update(key).digest();
  return BigInt(`0x${digest.subarray(0, 8).toString('hex')}`)
    .toString(36)
    .padStart(10, '0')
    .slice(-10);
}

export function uniqueSlug(text: string, key: string): string {
  return `${slugify(text)}-${uniqueSuffix(key)}`;
}
