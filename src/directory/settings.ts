/**
 * Legacy users kept one `settings` object; the org model splits it into the
 * org's settings (keys named in the configuration) and the user's preferences.
 */
export interface SplitSettings {
  readonly orgSettings: Record<string, unknown>;
  readonly preferences: Record<string, unknown>;
}

export function splitSettings(settings: Readonly<Record<string, unknown>>, orgKeys: readonly string[]): SplitSettings {
  const orgSettings: Record<string, unknown> = {};
  const preferences: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (orgKeys.includes(key)) orgSettings[key] = value;
    else preferences[key] = value;
  }
  return { orgSettings, preferences };
}

/** The inverse of splitSettings, for rollback and fidelity checks. */
export function mergeSettings(
  preferences: Readonly<Record<string, unknown>>,
  orgSettings: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return { ...preferences, ...orgSettings };
}

/** Key-by-key equality of two JSON objects (values compared as canonical JSON). */
export function settingsDiffer(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key) => canonical(a[key]) !== canonical(b[key])).sort();
}

function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}
