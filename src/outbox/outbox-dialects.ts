import type { Dialect } from '../db/database.js';
import type { OutboxSql } from './outbox-sql.js';
import { postgresOutboxSql } from './postgres-outbox-sql.js';
import { sqliteOutboxSql } from './sqlite-outbox-sql.js';

const BY_DIALECT: Readonly<Record<Dialect, OutboxSql>> = Object.freeze({
  postgres: postgresOutboxSql,
  sqlite: sqliteOutboxSql,
});

export function outboxSqlFor(dialect: Dialect): OutboxSql {
  return BY_DIALECT[dialect];
}
