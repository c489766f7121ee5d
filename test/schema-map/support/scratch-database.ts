import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Database } from '../../../src/db/database.js';
import { openDatabase } from '../../../src/db/open-database.js';
import { createTestDatabase, hasPostgres } from '../../support/services.js';

/** A fresh, empty database of one dialect, opened, with the URL the CLI takes. */
export interface ScratchDatabase {
  readonly url: string;
  readonly db: Database;
  run(statements: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface ScratchDialect {
  readonly name: 'SQLite' | 'PostgreSQL';
  readonly available: boolean;
  create(label: string): Promise<ScratchDatabase>;
}

function scratch(url: string, db: Database, drop: () => Promise<void>): ScratchDatabase {
  return {
    url,
    db,
    async run(statements) {
      for (const statement of statements) await sql.raw(statement).execute(db.kysely);
    },
    async close() {
      await db.close();
      await drop();
    },
  };
}

export const SCRATCH_DIALECTS: readonly ScratchDialect[] = [
  {
    name: 'SQLite',
    available: true,
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'orgshift-schema-'));
      const path = join(dir, 'scratch.db');
      return scratch(`sqlite:${path}`, openDatabase({ kind: 'sqlite', path }), async () =>
        rmSync(dir, { recursive: true, force: true }),
      );
    },
  },
  {
    name: 'PostgreSQL',
    available: hasPostgres,
    async create(label) {
      const test = await createTestDatabase(label);
      return scratch(test.url, openDatabase({ kind: 'postgres', url: test.url, poolSize: 2 }), () => test.drop());
    },
  },
];

/** The CLI as a user runs it (a fresh tsx process; seconds each on a loaded machine). */
export function orgshiftCli(args: readonly string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
