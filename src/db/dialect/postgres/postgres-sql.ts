import type { TypeFamily } from '../../../schema-map/catalog.js';
import type { QualifiedName } from '../../../schema-map/table-name.js';
import type { SqlDialect } from '../dialect.js';
import { postgresOutboxSql } from './postgres-outbox-sql.js';

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
const asText = (expression: string) => `(${expression})::text collate "C"`;

/**
 * Cheap guards, not full validation: a regular expression per row costs more
 * than the join it protects (about 10 µs), and keys orgshift wrote were
 * validated already. The guard only stops one malformed row from failing a
 * whole statement.
 */
function convertKey(expression: string, from: TypeFamily, to: TypeFamily, type: string): string {
  if (to === 'text' || to === 'other') return asText(expression);
  if (from !== 'text' && from !== 'other') return `(${expression})::${type}`;
  if (to === 'uuid') return `(case when length(${expression}) = 36 then (${expression})::${type} end)`;
  if (to === 'integer' || to === 'bigint' || to === 'numeric') {
    return `(case when length(${expression}) between 1 and 19 and ltrim(${expression}, '-0123456789') = '' then (${expression})::${type} end)`;
  }
  return `(${expression})::${type}`;
}

/** PostgreSQL's spelling of everything SqlDialect asks for. */
/** jsonb equality ignores key order at every depth. */
function jsonDiffers(target: string, source: string, keys: readonly string[], mode: 'pick' | 'omit'): string {
  const t = `(${target})::jsonb`;
  const src = `(${source})::jsonb`;
  const list = `array[${keys.join(', ')}]::text[]`;
  if (mode === 'omit') return `(${t} is distinct from (${src} - ${list}))`;
  const perKey = keys.map((k) => `(${t} -> ${k}) is distinct from (${src} -> ${k})`);
  return `((${t} - ${list}) <> '{}'::jsonb${perKey.map((c) => ` or ${c}`).join('')})`;
}

export const POSTGRES_SQL: SqlDialect = Object.freeze({
  name: 'postgres',
  concurrentWriters: true,
  quote,
  table: (name: QualifiedName) =>
    name.schema === null ? quote(name.name) : `${quote(name.schema)}.${quote(name.name)}`,
  param: (n: number) => `$${n}`,
  cast: (expression: string, sqlType: string) => `(${expression})::${sqlType}`,
  convertKey,
  toText: (expression: string) => `(${expression})::text`,
  // "C": byte-wise, cheap to hash and compare, and the same on every server.
  asText,
  now: 'now()',
  bindValue: (value: unknown) =>
    value !== null && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)
      ? JSON.stringify(value)
      : value,
  trueLiteral: 'true',
  falseLiteral: 'false',
  // json has no equality operator at all; jsonb's ignores key order.
  distinct: (a: string, b: string, family?: TypeFamily) =>
    family === 'json' || family === 'jsonb'
      ? `(${a})::jsonb is distinct from (${b})::jsonb`
      : `(${a}) is distinct from (${b})`,
  jsonObject: (entries: readonly (readonly [string, string])[]) =>
    `json_build_object(${entries.map(([key, value]) => `'${key}', ${value}`).join(', ')})`,
  jsonArrayAgg: (expression: string) => `json_agg(${expression})`,
  jsonDiffers,
  emptyJsonArray: `'[]'::json`,
  // node-pg decodes a row description and one parser per column on every execution:
  // one JSON column costs the client about a third less than a wide typed row.
  rowAsJson: (query: string) => `select row_to_json(g) as graph from (${query}) g`,
  oneKey: (n: number) => `(select $${n}::text as key)`,
  // A scalar subquery per key (`rowFor` must return one column: rowAsJson makes it so), over an
  // array of `slots` parameters, whose length the planner sees: the generic plan is then as good
  // as a custom one, so after a few executions the statement is no longer planned at all.
  eachKey: (slots: number, rowFor: (oneKey: string) => string) => {
    const params = Array.from({ length: slots }, (_, i) => `$${i + 1}`).join(', ');
    return `select (${rowFor('(select keys.key as key)')}) as graph from unnest(array[${params}]::text[]) as keys(key) where keys.key is not null`;
  },
  eachKeyParams: (keys: readonly string[], slots: number) => [...keys, ...Array(slots - keys.length).fill(null)],
  epochNow: 'extract(epoch from now())::float8',
  minuteOf: (expression: string) => `(floor(extract(epoch from ${expression}) / 60) * 60)::bigint`,
  bindTimestamp: (epochSeconds: number) => new Date(epochSeconds * 1000),
  forUpdate: 'for update',
  forUpdateSkipLocked: (alias: string) => `for update of ${alias} skip locked`,
  transactionIdColumn: 'txid_current()::text',
  optimizationFence: 'offset 0',
  payloadRecord: (group: string, table: string, alias: string) =>
    `cross join lateral jsonb_populate_record(null::${table}, i.j -> '${group}') as ${alias}`,
  payloadValue: (_group: string, alias: string, column: string) => `${alias}.${quote(column)}`,
  payloadKey: `(i.j ->> 'k')`,
  // Any constant will do; it only has to be orgshift's own.
  migrationLock: 'select pg_advisory_xact_lock(7239451108)',
  addColumn: (table: string, column: string, type: string) =>
    `alter table ${table} add column if not exists ${column} ${type}`,
  outbox: postgresOutboxSql,
  types: Object.freeze({
    serialKey: 'bigint generated always as identity primary key',
    text: 'text',
    json: 'jsonb',
    // Millisecond precision, so a JavaScript Date round-trips without loss.
    timestamp: 'timestamptz(3)',
    boolean: 'boolean',
    integer: 'integer',
    bigint: 'bigint',
    uuid: 'uuid',
  }),
});
