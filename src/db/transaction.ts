import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';
import type { OrgshiftTables } from './schema.js';
import { inWriteQueue } from './write-queue.js';

/**
 * Runs `fn` in a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so two
 * processes on one file serialize at the start instead of failing to upgrade a
 * read lock half-way through; Kysely's plain `begin` is deferred.
 */
export async function withWriteTransaction<T>(
  db: Database,
  fn: (trx: Kysely<OrgshiftTables>) => Promise<T>,
): Promise<T> {
  if (db.dialect === 'postgres') return db.kysely.transaction().execute(fn);
  return inWriteQueue(db.file, () =>
    db.kysely.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await fn(conn);
        await sql`commit`.execute(conn);
        return result;
      } catch (error) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw error;
      }
    }),
  );
}
