import type { Row } from '../db/database.js';
import type { PlannedUser } from '../migration/plan.js';
import type { MapModel, TargetField } from '../schema-map/map-model.js';
import { type OutboxEvent, type UserEventData, userEvent } from './outbox-event.js';

/**
 * The events of the three changes, built from what each transaction already
 * has in hand: the planned rows of a migration or sign-up, the rows a
 * rollback is about to delete. Only mapped columns go in, never a secret.
 */
export function migratedEvents(model: MapModel, users: readonly PlannedUser[]): OutboxEvent[] {
  return users.map((user) => userEvent('user.migrated', eventData(model, user.key, user.orgId, user.user, user.org)));
}

export function createdEvent(model: MapModel, user: PlannedUser): OutboxEvent {
  return userEvent('user.created', eventData(model, user.key, user.orgId, user.user, user.org));
}

/** `user` and `org` are the rows as they were before the rollback (either may be gone already). */
export function rolledBackEvent(model: MapModel, key: string, user: Row | null, org: Row | null): OutboxEvent {
  const orgId = org?.[model.org.id.column];
  return userEvent(
    'user.rolled_back',
    eventData(model, key, orgId == null ? '' : String(orgId), user ?? {}, org ?? {}),
  );
}

function eventData(model: MapModel, key: string, orgId: string, user: Row, org: Row): UserEventData {
  const userColumns = [
    model.user.id,
    model.user.currentOrg,
    model.user.email,
    model.user.displayName,
    model.user.migratedAt,
    ...plainColumns(model.user.fields),
  ];
  const orgColumns = [model.org.id.column, model.org.kind?.column, model.org.owner, ...plainColumns(model.org.fields)];
  return { userId: key, orgId, user: pick(user, userColumns), org: pick(org, orgColumns) };
}

function plainColumns(fields: readonly TargetField[]): string[] {
  return fields.filter((f) => f.source.kind !== 'secret').map((f) => f.column);
}

function pick(row: Row, columns: readonly (string | null | undefined)[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const column of columns) {
    if (column == null || !(column in row)) continue;
    const value = row[column];
    picked[column] = typeof value === 'bigint' ? value.toString() : value;
  }
  return picked;
}
