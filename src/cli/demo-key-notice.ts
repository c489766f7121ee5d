import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { OrgshiftConfig } from '../config/config.js';

const WARNING =
  'orgshift: warning: this database uses the public demo keys; set ORGSHIFT_LEGACY_KEY and ORGSHIFT_SECRET_KEY ' +
  'before storing real secrets (shown once per database)';

/** In-memory databases live one process long: warn once per process for them. */
let shownInThisProcess = false;

/**
 * Where we remember that a database was warned about: a marker file next to
 * the SQLite file (the demo keys only exist on SQLite), so the warning is
 * shown by the first command that touches a database, not by every one.
 */
export function demoKeyMarkerPath(sqlitePath: string): string {
  return `${resolve(sqlitePath)}.demo-keys-noted`;
}

/** The warning to print for this configuration, or undefined when it was already shown. */
export function demoKeyWarning(config: OrgshiftConfig): string | undefined {
  if (!config.keys.demo || config.database.kind !== 'sqlite') return undefined;
  if (config.database.path === ':memory:') {
    if (shownInThisProcess) return undefined;
    shownInThisProcess = true;
    return WARNING;
  }
  const marker = demoKeyMarkerPath(config.database.path);
  // A marker without its database is left over from a database since deleted: this one is new.
  if (existsSync(marker) && existsSync(resolve(config.database.path))) return undefined;
  try {
    writeFileSync(
      marker,
      'orgshift showed its warning about the public demo keys for the SQLite file beside this one.\n',
    );
  } catch {
    // No directory yet, or read-only: warning once too often is harmless.
  }
  return WARNING;
}
