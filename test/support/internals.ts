import type { Database, Executor } from '../../src/db/database.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';

/** The database under an open orgshift, for tests that count rows and corrupt data on purpose. */
export function dbOf(orgshift: Orgshift): Database {
  return internalsOf(orgshift).db;
}

export function kyselyOf(orgshift: Orgshift): Executor {
  return internalsOf(orgshift).db.kysely;
}

/** Quotes an identifier the test itself chose. */
export function ident(name: string): string {
  return `"${name}"`;
}
