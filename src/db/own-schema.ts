import type { SqlDialect } from './dialect/dialect.js';
import { FAILURES_TABLE } from './own-tables.js';

/** One step of orgshift's own schema: applied once, in order, recorded in orgshift_schema_versions. */
export interface SchemaStep {
  readonly name: string;
  statements(dialect: SqlDialect): readonly string[];
}

export const VERSIONS_TABLE = 'orgshift_schema_versions';

/** The bookkeeping table itself, created before any step runs. */
export function versionsTable(d: SqlDialect): string {
  return `create table if not exists ${VERSIONS_TABLE} (
    name text primary key,
    applied_at ${d.types.timestamp} not null default ${defaultNow(d)}
  )`;
}

function defaultNow(d: SqlDialect): string {
  return `(${d.now})`;
}

/**
 * orgshift's own tables; everything else belongs to the team and is named
 * by the schema map. Add steps at the end; never edit one that shipped.
 */
export const OWN_SCHEMA: readonly SchemaStep[] = Object.freeze([
  {
    name: '001_repair_queue',
    statements: (d: SqlDialect) => [
      `create table if not exists ${FAILURES_TABLE} (
        kind text not null,
        subject text not null,
        code text not null,
        message text not null,
        attempts integer not null default 1,
        first_at ${d.types.timestamp} not null default ${defaultNow(d)},
        last_at ${d.types.timestamp} not null default ${defaultNow(d)},
        primary key (kind, subject)
      )`,
      `create index if not exists ${FAILURES_TABLE}_code_idx on ${FAILURES_TABLE} (code)`,
    ],
  },
]);
