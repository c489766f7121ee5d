import { randomUUID } from 'node:crypto';

export const OUTBOX_EVENT_TYPES = ['user.migrated', 'user.created', 'user.rolled_back'] as const;

export type OutboxEventType = (typeof OUTBOX_EVENT_TYPES)[number];

/**
 * The user and its personal org as the schema map names them: every mapped
 * column of the target user and org rows, keyed by column name, except those
 * whose value is a secret (this leaves the process).
 */
export interface UserEventData {
  /** The user key, as text. */
  readonly userId: string;
  /** The personal org's id, as text. */
  readonly orgId: string;
  readonly user: Readonly<Record<string, unknown>>;
  readonly org: Readonly<Record<string, unknown>>;
}

/** An event as a migration, sign-up or rollback writes it, in the transaction of that change. */
export interface OutboxEvent {
  /** The idempotency key: every delivery of this event, to any destination, carries it. */
  readonly id: string;
  readonly type: OutboxEventType;
  readonly occurredAt: Date;
  readonly userId: string;
  readonly orgId: string;
  readonly data: UserEventData;
}

/** What a webhook receives as its body and a handler as its argument. */
export interface OrgshiftEvent {
  readonly id: string;
  readonly type: OutboxEventType;
  /** ISO-8601, UTC. */
  readonly occurredAt: string;
  readonly data: UserEventData;
}

export function userEvent(type: OutboxEventType, data: UserEventData): OutboxEvent {
  return Object.freeze({
    id: randomUUID(),
    type,
    occurredAt: new Date(),
    userId: data.userId,
    orgId: data.orgId,
    data: Object.freeze({ ...data }),
  });
}

export function isOutboxEventType(value: unknown): value is OutboxEventType {
  return typeof value === 'string' && (OUTBOX_EVENT_TYPES as readonly string[]).includes(value);
}
