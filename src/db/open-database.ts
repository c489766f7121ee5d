import type { Database } from './database.js';
import { openPostgres } from './dialect/postgres/postgres-database.js';
import { openSqlite } from './dialect/sqlite/sqlite-database.js';

export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number };

export interface OpenDatabaseOptions {
  /** Pool-level errors (an idle connection killed by the server), which must not crash the process. */
  readonly onPoolError?: (error: Error) => void;
}

/** The one place that knows which dialects exist. */
export function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Database {
  switch (config.kind) {
    case 'postgres':
      return openPostgres({ url: config.url, poolSize: config.poolSize, onPoolError: options.onPoolError });
    case 'sqlite':
      return openSqlite({ path: config.path });
  }
}
