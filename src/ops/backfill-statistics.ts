import { sql } from 'kysely';
import type { Database } from '../db/database.js';

const FIRST_REFRESH = 1_000;

/**
 * Keeps the planner's picture of the organization side current while the
 * backfill fills it. Those tables start empty, and once PostgreSQL has
 * statistics saying so (a VACUUM or ANALYZE before the backfill), every
 * foreign-key check the migration triggers is planned as a scan of a table
 * believed empty: each user then costs time proportional to the users before
 * it. Autovacuum would re-analyze eventually (if it is on; CI databases often
 * turn it off). ANALYZE at 1 000, 10 000, 100 000 … users migrated by this
 * run costs a few hundred milliseconds in all, takes no lock that DML waits
 * for, and invalidates the cached plans so they are made again.
 *
 * A role that may not analyze these tables gets a warning from PostgreSQL,
 * not an error; any failure here is ignored, since it only costs speed.
 */
export class StatisticsRefresh {
  readonly #db: Database;
  #next = FIRST_REFRESH;

  constructor(db: Database) {
    this.#db = db;
  }

  async after(migrated: number): Promise<void> {
    if (this.#db.dialect !== 'postgres' || migrated < this.#next) return;
    while (this.#next <= migrated) this.#next *= 10;
    await sql`analyze orgs, users, org_members`.execute(this.#db.kysely).catch(() => undefined);
  }
}
