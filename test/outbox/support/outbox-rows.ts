import { sql } from 'kysely';
import type { Orgshift } from '../../../src/orgshift.js';
import { dbOf } from '../../support/internals.js';

export interface OutboxRow {
  readonly seq: number;
  readonly id: string;
  readonly type: string;
  readonly user_id: string;
  readonly attempts: number;
  readonly delivered: boolean;
  readonly dead: boolean;
  readonly last_error: string | null;
  readonly delivered_to: string;
  readonly payload: string;
}

/** Every outbox row, in seq order, with timestamps reduced to flags and JSON as text on both dialects. */
export async function outboxRows(orgshift: Orgshift, userId?: string): Promise<OutboxRow[]> {
  const filter = userId === undefined ? sql`` : sql`where user_id = ${userId}`;
  const result = await sql<Record<string, unknown>>`
    select seq, id, type, user_id, attempts, delivered_at, dead_at, last_error, delivered_to, payload
    from orgshift_outbox ${filter} order by seq`.execute(dbOf(orgshift).kysely);
  return result.rows.map((row) => ({
    seq: Number(row.seq),
    id: String(row.id),
    type: String(row.type),
    user_id: String(row.user_id),
    attempts: Number(row.attempts),
    delivered: row.delivered_at !== null,
    dead: row.dead_at !== null,
    last_error: row.last_error === null ? null : String(row.last_error),
    delivered_to: typeof row.delivered_to === 'string' ? row.delivered_to : JSON.stringify(row.delivered_to),
    payload: typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload),
  }));
}

/** Polls `read` until `test` accepts its value, or fails after `ms` with the last value seen. */
export async function eventually<T>(read: () => Promise<T>, test: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!test(value)) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${ms} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}
