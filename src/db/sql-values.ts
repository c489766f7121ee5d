import { type RawBuilder, sql } from 'kysely';
import type { Dialect } from './database.js';

/** A JSON value as a parameter: `jsonb` on PostgreSQL, text on SQLite. */
export function json(ctx: { readonly dialect: Dialect }, value: unknown): RawBuilder<unknown> {
  const text = JSON.stringify(value);
  return ctx.dialect === 'postgres' ? sql`${text}::jsonb` : sql`${text}`;
}
