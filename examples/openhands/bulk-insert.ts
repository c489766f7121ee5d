import type pg from 'pg';

/** A column and the PostgreSQL array type its values travel in. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
}

export type Row = Readonly<Record<string, unknown>>;

/**
 * One INSERT per call, however many rows: each column travels as one array
 * parameter and `unnest` turns the arrays back into rows, so the statement
 * never meets the 65,535-parameter limit of multi-row VALUES.
 */
export async function insertRows(
  client: pg.ClientBase,
  table: string,
  columns: readonly ColumnSpec[],
  rows: readonly Row[],
): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map((column) => quote(column.name)).join(', ');
  const arrays = columns.map((column, index) => `$${index + 1}::${column.type}[]`).join(', ');
  const values = columns.map((column) => rows.map((row) => row[column.name] ?? null));
  await client.query(`INSERT INTO ${quote(table)} (${names}) SELECT * FROM unnest(${arrays})`, values);
}

/** Moves an identity or serial sequence past the ids the fixture chose itself. */
export async function advanceSequence(client: pg.ClientBase, table: string): Promise<void> {
  await client.query(
    `SELECT setval(pg_get_serial_sequence($1, 'id'), coalesce(max(id), 1), max(id) IS NOT NULL) FROM ${quote(table)}`,
    [quote(table)],
  );
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
