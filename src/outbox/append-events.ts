import type { QueryExecutorProvider } from 'kysely';
import type { SqlDialect } from '../db/dialect/dialect.js';
import type { OutboxEvent } from './outbox-event.js';

/**
 * Writes events into the outbox inside the caller's transaction, so they
 * exist exactly when the change they describe commits: a rolled-back
 * migration leaves no event behind, and a committed one always has its
 * event. One statement for any number of events (a backfill batch writes
 * hundreds), so it costs the transaction one round trip.
 */
export async function appendEvents(
  executor: QueryExecutorProvider,
  dialect: SqlDialect,
  events: readonly OutboxEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await dialect.outbox.append(eventsJson(events)).execute(executor);
}

function eventsJson(events: readonly OutboxEvent[]): string {
  return JSON.stringify(
    events.map((event) => ({
      id: event.id,
      type: event.type,
      occurred_at: event.occurredAt.toISOString(),
      user_id: event.userId,
      org_id: event.orgId,
      payload: event.data,
    })),
  );
}
