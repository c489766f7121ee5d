import type pg from 'pg';
import { type Cell, type ColumnType, quoteIdent, type Row, type TableSpec } from './tables.js';
import type { FixtureWriter, RowSink } from './writer.js';

const ARRAY_TYPES: Readonly<Record<ColumnType, string>> = {
  text: 'text[]',
  integer: 'integer[]',
  boolean: 'boolean[]',
  json: 'jsonb[]',
  // Prisma keeps UTC in a column without time zone; the offset of an ISO
  // string is ignored on input, so the UTC wall clock is what lands.
  timestamp: 'timestamp(3)[]',
  timestamptz: 'timestamptz[]',
};

function toPostgres(type: ColumnType, cell: Cell): Cell {
  if (cell === null) return null;
  if (type === 'timestamp' || type === 'timestamptz') return new Date(cell as number).toISOString();
  return cell;
}

/**
 * Inserts through unnest(): one array parameter per column, so a statement
 * carries thousands of rows with a fixed parameter count.
 */
export class PostgresWriter implements FixtureWriter {
  constructor(
    private readonly pool: pg.Pool,
    private readonly batchSize: number,
  ) {}

  async executeScript(sql: string): Promise<void> {
    // Several statements in one simple query run as one implicit transaction.
    await this.pool.query(sql);
  }

  async transaction<T>(work: (sink: RowSink) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const result = await work(this.#sink(client));
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  #sink(client: pg.PoolClient): RowSink {
    const batchSize = this.batchSize;
    return {
      async insert(table: TableSpec, rows: readonly Row[]) {
        const columns = table.columns;
        const sql = `insert into ${quoteIdent(table.name)} (${columns.map((c) => quoteIdent(c.name)).join(', ')})
          select * from unnest(${columns.map((c, i) => `$${i + 1}::${ARRAY_TYPES[c.type]}`).join(', ')})`;
        for (let start = 0; start < rows.length; start += batchSize) {
          const chunk = rows.slice(start, start + batchSize);
          await client.query(
            sql,
            columns.map((c) => chunk.map((row) => toPostgres(c.type, row[c.name] ?? null))),
          );
        }
      },
      async update(table: TableSpec, key: string, column: string, pairs: readonly (readonly [string, string])[]) {
        const sql = `update ${quoteIdent(table.name)} as t set ${quoteIdent(column)} = v.value
          from unnest($1::text[], $2::text[]) as v(key, value) where t.${quoteIdent(key)} = v.key`;
        for (let start = 0; start < pairs.length; start += batchSize) {
          const chunk = pairs.slice(start, start + batchSize);
          await client.query(sql, [chunk.map((p) => p[0]), chunk.map((p) => p[1])]);
        }
      },
    };
  }
}
