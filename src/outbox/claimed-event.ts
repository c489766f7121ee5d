import type { ClaimedRow } from '../db/dialect/outbox-sql.js';
import type { OrgshiftEvent, OutboxEventType, UserEventData } from './outbox-event.js';

/** An event this dispatcher holds the lease of, ready to deliver. */
export interface ClaimedEvent {
  readonly event: OrgshiftEvent;
  readonly occurredAt: Date;
  /** Attempts so far, this one included. */
  readonly attempt: number;
  /** Keys of the destinations that already have the event (from earlier, partly failed attempts). */
  readonly deliveredTo: readonly string[];
  /** The claim's lease token: a failure is recorded only while the lease is still ours. */
  readonly token: string;
}

/** PostgreSQL hands back Date, jsonb as objects and uuid as text; SQLite hands back text for all of them. */
export function decodeClaimedRow(row: ClaimedRow, token: string): ClaimedEvent {
  const occurredAt = row.occurred_at instanceof Date ? row.occurred_at : new Date(String(row.occurred_at));
  const data = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as UserEventData;
  const deliveredTo = typeof row.delivered_to === 'string' ? JSON.parse(row.delivered_to) : row.delivered_to;
  return {
    event: Object.freeze({
      id: String(row.id),
      // An event type this version does not know still goes to webhooks; handlers filter by type.
      type: String(row.type) as OutboxEventType,
      occurredAt: occurredAt.toISOString(),
      data,
    }),
    occurredAt,
    attempt: Number(row.attempts),
    deliveredTo: Array.isArray(deliveredTo) ? deliveredTo.map(String) : [],
    token,
  };
}
