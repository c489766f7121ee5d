import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { type CatalogSnapshot, columnOf, hasIndexOn } from '../schema-map/catalog.js';
import type { MapModel } from '../schema-map/map-model.js';
import { inspectMap, tablesOf } from '../schema-map/schema-check.js';
import type { QualifiedName } from '../schema-map/table-name.js';
import type { Database, Executor } from './database.js';
import { translateDatabaseError } from './database-errors.js';
import type { SqlDialect } from './dialect/dialect.js';
import { derivedMigrated, keyAsColumn } from './map-sql.js';
import { OWN_SCHEMA, VERSIONS_TABLE, versionsTable } from './own-schema.js';

export interface MigrateReport {
  /** orgshift's own schema steps applied by this call (empty when up to date). */
  readonly applied: readonly string[];
  /** Statements run on the team's tables, each one opted into by the map. */
  readonly changes: readonly string[];
}

export interface MigrateOptions {
  /** Compute and report, write nothing. */
  readonly dryRun?: boolean;
  /** Runs first in the same transaction (the demo's own tables). */
  readonly before?: (trx: Executor) => Promise<void>;
}

/** Thrown inside the transaction of a dry run so that it rolls back. */
class DryRun extends Error {
  constructor(readonly report: MigrateReport) {
    super('dry run');
  }
}

/**
 * Creates or upgrades orgshift's own tables, and changes the team's tables
 * only where the map opts in (a marker column with `add`, marking the rows
 * already migrated as it is added; a dependent's org column with `add`; the
 * index each needs). One transaction: on
 * PostgreSQL a failure leaves nothing behind. Idempotent, and safe from
 * several processes at once (they queue on a lock).
 */
export async function migrateSchema(
  db: Database,
  model: MapModel,
  options: MigrateOptions = {},
): Promise<MigrateReport> {
  try {
    return await db.writeTransaction(async (trx) => {
      if (db.sql.migrationLock !== null) await sql.raw(db.sql.migrationLock).execute(trx);
      await options.before?.(trx);
      await sql.raw(versionsTable(db.sql)).execute(trx);
      const done = new Set(
        (await sql<{ name: string }>`select name from ${sql.raw(VERSIONS_TABLE)}`.execute(trx)).rows.map((r) => r.name),
      );
      const applied: string[] = [];
      for (const step of OWN_SCHEMA) {
        if (done.has(step.name)) continue;
        for (const statement of step.statements(db.sql)) await sql.raw(statement).execute(trx);
        await sql`insert into ${sql.raw(VERSIONS_TABLE)} (name) values (${step.name})`.execute(trx);
        applied.push(step.name);
      }
      const changes = await optInChanges(db, trx, model);
      for (const statement of changes) await sql.raw(statement).execute(trx);
      const indexes = model.createIndexes ? await missingIndexes(db, trx, model) : [];
      for (const statement of indexes) await sql.raw(statement).execute(trx);
      changes.push(...indexes);
      const report: MigrateReport = Object.freeze({ applied: Object.freeze(applied), changes: Object.freeze(changes) });
      if (options.dryRun) throw new DryRun(report);
      return report;
    });
  } catch (error) {
    if (error instanceof DryRun) return error.report;
    throw translateDatabaseError(db, error);
  }
}

