import type { Database } from '../db/database.js';
import type { MapSql } from '../db/map-sql.js';
import { hasIndexOn } from '../schema-map/catalog.js';
import { tablesOf } from '../schema-map/schema-check.js';
import { labelOf } from '../schema-map/table-name.js';

/**
 * Every foreign key of the mapped tables must be indexed: PostgreSQL does
 * not index the referencing side, and without the index every anti-join of
 * the audit and every delete of a parent becomes a scan. Read from the
 * catalog, so a dropped or forgotten index shows up as `fk_unindexed` with
 * `table(column, …)` in the sample.
 */
export async function unindexedForeignKeys(db: Database, m: MapSql): Promise<string[]> {
  const catalog = await db.catalog.describe(tablesOf(m.model));
  const found = new Set<string>();
  for (const name of tablesOf(m.model)) {
    const table = catalog.get(name);
    if (table === undefined) continue;
    for (const fk of table.foreignKeys) {
      if (!hasIndexOn(table, fk.columns)) found.add(`${labelOf(table.name)}(${fk.columns.join(', ')})`);
    }
  }
  return [...found].sort();
}
