import type { Database, Executor } from '../../src/db/database.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import type { Outbox } from '../../src/outbox/outbox.js';

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

/**
 * An orgshift with some methods replaced (spies, injected failures) that
 * still shares the original's internals. The original is frozen, so the
 * replacements are defined, not assigned.
 */
export function withMethods<T extends object>(original: T, methods: Partial<T>): T {
  const descriptors = Object.fromEntries(
    Object.entries(methods).map(([name, value]) => [name, { value, enumerable: true }]),
  );
  return Object.create(original, descriptors) as T;
}

/** The outbox of an open orgshift: its dispatcher, counts and redrive. */
export function outboxOf(orgshift: Orgshift): Outbox {
  return internalsOf(orgshift).outbox;
}
