import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { MapSql } from '../../db/map-sql.js';
import { OrgshiftError } from '../../errors.js';
import type { MigrationContext } from '../../migration/migration-context.js';
import type { ColumnInfo, TableInfo } from '../../schema-map/catalog.js';
import { columnsRead } from '../../schema-map/field-source.js';
import { columnValue, type FakePerson, fakePerson, isLabel, settingValue } from './fake-values.js';

export interface SeedOptions {
  readonly users: number;
  /** Rows per user in each dependent table. */
  readonly dependents?: number;
  /** Share of users whose secret columns hold a secret (0..1). */
  readonly apiKeyShare?: number;
  /** Users per insert batch. */
  readonly batchSize?: number;
  readonly onProgress?: (inserted: number) => void;
}

export interface SeedReport {
  readonly users: number;
  readonly dependentRows: number;
  readonly seconds: number;
  /** A few of the keys just inserted, for demos and smoke tests. */
  readonly sampleIds: readonly string[];
}

/** Keys of JSON settings every seeded user gets besides the ones the map names. */
const EXTRA_SETTINGS = ['theme', 'language', 'notifications'];

/**
 * Inserts N legacy users, and K rows per user in each dependent table, into
 * whatever tables the map names: values come from what each column is for
 * (the key, a JSON column's keys the map reads, a secret encoded with the
 * map's legacy codec, an email or a name where the column says so) and from
 * its type for the rest of the required columns. For demos, benchmarks and
 * tests; a column it cannot invent a value for (NOT NULL, no default, an
 * unknown type) stops it with a message naming the column.
 */
export async function seed(ctx: MigrationContext, options: SeedOptions): Promise<SeedReport> {
  const started = performance.now();
  const m = ctx.sql;
  const perUser = options.dependents ?? 0;
  const batchSize = options.batchSize ?? 2_000;
  const share = options.apiKeyShare ?? 0.9;
  const rows = new RowMaker(ctx, share);
  let nextInteger = await firstFreeInteger(ctx);
  let inserted = 0;
  const sampleIds: string[] = [];
  while (inserted < options.users) {
    const count = Math.min(batchSize, options.users - inserted);
    const keys = Array.from({ length: count }, () => {
      if (nextInteger === null) return randomUUID();
      const key = nextInteger.toString();
      nextInteger += 1n;
      return key;
    });
    await ctx.db.writeTransaction(async (trx) => {
      const legacy = keys.map((key) => rows.legacyRow(key));
      await insertRows(
        trx,
        ctx,
        m.resolved.legacy,
        legacy.map((r) => r.values),
      );
      for (const [n, dependent] of m.resolved.dependents.entries()) {
        const dependentRows = legacy.flatMap((r, i) =>
          Array.from({ length: perUser }, (_, j) => rows.dependentRow(n, r, `${j + 1} of user ${inserted + i}`)),
        );
        await insertRows(trx, ctx, dependent.table, dependentRows);
      }
    });
    if (sampleIds.length === 0) sampleIds.push(...keys.slice(0, 5));
    inserted += count;
    options.onProgress?.(inserted);
  }
  return {
    users: inserted,
    dependentRows: inserted * perUser * m.model.dependents.length,
    seconds: (performance.now() - started) / 1000,
    sampleIds,
  };
}

/** Integer keys continue after the largest one; other key types are UUIDs (null here). */
async function firstFreeInteger(ctx: MigrationContext): Promise<bigint | null> {
  const type = ctx.sql.model.legacy.key.type;
  if (type !== 'integer' && type !== 'bigint') return null;
  const result = await sql<{
    top: unknown;
  }>`select max(${sql.raw(ctx.sql.key('l'))}) as top from ${sql.raw(ctx.sql.legacy)} l`.execute(ctx.db.kysely);
  const top = result.rows[0]?.top;
  return top === null || top === undefined ? 1n : BigInt(String(top)) + 1n;
}

interface LegacyValues {
  readonly key: string;
  readonly person: FakePerson;
  readonly values: Record<string, unknown>;
}

/** Makes rows for the mapped tables: what the map reads, what the table requires. */
class RowMaker {
  readonly #ctx: MigrationContext;
  readonly #share: number;
  readonly #jsonKeys = new Map<string, Set<string>>();
  readonly #secrets = new Map<string, string>();
  readonly #read = new Set<string>();

