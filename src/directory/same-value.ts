import type { TypeFamily } from '../schema-map/catalog.js';

/**
 * Whether a value the map computes equals what the database holds, across
 * the ways drivers return things: timestamps as Date or text (with or
 * without an offset), booleans as 0/1 on SQLite, numbers as text (numeric,
 * bigint), JSON as objects or as text. NULL equals only NULL.
 */
export function sameValue(expected: unknown, actual: unknown, family: TypeFamily | undefined): boolean {
  if (expected === null || expected === undefined) return actual === null || actual === undefined;
  if (actual === null || actual === undefined) return false;
  switch (family) {
    case 'timestamp':
    case 'timestamptz':
    case 'date':
      return sameInstant(expected, actual);
    case 'boolean':
      return truthy(expected) === truthy(actual);
    case 'integer':
    case 'bigint':
    case 'numeric':
      return Number(expected) === Number(actual);
    case 'json':
    case 'jsonb':
      return canonical(parsed(expected)) === canonical(parsed(actual));
    default:
      if (typeof expected === 'object' || typeof actual === 'object')
        return canonical(parsed(expected)) === canonical(parsed(actual));
      if (typeof expected === 'boolean') return truthy(expected) === truthy(actual);
      return String(expected) === String(actual);
  }
}

function sameInstant(a: unknown, b: unknown): boolean {
  const x = instant(a);
  const y = instant(b);
  return x !== null && x === y;
}

function instant(value: unknown): number | null {
  if (value instanceof Date) return value.getTime();
  const text = String(value);
  const iso = text.includes('T') ? text : text.replace(' ', 'T');
  const withZone = /(Z|[+-]\d\d(:?\d\d)?)$/.test(iso) || !/T/.test(iso) ? iso : `${iso}Z`;
  const time = new Date(withZone).getTime();
  return Number.isNaN(time) ? null : time;
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
}

function parsed(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** JSON with object keys sorted, so key order never counts as a difference. */
export function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}
