import type { QualifiedName } from './table-name.js';

/**
 * What orgshift reads from the database's own catalog: enough to type the
 * values it writes, to check a map against the live schema (`schema check`),
 * to draft one (`schema init`), and to find every row that references a row
 * a rollback would delete. One implementation per dialect.
 */
export type TypeFamily =
  | 'text'
  | 'uuid'
  | 'integer'
  | 'bigint'
  | 'numeric'
  | 'boolean'
  | 'timestamp'
  | 'timestamptz'
  | 'date'
  | 'json'
  | 'jsonb'
  | 'bytes'
  | 'other';

export interface ColumnInfo {
  readonly name: string;
  /** The type as the database spells it (PostgreSQL's format_type, SQLite's declared type). */
  readonly type: string;
  readonly family: TypeFamily;
  readonly nullable: boolean;
  readonly hasDefault: boolean;
  /** Identity, serial or generated: the database fills it. */
  readonly generated: boolean;
}

export interface IndexInfo {
  readonly name: string;
  /** Key columns in order; an expression index lists none. */
  readonly columns: readonly string[];
  readonly unique: boolean;
  readonly partial: boolean;
  readonly primary: boolean;
}

export type OnDelete = 'cascade' | 'set null' | 'set default' | 'restrict' | 'no action';

export interface ForeignKeyInfo {
  readonly name: string;
  readonly table: QualifiedName;
  readonly columns: readonly string[];
  readonly references: QualifiedName;
  readonly referencedColumns: readonly string[];
  readonly onDelete: OnDelete;
}

export interface TableInfo {
  /** Schema filled in (the default schema for unqualified names). */
  readonly name: QualifiedName;
  readonly columns: readonly ColumnInfo[];
  readonly indexes: readonly IndexInfo[];
  readonly foreignKeys: readonly ForeignKeyInfo[];
}

/** The tables a describe() found, looked up by the names the map uses. */
export interface CatalogSnapshot {
  /** The schema unqualified names resolve to (PostgreSQL: current_schema(); SQLite: 'main'). */
  readonly defaultSchema: string;
  get(name: QualifiedName): TableInfo | undefined;
}

export interface Catalog {
  /** The tables that exist among `names`. */
  describe(names: readonly QualifiedName[]): Promise<CatalogSnapshot>;
  /** Every foreign key, in any table, that points at `table`. */
  referencing(table: QualifiedName): Promise<readonly ForeignKeyInfo[]>;
  /** Every user table (for `schema init`). */
  tables(): Promise<readonly QualifiedName[]>;
}

export function catalogKey(name: QualifiedName, defaultSchema: string): string {
  return `${name.schema ?? defaultSchema}\u0000${name.name}`;
}

export function snapshotOf(tables: ReadonlyMap<string, TableInfo>, defaultSchema: string): CatalogSnapshot {
  return Object.freeze({ defaultSchema, get: (name: QualifiedName) => tables.get(catalogKey(name, defaultSchema)) });
}

/** True when an index whose leading columns are exactly `columns` (in any order) exists and is not partial. */
export function hasIndexOn(table: TableInfo, columns: readonly string[], unique = false): boolean {
  return table.indexes.some(
    (index) =>
      !index.partial &&
      (!unique || index.unique || index.primary) &&
      index.columns.length >= columns.length &&
      sameSet(index.columns.slice(0, columns.length), columns) &&
      (!unique || index.columns.length === columns.length),
  );
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export function columnOf(table: TableInfo, name: string): ColumnInfo | undefined {
  return table.columns.find((c) => c.name === name);
}