  constructor(ctx: MigrationContext, share: number) {
    this.#ctx = ctx;
    this.#share = share;
    const model = ctx.sql.model;
    for (const field of [...model.org.fields, ...model.user.fields, ...model.membership.fields]) {
      const source = field.source;
      for (const column of columnsRead(source)) this.#read.add(column);
      if (source.kind === 'json-key') this.#jsonKey(source.json).add(source.key);
      if (source.kind === 'json-object')
        for (const key of [...(source.pick ?? []), ...(source.omit ?? [])]) this.#jsonKey(source.json).add(key);
      if (source.kind === 'secret') this.#secrets.set(source.column, source.from);
    }
  }

  #jsonKey(column: string): Set<string> {
    let keys = this.#jsonKeys.get(column);
    if (keys === undefined) {
      keys = new Set(EXTRA_SETTINGS);
      this.#jsonKeys.set(column, keys);
    }
    return keys;
  }

  legacyRow(key: string): LegacyValues {
    const m = this.#ctx.sql;
    const person = fakePerson(key);
    const values: Record<string, unknown> = {};
    for (const column of m.resolved.legacy.columns) {
      const value = this.#legacyValue(m, column, key, person);
      if (value !== undefined) values[column.name] = value;
    }
    return { key, person, values };
  }

  #legacyValue(m: MapSql, column: ColumnInfo, key: string, person: FakePerson): unknown {
    const model = m.model;
    if (column.name === model.legacy.key.column) return key;
    if (model.legacy.marker.type !== 'derived' && column.name === model.legacy.marker.column) return undefined;
    if (column.generated) return undefined;
    const jsonKeys = this.#jsonKeys.get(column.name);
    if (jsonKeys !== undefined) return Object.fromEntries([...jsonKeys].map((k) => [k, settingValue(k, person)]));
    const codec = this.#secrets.get(column.name);
    if (codec !== undefined) return Math.random() < this.#share ? this.#secret(codec, key, column.name) : null;
    const read = this.#read.has(column.name);
    if (read && column.hasDefault) return undefined;
    if (!read && !required(column) && !isLabel(column)) return undefined;
    return this.#required(column, person, `${column.name} of ${key}`);
  }

  #secret(codec: string, key: string, column: string): string {
    const found = this.#ctx.codecs.get(codec);
    if (found === undefined) throw new TypeError(`codec ${codec} is not configured`);
    return found.encode(`sk-legacy-${randomBytes(24).toString('hex')}`, { ownerId: key });
    void column;
  }

  #required(column: ColumnInfo, person: FakePerson, label: string): unknown {
    const value = columnValue(column, person, label);
    if (value === null && required(column)) {
      throw new OrgshiftError(
        'invalid_input',
        `seed cannot invent a value for ${column.name} (${column.type}, NOT NULL without a default)`,
      );
    }
    return value;
  }

  dependentRow(n: number, legacy: LegacyValues, label: string): Record<string, unknown> {
    const m = this.#ctx.sql;
    const model = m.model.dependents[n];
    const table = m.resolved.dependents[n]?.table;
    if (model === undefined || table === undefined) return {};
    const values: Record<string, unknown> = { [model.userKey.column]: legacy.values[model.userKey.references] ?? null };
    for (const column of table.columns) {
      if (column.name in values || column.generated || column.name === model.org?.column) continue;
      if (!required(column) && !isLabel(column)) continue;
      values[column.name] = this.#required(column, legacy.person, `${m.table(model.table)} ${label}`);
    }
    return values;
  }
}

function required(column: ColumnInfo): boolean {
  return !column.nullable && !column.hasDefault && !column.generated;
}

/** One set-based insert of `rows` (each an object of column → value), typed by the table on the way in. */
async function insertRows(
  trx: Executor,
  ctx: MigrationContext,
  table: TableInfo,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  if (rows.length === 0) return;
  const m = ctx.sql;
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  if (columns.length === 0) return;
  const name = m.table(table.name);
  const payload = JSON.stringify(rows.map((row) => ({ x: row })));
  const list = columns.map((c) => m.q(c)).join(', ');
  const values = columns.map((c) => m.dialect.payloadValue('x', 'px', c)).join(', ');
  await ctx.db.runSetWrites(trx, payload, (source) => [
    {
      sql: sql`insert into ${sql.raw(name)} (${sql.raw(list)}) select ${sql.raw(values)} from ${source} ${sql.raw(m.dialect.payloadRecord('x', name, 'px'))}`,
    },
  ]);
}
