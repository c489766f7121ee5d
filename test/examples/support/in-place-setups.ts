import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import type { FixtureTarget } from '../../../examples/in-place/generate.js';
import { internalsOf, type Orgshift } from '../../../src/orgshift.js';
import { createTestDatabase, hasPostgres } from '../../support/services.js';

/** A database for the in-place (Prisma) fixture: its URL for orgshift, and where the fixture writes. */
export interface InPlaceSetup {
  readonly url: string;
  readonly target: FixtureTarget;
  close(): Promise<void>;
}

/** The same end-to-end checks run on SQLite and on PostgreSQL (when it is there). */
export const IN_PLACE_SETUPS: readonly {
  readonly name: string;
  readonly available: boolean;
  create(name: string): Promise<InPlaceSetup>;
}[] = [
  {
    name: 'SQLite',
    available: true,
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'orgshift-in-place-'));
      const file = join(dir, 'kanbu.db');
      const db = new Database(file);
      return {
        url: `sqlite:${file}`,
        target: { kind: 'sqlite', db },
        async close() {
          db.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    available: hasPostgres,
    async create(name) {
      const database = await createTestDatabase(name);
      const pool = new pg.Pool({ connectionString: database.url, max: 2 });
      return {
        url: database.url,
        target: { kind: 'postgres', pool },
        async close() {
          await pool.end();
          await database.drop();
        },
      };
    },
  },
];

/** A query written with `?` placeholders, on orgshift's own connection (the same spelling on both databases). */
export async function rowsOf(
  orgshift: Orgshift,
  text: string,
  ...params: unknown[]
): Promise<Record<string, unknown>[]> {
  const { db } = internalsOf(orgshift);
  const parts = text.split('?');
  const query = sql.join(
    parts.map((part, i) => (i < params.length ? sql`${sql.raw(part)}${db.sql.bindValue(params[i])}` : sql.raw(part))),
    sql``,
  );
  return (await sql<Record<string, unknown>>`${query}`.execute(db.kysely)).rows;
}