/** The statements the map allows and the catalog says are still needed. */
async function optInChanges(db: Database, trx: Executor, model: MapModel): Promise<string[]> {
  const d = db.sql;
  const catalog = await db.catalogOn(trx).describe(tablesOf(model));
  const changes: string[] = [];
  const marker = model.legacy.marker;
  const legacy = catalog.get(model.legacy.table);
  if (marker.type !== 'derived' && marker.add && legacy !== undefined) {
    const type = marker.type === 'timestamp' ? d.types.timestamp : d.types.boolean;
    if (columnOf(legacy, marker.column) === undefined) {
      changes.push(d.addColumn(d.table(model.legacy.table), d.quote(marker.column), type));
      changes.push(markMigratedRows(d, model, catalog));
    }
    const pendingIndex = indexName(model.legacy.table, 'pending');
    // Only when missing: even `if not exists` takes a share lock on a live table, and a
    // process that starts (serve, backfill) beside running migrations would deadlock with them.
    if (!legacy.indexes.some((index) => index.name === pendingIndex)) {
      const pending =
        marker.type === 'timestamp' ? `${d.quote(marker.column)} is null` : `${d.quote(marker.column)} is not true`;
      // Lets the backfill page through the pending tail without scanning the migrated head.
      changes.push(
        `create index if not exists ${pendingIndex} on ${d.table(model.legacy.table)} (${d.quote(model.legacy.key.column)}) where ${pending}`,
      );
    }
  }
  const org = catalog.get(model.org.table);
  const orgId = org === undefined ? undefined : columnOf(org, model.org.id.column);
  for (const dependent of model.dependents) {
    if (!dependent.org?.add) continue;
    const table = catalog.get(dependent.table);
    if (table === undefined || orgId === undefined) continue;
    const column = d.quote(dependent.org.column);
    if (columnOf(table, dependent.org.column) === undefined) {
      changes.push(
        d.addColumn(
          d.table(dependent.table),
          column,
          `${orgId.type} references ${d.table(model.org.table)} (${d.quote(model.org.id.column)})`,
        ),
      );
    }
    if (!hasIndexOn(table, [dependent.org.column])) {
      changes.push(
        `create index if not exists ${indexName(dependent.table, dependent.org.column)} on ${d.table(dependent.table)} (${column})`,
      );
    }
  }
  return changes;
}

/**
 * A marker column starts NULL on every row, which would make every row
 * pending, and the backfill would fail the users already in the new shape
 * (native sign-ups, users the application migrated itself: their target
 * rows exist). In the transaction that adds it, the rows already migrated as
 * a derived marker defines it (moved: a user row has the key; in place: the
 * org column is set) are marked. In place they are not recorded as orgshift's
 * migrations, so verification sees them as native.
 */
function markMigratedRows(d: SqlDialect, model: MapModel, catalog: CatalogSnapshot): string {
  const marker = model.legacy.marker;
  if (marker.type === 'derived') throw new TypeError('a derived marker has no column to set');
  const legacy = catalog.get(model.legacy.table);
  const user = catalog.get(model.user.table);
  const keyAs = (key: string) =>
    keyAsColumn(d, legacy && columnOf(legacy, model.legacy.key.column), user && columnOf(user, model.user.id), key);
  const value = marker.type === 'timestamp' ? d.now : d.trueLiteral;
  return `update ${d.table(model.legacy.table)} as l set ${d.quote(marker.column)} = ${value} where ${derivedMigrated(model, d, keyAs, 'l')}`;
}

/**
 * The non-unique indexes `schema check` asks for (keys, foreign keys, the
 * columns a migration looks rows up by), when the map lets orgshift create
 * them. Unique ones are never created: they would change what the
 * application may write.
 */
async function missingIndexes(db: Database, trx: Executor, model: MapModel): Promise<string[]> {
  const { problems } = await inspectMap(model, db.catalogOn(trx));
  return problems
    .filter((p) => p.severity === 'index' && p.fix !== undefined)
    .map((p) => (p.fix as string).replace(/^create index /, 'create index if not exists ').replace(/;$/, ''));
}

/** Short, stable and orgshift's own: `orgshift_<hash>`, within every database's name limit. */
function indexName(table: QualifiedName, what: string): string {
  const hash = createHash('sha1')
    .update(`${table.schema ?? ''}.${table.name}.${what}`)
    .digest('hex')
    .slice(0, 12);
  return `orgshift_${what === 'pending' ? 'pending' : 'org'}_${hash}`;
}
