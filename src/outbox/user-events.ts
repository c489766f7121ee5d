import type { PlannedUser } from '../directory/migration-plan.js';
import { type OutboxEvent, type UserEventData, userEvent } from './outbox-event.js';

/**
 * The events of the three changes, built from what each transaction already
 * has in hand. A personal org's id is its user's id. Only mapped fields go
 * in: never a secret, encrypted or not.
 */
export function migratedEvents(users: readonly PlannedUser[]): OutboxEvent[] {
  return users.map((user) =>
    userEvent('user.migrated', {
      userId: user.id,
      orgId: user.id,
      email: user.email,
      displayName: user.displayName,
      orgName: user.orgName,
    }),
  );
}

export function createdEvent(data: UserEventData): OutboxEvent {
  return userEvent('user.created', data);
}

export function rolledBackEvent(data: UserEventData): OutboxEvent {
  return userEvent('user.rolled_back', data);
}
