import type { TableName } from './schema-map.js';

/** A table as the database names it: an optional schema and a name, both exactly as written. */
export interface QualifiedName {
  readonly schema: string | null;
  readonly name: string;
}

/** `"table"`, `"schema.table"` (one dot) or `{ schema, name }`. */
export function qualifiedName(table: TableName): QualifiedName {
  if (typeof table !== 'string') return Object.freeze({ schema: table.schema, name: table.name });
  const dot = table.indexOf('.');
  if (dot > 0 && dot === table.lastIndexOf('.') && dot < table.length - 1) {
    return Object.freeze({ schema: table.slice(0, dot), name: table.slice(dot + 1) });
  }
  return Object.freeze({ schema: null, name: table });
}

/** For messages: `schema.table` or `table`, unquoted. */
export function labelOf(name: QualifiedName): string {
  return name.schema === null ? name.name : `${name.schema}.${name.name}`;
}

/** Two names for the same table, given that an unqualified name lives in the default schema. */
export function sameTable(a: QualifiedName, b: QualifiedName, defaultSchema: string | null): boolean {
  return a.name === b.name && (a.schema ?? defaultSchema) === (b.schema ?? defaultSchema);
}
