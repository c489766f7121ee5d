import { type RawBuilder, sql } from 'kysely';
import type { Dialect } from './database.js';

/** A JSON value as a parameter: `jsonb` on PostgreSQL, text on SQLite. */
export function json(ctx: { readonly dialect: Dialect }, value: unknown): RawBuilder<unknown> {
  const text = JSON.stringify(value);
  return ctx.dialect === 'postgres' ? sql`${text}::jsonb` : sql`${text}`;
}

/** A timestamp as a parameter: a Date on PostgreSQL, ISO-8601 text on SQLite. */
export function timestamp(ctx: { readonly dialect: Dialect }, value: Date): RawBuilder<unknown> {
  return ctx.dialect === 'postgres' ? sql`${value}` : sql`${value.toISOString()}`;
}
