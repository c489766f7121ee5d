import type BetterSqlite3 from 'better-sqlite3';
import { type Cell, type ColumnType, quoteIdent, type Row, type TableSpec } from './tables.js';
import type { SqliteTimestamps } from './target.js';
import type { FixtureWriter, RowSink } from './writer.js';

/**
 * One prepared statement per table, run row by row inside one transaction:
 * on SQLite that is the fast path (no per-row commit, no SQL parsing).
 */
export class SqliteWriter implements FixtureWriter {
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly timestamps: SqliteTimestamps,
  ) {}

  async executeScript(sql: string): Promise<void> {
    this.db.transaction(() => this.db.exec(sql))();
  }

  async transaction<T>(work: (sink: RowSink) => Promise<T>): Promise<T> {
    // better-sqlite3's transaction() wraps synchronous work only; the sink is
    // synchronous underneath, so explicit statements give the same guarantee.
    this.db.exec('begin immediate');
    try {
      const result = await work(this.#sink());
      this.db.exec('commit');
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('rollback');
      throw error;
    }
  }

  #sink(): RowSink {
    return {
      insert: async (table: TableSpec, rows: readonly Row[]) => {
        const statement = this.#prepare(
          `insert:${table.name}`,
          `insert into ${quoteIdent(table.name)} (${table.columns.map((c) => quoteIdent(c.name)).join(', ')})
           values (${table.columns.map(() => '?').join(', ')})`,
        );
        for (const row of rows) statement.run(table.columns.map((c) => this.#toSqlite(c.type, row[c.name] ?? null)));
      },
      update: async (table: TableSpec, key: string, column: string, pairs: readonly (readonly [string, string])[]) => {
        const statement = this.#prepare(
          `update:${table.name}:${column}`,
          `update ${quoteIdent(table.name)} set ${quoteIdent(column)} = ? where ${quoteIdent(key)} = ?`,
        );
        for (const [keyValue, value] of pairs) statement.run(value, keyValue);
      },
    };
  }

  #prepare(name: string, sql: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(name);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#statements.set(name, statement);
    }
    return statement;
  }

  #toSqlite(type: ColumnType, cell: Cell): Cell {
    if (cell === null) return null;
    if (type === 'boolean') return cell ? 1 : 0;
    if (type === 'timestamp' || type === 'timestamptz') {
      return this.timestamps === 'unixepoch-ms' ? cell : new Date(cell as number).toISOString();
    }
    return cell;
  }
}
