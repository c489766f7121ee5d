/**
 * A boolean as any driver returns it: PostgreSQL `true`, SQLite `1`, and the
 * text forms a boolean takes when it comes back inside JSON or as text.
 */
export function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}
