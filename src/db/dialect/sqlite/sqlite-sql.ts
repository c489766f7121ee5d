import type { QualifiedName } from '../../../schema-map/table-name.js';
import type { SqlDialect } from '../dialect.js';
import { sqliteOutboxSql } from './sqlite-outbox-sql.js';

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** A JSON path to one member, safe for any identifier the map accepts (no double quotes in names). */
const member = (group: string, column: string) => `'$.${group}."${column.replaceAll("'", "''")}"'`;

/**
 * SQLite's spelling. Types are loose (values keep the type they were written
 * with), timestamps are ISO-8601 text, JSON is text, and better-sqlite3 runs
 * in-process, so a statement costs no round trip and writers are serialized
 * by the write transaction itself (no row locks to take).
 */
/**
 * No JSON equality here: keys are compared one by one through json_each
 * (type and value); nested objects and arrays compare as JSON text, so only
 * a different key order inside a nested value could count as a difference.
 */
function jsonDiffers(target: string, source: string, keys: readonly string[], mode: 'pick' | 'omit'): string {
  const kept = (key: string) =>
    keys.length === 0
      ? mode === 'pick'
        ? '0'
        : '1'
      : `${key} ${mode === 'pick' ? 'in' : 'not in'} (${keys.join(', ')})`;
  const valueIn = (json: string, extra: string) =>
    `(select e.type || ':' || coalesce(e.value, '') from json_each(${json}) e where e.key = k.key${extra})`;
  return `exists (select 1 from (
      select key from json_each(${source}) where ${kept('key')}
      union select key from json_each(${target})
    ) k where ${valueIn(target, '')} is not ${valueIn(source, ` and ${kept('e.key')}`)})`;
}

export const SQLITE_SQL: SqlDialect = Object.freeze({
  name: 'sqlite',
  concurrentWriters: false,
  quote,
  table: (name: QualifiedName) =>
    name.schema === null ? quote(name.name) : `${quote(name.schema)}.${quote(name.name)}`,
  param: () => '?',
  cast: (expression: string) => expression,
  // Loose typing: SQLite compares a text key with an integer column by the column's affinity.
  convertKey: (expression: string) => expression,
  toText: (expression: string) => `cast(${expression} as text)`,
  asText: (expression: string) => `cast(${expression} as text)`,
  now: `strftime('%Y-%m-%dT%H:%M:%fZ','now')`,
  bindValue: (value: unknown) => {
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (value instanceof Date) return value.toISOString();
    if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) return JSON.stringify(value);
    return value;
  },
  trueLiteral: '1',
  falseLiteral: '0',
  distinct: (a: string, b: string) => `(${a}) is not (${b})`,
  jsonObject: (entries: readonly (readonly [string, string])[]) =>
    `json_object(${entries.map(([key, value]) => `'${key}', ${value}`).join(', ')})`,
  jsonArrayAgg: (expression: string) => `json_group_array(${expression})`,
  jsonDiffers,
  emptyJsonArray: `'[]'`,
  rowAsJson: (query: string) => query,
  oneKey: () => '(select ? as key)',
  // SQLite plans joins as nested loops over indexes, and a statement once: one JSON parameter will do.
  eachKey: (_slots: number, rowFor: (oneKey: string) => string) => rowFor('(select value as key from json_each(?))'),
  eachKeyParams: (keys: readonly string[]) => [JSON.stringify(keys)],
  epochNow: `(julianday('now') - 2440587.5) * 86400.0`,
  // ISO-8601 text, as SQLite keeps timestamps here, sorts as it reads.
  minuteOf: (expression: string) => `(cast(strftime('%s', ${expression}) as integer) / 60) * 60`,
  bindTimestamp: (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString(),
  forUpdate: '',
  forUpdateSkipLocked: () => '',
  transactionIdColumn: null,
  optimizationFence: 'limit -1 offset 0',
  payloadRecord: () => '',
  payloadValue: (group: string, _alias: string, column: string) => `json_extract(i.value, ${member(group, column)})`,
  payloadKey: `json_extract(i.value, '$.k')`,
  // BEGIN IMMEDIATE already makes a second migrator wait.
  migrationLock: null,
  // Callers add a column only after the catalog said it is missing (SQLite has no IF NOT EXISTS here).
  addColumn: (table: string, column: string, type: string) => `alter table ${table} add column ${column} ${type}`,
  outbox: sqliteOutboxSql,
  types: Object.freeze({
    serialKey: 'integer primary key autoincrement',
    text: 'text',
    json: 'text',
    timestamp: 'text',
    boolean: 'integer',
    integer: 'integer',
    bigint: 'integer',
    uuid: 'text',
  }),
});
