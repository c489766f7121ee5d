import type { Database } from '../../db/database.js';
import type { MapSql } from '../../db/map-sql.js';

const FIRST_REFRESH = 1_000;

/**
 * Keeps the planner's picture of every table the backfill writes current
 * while it fills them, and once more when the run ends.
 *
 * During the run: the organization side starts empty, and once PostgreSQL
 * has statistics saying so (a VACUUM or ANALYZE before the backfill), every
 * foreign-key check the migration triggers is planned as a scan of a table
 * believed empty: each user then costs time proportional to the users before
 * it. At the end: the legacy table's statistics still say every row is
 * pending, and the audit that usually follows a backfill was measured at
 * 30 s instead of 10 s on a million users for that reason alone. Autovacuum
 * would re-analyze eventually (if it is on; CI databases often turn it off).
 *
 * ANALYZE at 1 000, 10 000, 100 000 … users migrated by this run and at the
 * end costs a few hundred milliseconds a time (it samples) and invalidates
 * the cached plans so they are made again. Its lock conflicts with no DML,
 * but it does wait behind a VACUUM of the same table (say an anti-wraparound
 * autovacuum of the legacy table), and DDL queued behind a waiting ANALYZE
 * would block the live traffic on that table: so it gives up after
 * LOCK_TIMEOUT instead of waiting. A role that may not analyze these tables
 * gets a warning from PostgreSQL, not an error; any failure here is ignored,
 * since it only costs speed.
 */
export class StatisticsRefresh {
  readonly #db: Database;
  #next = FIRST_REFRESH;
  /** Users migrated by this run so far, and when the last refresh happened. */
  #migrated = 0;
  #analyzedAt = 0;

  readonly #tables: readonly string[];

  constructor(db: Database, m: MapSql) {
    this.#db = db;
    const dependents = m.model.dependents.flatMap((d) => [
      m.table(d.table),
      ...(d.copyTo ? [m.table(d.copyTo.table)] : []),
    ]);
    this.#tables = [...new Set([m.org, m.user, m.membership, m.legacy, ...dependents])];
  }

  async after(migrated: number): Promise<void> {
    this.#migrated = migrated;
    if (migrated < this.#next) return;
    while (this.#next <= migrated) this.#next *= 10;
    await this.#analyze();
  }

  /** The run is over: whatever it changed since the last refresh is analyzed now. */
  async finish(): Promise<void> {
    if (this.#migrated > this.#analyzedAt) await this.#analyze();
  }

  async #analyze(): Promise<void> {
    this.#analyzedAt = this.#migrated;
    // Failures only cost speed, and the database gives up quickly on a lock (see Database.analyze).
    await this.#db.analyze(this.#tables).catch(() => undefined);
  }
}
